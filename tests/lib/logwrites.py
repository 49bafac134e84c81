# SPDX-License-Identifier: GPL-2.0
#
# Reading and replaying a dm-log-writes log.
#
# The kernel's log-writes target (Documentation/admin-guide/device-mapper/
# log-writes.rst) records every write to a device, in the order it
# reached stable storage as far as the device knows: a write that
# completed is logged only at the next flush (FLUSH entry, placed after
# it) unless it was itself FUA.  The log device holds, in units of the
# logged device's logical block size ("sector" below, 512 bytes here):
#
#   sector 0      super: le64 magic, le64 version, le64 nr_entries,
#                 le32 sectorsize
#   then, nr_entries times:
#     one sector  entry: le64 sector, le64 nr_sectors, le64 flags,
#                 le64 data_len; a mark's text follows in the same
#                 sector (data_len bytes)
#     nr_sectors  the data written (none for a discard, a mark, an empty
#                 flush)
#
# Log(path) indexes the entries (headers only; data is read when
# applied).  Replayer applies entries in order to an image file (the
# backing file of the replay device), and can apply a chosen part of
# the writes after a point and take them back (torn and lost writes).

import os
import struct

LOG_FLUSH = 1 << 0
LOG_FUA = 1 << 1
LOG_DISCARD = 1 << 2
LOG_MARK = 1 << 3
LOG_METADATA = 1 << 4

WRITE_LOG_MAGIC = 0x6a736677736872
WRITE_LOG_VERSION = 1

SUPER = struct.Struct('<QQQI')
ENTRY = struct.Struct('<QQQQ')


class LogError(Exception):
    pass


class Entry:
    __slots__ = ('index', 'sector', 'nr_sectors', 'flags', 'data_off',
                 'mark')

    def __init__(self, index, sector, nr_sectors, flags, data_off, mark):
        self.index = index
        self.sector = sector            # in log sectors
        self.nr_sectors = nr_sectors
        self.flags = flags
        self.data_off = data_off        # byte offset of the data in the log
        self.mark = mark                # text of a mark, else None

    @property
    def is_write(self):
        return (self.nr_sectors and
                not self.flags & (LOG_MARK | LOG_DISCARD))

    @property
    def is_barrier(self):
        """A FLUSH or FUA entry: a point a crash may cut the log at."""
        return bool(self.flags & (LOG_FLUSH | LOG_FUA))

    def describe(self):
        f = [n for b, n in ((LOG_FLUSH, 'FLUSH'), (LOG_FUA, 'FUA'),
                            (LOG_DISCARD, 'DISCARD'), (LOG_MARK, 'MARK'),
                            (LOG_METADATA, 'META')) if self.flags & b]
        if self.mark is not None:
            return 'entry %d: mark "%s"' % (self.index, self.mark)
        if not self.nr_sectors:
            return 'entry %d: %s' % (self.index, '|'.join(f) or 'empty')
        return 'entry %d: %s sectors %d+%d' % (
            self.index, '|'.join(f) or 'write', self.sector,
            self.nr_sectors)


class Log:
    def __init__(self, path):
        self.path = path
        self.f = open(path, 'rb', buffering=0)
        sup = self.f.read(SUPER.size)
        if len(sup) < SUPER.size:
            raise LogError('%s: too short for a log' % path)
        magic, version, nr, ss = SUPER.unpack(sup)
        if magic != WRITE_LOG_MAGIC:
            raise LogError('%s: not a dm-log-writes log (magic %#x)' %
                           (path, magic))
        if version != WRITE_LOG_VERSION:
            raise LogError('%s: log version %d, not %d' %
                           (path, version, WRITE_LOG_VERSION))
        if ss < 512 or ss & (ss - 1):
            raise LogError('%s: bad sector size %d' % (path, ss))
        self.sectorsize = ss
        self.entries = []
        off = ss
        size = os.fstat(self.f.fileno()).st_size
        for i in range(nr):
            if off + ss > size:
                raise LogError('%s: entry %d at byte %d is past the end' %
                               (path, i, off))
            self.f.seek(off)
            head = self.f.read(ss)
            sector, nsec, flags, dlen = ENTRY.unpack_from(head)
            mark = None
            if flags & LOG_MARK:
                if dlen > ss - ENTRY.size:
                    raise LogError('%s: entry %d: mark of %d bytes' %
                                   (path, i, dlen))
                mark = head[ENTRY.size:ENTRY.size + dlen].decode(
                    errors='replace')
            off += ss
            e = Entry(i, sector, nsec, flags, off, mark)
            if e.is_write:
                off += nsec * ss
                if off > size:
                    raise LogError('%s: entry %d: data past the end' %
                                   (path, i))
            self.entries.append(e)

    def data(self, e, first=0, count=None):
        """The data of write entry e, sectors first..first+count."""
        if count is None:
            count = e.nr_sectors - first
        self.f.seek(e.data_off + first * self.sectorsize)
        b = self.f.read(count * self.sectorsize)
        if len(b) != count * self.sectorsize:
            raise LogError('%s: short read of entry %d' % (self.path,
                                                            e.index))
        return b

    def close(self):
        self.f.close()


class Replayer:
    """Entries applied, in order, to an image file (opened read-write):
    apply_to(n) makes the image hold entries [0, n).  apply_part() adds
    some sectors of later writes, undo_part() takes them back."""

    def __init__(self, log, image):
        self.log = log
        self.ss = log.sectorsize
        self.fd = os.open(image, os.O_RDWR)
        self.pos = 0            # entries [0, pos) are applied
        self.saved = []         # (offset, old bytes) of apply_part
        self.skip = set()       # indexes of entries not to apply
        self.zero = bytes(1 << 20)

    def _write(self, off, data):
        n = os.pwrite(self.fd, data, off)
        if n != len(data):
            raise LogError('short write to the replay image at %d' % off)

    def _discard(self, off, n):
        # A discarded range reads back as zeroes on the devices used
        # here (loop devices over tmpfs punch holes).
        while n > 0:
            k = min(n, len(self.zero))
            self._write(off, self.zero[:k])
            off += k
            n -= k

    def apply_to(self, n):
        assert not self.saved and n >= self.pos
        for e in self.log.entries[self.pos:n]:
            if e.index in self.skip:
                continue
            if e.flags & LOG_DISCARD:
                self._discard(e.sector * self.ss, e.nr_sectors * self.ss)
            elif e.is_write:
                self._write(e.sector * self.ss, self.log.data(e))
        self.pos = n

    def apply_part(self, pieces):
        """pieces: [(entry, first sector, count)] of write entries after
        pos, applied in the order given; undo_part() restores."""
        for e, first, count in pieces:
            off = (e.sector + first) * self.ss
            old = os.pread(self.fd, count * self.ss, off)
            self.saved.append((off, old))
            if e.flags & LOG_DISCARD:
                self._discard(off, count * self.ss)
            else:
                self._write(off, self.log.data(e, first, count))

    def undo_part(self):
        for off, old in reversed(self.saved):
            self._write(off, old)
        self.saved = []

    def read(self, off, n):
        return os.pread(self.fd, n, off)

    def close(self):
        os.close(self.fd)
