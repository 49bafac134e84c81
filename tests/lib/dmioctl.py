# SPDX-License-Identifier: GPL-2.0
#
# dmioctl: device-mapper driven through ioctls on /dev/mapper/control,
# the way dmsetup does it, from one Python process.  In the emulated test
# guest a process costs a good part of a second, and a test or benchmark
# makes hundreds of devices, messages and status queries.
#
#   ctl = DMControl()
#   dev = ctl.create('name', [(0, sectors, 'linear', '1:0 0')])
#   ctl.message('name', 'snapshot create 1')
#   ctl.status('name')          # like "dmsetup status name"
#   ctl.suspend('name'); ctl.resume('name'); ctl.remove('name')
#
# A table is a list of (start, length, type, params) or the text of a
# dmsetup table.  Tables name their devices as "major:minor"; create()
# returns the "major:minor" of the new device, node() its devtmpfs node
# (/dev/dm-N) and mapper_node() makes /dev/mapper/<name>, as "dmsetup
# mknodes" does (the test guest runs no udev).  Every failing ioctl
# raises OSError (the kernel log says why).  The layout of struct dm_ioctl and struct dm_target_spec is
# include/uapi/linux/dm-ioctl.h.

import errno
import fcntl
import os
import stat
import struct
import sys
import time

DM_IOCTL_SIZE = 312     # struct dm_ioctl
DM_IOCTL = struct.Struct('<3IIIIiIII Q128s129s7x')
DM_SPEC = struct.Struct('<QQiI16s')     # struct dm_target_spec
assert DM_IOCTL.size == DM_IOCTL_SIZE

# Commands (enum in dm-ioctl.h) and flags.
DM_DEV_CREATE_CMD = 3
DM_DEV_REMOVE_CMD = 4
DM_DEV_SUSPEND_CMD = 6
DM_DEV_STATUS_CMD = 7
DM_TABLE_LOAD_CMD = 9
DM_TABLE_STATUS_CMD = 12
DM_TARGET_MSG_CMD = 14

DM_READONLY_FLAG = 1 << 0
DM_SUSPEND_FLAG = 1 << 1
DM_STATUS_TABLE_FLAG = 1 << 4
DM_BUFFER_FULL_FLAG = 1 << 8
DM_NOFLUSH_FLAG = 1 << 11
DM_QUERY_INACTIVE_TABLE_FLAG = 1 << 12
DM_DATA_OUT_FLAG = 1 << 16

# Fields of the unpacked struct dm_ioctl.
F_DATA_START, F_TARGET_COUNT, F_OPEN_COUNT, F_FLAGS, F_DEV = 4, 5, 6, 7, 10

MAPPER = '/dev/mapper'


def dm_ioctl_nr(cmd):
    """_IOWR(0xfd, cmd, struct dm_ioctl)"""
    return (3 << 30) | (DM_IOCTL_SIZE << 16) | (0xfd << 8) | cmd


def parse_table(text):
    """[(start, length, type, params)] of the text of a dmsetup table."""
    out = []
    for line in text.strip().splitlines():
        f = line.split(None, 3)
        if len(f) < 3:
            raise ValueError('bad table line %r' % line)
        out.append((int(f[0]), int(f[1]), f[2], f[3] if len(f) > 3 else ''))
    return out


def pack_table(targets):
    """The payload of DM_TABLE_LOAD: [(start, length, type, params)]."""
    out = bytearray()
    for start, length, ttype, params in targets:
        p = params.encode() + b'\0'
        p += b'\0' * (-(DM_SPEC.size + len(p)) % 8)
        out += DM_SPEC.pack(start, length, 0, DM_SPEC.size + len(p),
                            ttype.encode())
        out += p
    return bytes(out)


class DMControl:
    def __init__(self):
        self.fd = os.open('/dev/mapper/control', os.O_RDWR)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def call(self, cmd, name, payload=b'', flags=0, target_count=0):
        """(unpacked struct dm_ioctl, buffer) of one ioctl on a device."""
        size = 16384
        while True:
            buf = bytearray(max(size, DM_IOCTL_SIZE + len(payload)))
            DM_IOCTL.pack_into(buf, 0, 4, 0, 0, len(buf), DM_IOCTL_SIZE,
                               target_count, 0, flags, 0, 0, 0,
                               name.encode(), b'')
            buf[DM_IOCTL_SIZE:DM_IOCTL_SIZE + len(payload)] = payload
            fcntl.ioctl(self.fd, dm_ioctl_nr(cmd), buf)
            f = DM_IOCTL.unpack_from(buf)
            if f[F_FLAGS] & DM_BUFFER_FULL_FLAG:
                size *= 4
                continue
            return f, buf

    # -- devices and tables

    def create(self, name, targets, activate=True, readonly=False):
        """Make device name with a table; returns its "major:minor".  With
        activate=False the table stays inactive (status(name,
        inactive=True) reads it) until resume(name)."""
        f, _ = self.call(DM_DEV_CREATE_CMD, name)
        dev = f[F_DEV]
        try:
            self.load(name, targets, readonly)
            if activate:
                self.resume(name)
        except OSError:
            try:
                self.remove(name)
            except OSError:
                pass
            raise
        return '%d:%d' % (os.major(dev), os.minor(dev))

    def load(self, name, targets, readonly=False):
        """Load an inactive table; resume() makes it live."""
        if isinstance(targets, str):
            targets = parse_table(targets)
        self.call(DM_TABLE_LOAD_CMD, name, pack_table(targets),
                  DM_READONLY_FLAG if readonly else 0, len(targets))

    def suspend(self, name, noflush=False):
        self.call(DM_DEV_SUSPEND_CMD, name, flags=DM_SUSPEND_FLAG |
                  (DM_NOFLUSH_FLAG if noflush else 0))

    def resume(self, name):
        self.call(DM_DEV_SUSPEND_CMD, name)

    def reload(self, name, targets, noflush=False):
        """Suspend, load a table, resume."""
        self.suspend(name, noflush)
        try:
            self.load(name, targets)
        finally:
            self.resume(name)

    def remove(self, name, tries=1):
        """Remove device name (and its /dev/mapper node, if any); with
        tries > 1 a busy device is tried again every 0.1 s, for whatever
        holds it open for a moment.  A device that is gone is fine."""
        for i in range(tries):
            try:
                self.call(DM_DEV_REMOVE_CMD, name)
                break
            except OSError as e:
                if e.errno == errno.ENXIO:
                    break
                if e.errno != errno.EBUSY or i == tries - 1:
                    raise
                time.sleep(0.1)
        try:
            os.unlink('%s/%s' % (MAPPER, name))
        except FileNotFoundError:
            pass

    def exists(self, name):
        try:
            self.call(DM_DEV_STATUS_CMD, name)
        except FileNotFoundError:
            return False
        except OSError as e:
            if e.errno == 6:    # ENXIO
                return False
            raise
        return True

    def devno(self, name):
        f, _ = self.call(DM_DEV_STATUS_CMD, name)
        return '%d:%d' % (os.major(f[F_DEV]), os.minor(f[F_DEV]))

    def info(self, name):
        """(open count, suspended, "major:minor"), or None when there is
        no such device."""
        try:
            f, _ = self.call(DM_DEV_STATUS_CMD, name)
        except OSError as e:
            if e.errno == errno.ENXIO:
                return None
            raise
        return (f[F_OPEN_COUNT], bool(f[F_FLAGS] & DM_SUSPEND_FLAG),
                '%d:%d' % (os.major(f[F_DEV]), os.minor(f[F_DEV])))

    def mapper_node(self, name):
        """/dev/mapper/<name>, made (or made right) for the device."""
        f, _ = self.call(DM_DEV_STATUS_CMD, name)
        path = '%s/%s' % (MAPPER, name)
        try:
            st = os.stat(path)
            if stat.S_ISBLK(st.st_mode) and st.st_rdev == f[F_DEV]:
                return path
            os.unlink(path)
        except FileNotFoundError:
            pass
        os.mknod(path, stat.S_IFBLK | 0o600, f[F_DEV])
        return path

    @staticmethod
    def node(devno, wait=5.0):
        """The devtmpfs node of a device-mapper "major:minor"; devtmpfs
        makes it shortly after the device appears."""
        path = '/dev/dm-%s' % devno.split(':')[1]
        end = time.monotonic() + wait
        while not os.path.exists(path):
            if time.monotonic() > end:
                raise OSError('no device node %s' % path)
            time.sleep(0.01)
        return path

    # -- messages and status

    def message(self, name, msg, sector=0):
        """Send a target message; returns its answer."""
        payload = struct.pack('<Q', sector) + msg.encode() + b'\0'
        f, buf = self.call(DM_TARGET_MSG_CMD, name, payload)
        if not f[F_FLAGS] & DM_DATA_OUT_FLAG:
            return ''
        out = bytes(buf[f[F_DATA_START]:])
        return out[:out.index(b'\0')].decode()

    def status(self, name, table=False, inactive=False):
        """Like dmsetup status [--inactive] <name> (or dmsetup table with
        table=True): "<start> <length> <type> <params>", one line per
        target."""
        flags = DM_STATUS_TABLE_FLAG if table else 0
        if inactive:
            flags |= DM_QUERY_INACTIVE_TABLE_FLAG
        f, buf = self.call(DM_TABLE_STATUS_CMD, name, flags=flags)
        lines = []
        pos = f[F_DATA_START]
        for _ in range(f[F_TARGET_COUNT]):
            start, length, _, nxt, ttype = DM_SPEC.unpack_from(buf, pos)
            params = bytes(buf[pos + DM_SPEC.size:])
            params = params[:params.index(b'\0')].decode()
            ttype = ttype.rstrip(b'\0').decode()
            lines.append('%d %d %s%s' % (start, length, ttype,
                                         ' ' + params if params else ''))
            pos = f[F_DATA_START] + nxt
        return '\n'.join(lines)


def main(argv):
    """dmioctl.py message <device>: send each line of standard input to
    the device as a message, from this one process; stop at the first
    refused one (its errno is the exit status)."""
    if len(argv) != 3 or argv[1] != 'message':
        print('usage: dmioctl.py message <device> < messages', file=sys.stderr)
        return 2
    ctl = DMControl()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            out = ctl.message(argv[2], line)
        except OSError as e:
            print('dmioctl.py: %s: %r: %s' % (argv[2], line, e.strerror),
                  file=sys.stderr)
            return e.errno or 1
        if out:
            print(out)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
