# SPDX-License-Identifier: GPL-2.0
#
# bench_report: the tables and the plot of a vm-bench run, from its
# results.json (tests/bench/vm-bench calls it at the end; run it again
# by hand with "python3 tests/bench/bench_report.py DIR").
#
# Writes into DIR:
#   results.csv       one line per case, every figure measured
#   results.md        absolute figures, ratios ssnap / raw, ssnap /
#                     classic, ssnap / thin, and the goals
#   first-write.png   first-write throughput against the number of
#                     snapshots, each system and chunk size (gnuplot)
# and prints the ratio table and the goals.
#
# Ratios are between figures of the same run, so they hold better than
# the absolute figures when the host is busy.

import csv
import json
import os
import subprocess
import sys

SYSTEMS = ['raw', 'ssnap', 'classic', 'thin']

# The raw twin of each figure: the same kind of job on the origin slice
# itself, run just before it in the same case (vm-bench).
TWIN = {'seq_write_mbps': 'raw_seq_over_mbps',
        'rand_write_iops': 'raw_rand_over_iops',
        'seq_over_mbps': 'raw_seq_over_mbps',
        'rand_over_iops': 'raw_rand_over_iops',
        'seq_read_mbps': 'raw_seq_read_mbps',
        'rand_read_iops': 'raw_rand_read_iops',
        'snap_seq_read_mbps': 'raw_seq_read_mbps',
        'snap_rand_read_iops': 'raw_rand_read_iops',
        'chunk_read_iops': 'raw_chunk_read_iops',
        'chunk_write_iops': 'raw_chunk_write_iops'}
# Where there is no twin: the raw case's figure.
RAW_KEY = {'snap_seq_read_mbps': 'seq_read_mbps',
           'snap_rand_read_iops': 'rand_read_iops'}
PEERS = ['raw', 'classic', 'thin']


def fmt(v):
    if v is None:
        return '–'
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    a = abs(v)
    if a >= 100:
        return '%.0f' % v
    if a >= 10:
        return '%.1f' % v
    return '%.2f' % v


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return a / b


class Results:
    def __init__(self, data):
        self.meta = data['meta']
        self.rows = data['rows']
        self.by = {(r['system'], r['chunk_kib'], r['n']): r
                   for r in self.rows}
        self.chunks = sorted({r['chunk_kib'] for r in self.rows},
                             reverse=True)
        self.ns = sorted({r['n'] for r in self.rows})

    def row(self, system, chunk, n):
        if system == 'raw':
            n = 0
        return self.by.get((system, chunk, n))

    def get(self, system, chunk, n, key):
        """A figure, or None when the case did not give one."""
        r = self.row(system, chunk, n)
        if not r or 'error' in r or 'skipped' in r:
            return None
        return r.get(key)

    def cell(self, system, chunk, n, key):
        """A figure for a table: the number, or why there is none."""
        r = self.row(system, chunk, n)
        if r is None:
            return 'not run'
        if 'skipped' in r:
            return 'n/a (%s)' % r['skipped']
        if 'error' in r:
            return 'FAILED'
        return fmt(r.get(key))

    def raw_ref(self, system, chunk, n, key):
        """The raw figure to compare a figure with: its twin measured
        in the same case, else the raw case's."""
        v = self.get(system, chunk, n, TWIN[key]) if key in TWIN else None
        if v is None:
            v = self.get('raw', chunk, 0, RAW_KEY.get(key, key))
        return v

    def ns_of(self, system, chunk, skipped=False):
        """The snapshot counts of a system's cases (skipped ones too if
        asked)."""
        return [n for n in self.ns if (system, chunk, n) in self.by and
                (skipped or 'skipped' not in self.by[(system, chunk, n)])]

    def skipped(self):
        """Lines saying which cases were not run and why."""
        seen = {}
        for r in self.rows:
            if 'skipped' in r:
                seen.setdefault((r['system'], r['chunk_kib'], r['skipped']),
                                []).append(r['n'])
        return ''.join('%s, %d KiB chunks: not run (%s).\n\n' % k
                       for k in seen)


# ---------------------------------------------------------------------
# the physical bound of a first write: one chunk read, one chunk write,
# the origin write, at the rates the raw device showed in the same case

def bound_seq(res, system, chunk, n):
    """MB/s of 1 MiB first writes: for each byte written, one byte read
    and two written, at the raw 1 MiB rates (the copies of a 1 MiB write
    may be sent together, so I/O of the write's size is the fastest way
    to move the data)."""
    r = res.raw_ref(system, chunk, n, 'seq_read_mbps')
    w = res.raw_ref(system, chunk, n, 'seq_over_mbps')
    if not r or not w:
        return None
    return 1.0 / (1.0 / r + 2.0 / w)


def bound_rand(res, system, chunk, n):
    """IOPS of 4 KiB first writes: a chunk-sized read and write and a 4
    KiB write, each at the raw rate of I/O of that size sent one at a
    time (a lone write's copy has nothing to go with)."""
    cr = res.raw_ref(system, chunk, n, 'chunk_read_iops')
    cw = res.raw_ref(system, chunk, n, 'chunk_write_iops')
    iops = res.raw_ref(system, chunk, n, 'rand_over_iops')
    if not cr or not cw or not iops:
        return None
    return 1.0 / (1.0 / cr + 1.0 / cw + 1.0 / iops)


def of_bound(res, system, chunk, n, key):
    """A system's first writes as a fraction of their bound."""
    if not n:       # nothing is copied: no bound to compare with
        return None
    return ratio(res.get(system, chunk, n, key),
                 BOUNDS[key](res, system, chunk, n))


BOUNDS = {'seq_write_mbps': bound_seq, 'rand_write_iops': bound_rand}


# ---------------------------------------------------------------------
# tables

def table(head, lines):
    out = ['| ' + ' | '.join(head) + ' |',
           '|' + '|'.join(' --- ' for _ in head) + '|']
    for line in lines:
        out.append('| ' + ' | '.join(line) + ' |')
    return '\n'.join(out) + '\n'


def first_write_table(res, chunk, key, unit):
    head = ['N', 'raw ' + unit, 'ssnap', 'classic', 'thin',
            'ssnap / raw', 'ssnap / classic', 'ssnap / thin',
            'ssnap of bound', 'classic of bound', 'thin of bound',
            'classic MiB written']
    lines = []
    for n in res.ns:
        if not any((s, chunk, n) in res.by for s in SYSTEMS):
            continue
        s = res.get('ssnap', chunk, n, key)
        line = [str(n)] + [res.cell(p, chunk, n, key) for p in SYSTEMS]
        line.append(fmt(ratio(s, res.raw_ref('ssnap', chunk, n, key))))
        line += [fmt(ratio(s, res.get(p, chunk, n, key)))
                 for p in PEERS[1:]]
        line += [fmt(of_bound(res, p, chunk, n, key))
                 for p in ('ssnap', 'classic', 'thin')]
        line.append(fmt(res.get('classic', chunk, n, 'region_mib')))
        lines.append(line)
    return table(head, lines)


OVER_READ = [('seq_over_mbps', 'seq overwrite MB/s'),
             ('rand_over_iops', 'rand overwrite IOPS'),
             ('seq_read_mbps', 'origin seq read MB/s'),
             ('rand_read_iops', 'origin rand read IOPS'),
             ('snap_seq_read_mbps', 'snapshot seq read MB/s'),
             ('snap_rand_read_iops', 'snapshot rand read IOPS')]
OVER_READ_GOAL = ['seq_over_mbps', 'rand_over_iops', 'seq_read_mbps',
                  'rand_read_iops']


def over_read_table(res, chunk):
    head = ['system', 'N'] + [h for _, h in OVER_READ]
    lines = []
    for s in SYSTEMS:
        for n in res.ns_of(s, chunk):
            line = [s, str(n)]
            for key, _ in OVER_READ:
                c = res.cell(s, chunk, n, key)
                q = ratio(res.get(s, chunk, n, key),
                          res.raw_ref(s, chunk, n, key))
                if q is not None and s != 'raw':
                    c += ' (%.2f)' % q
                line.append(c)
            lines.append(line)
            if s == 'raw' and res.get(s, chunk, 0, 'stacked_seq_over_mbps'):
                lines.append(['raw + dm-linear', '0'] + [
                    stacked_cell(res, chunk, key) for key, _ in OVER_READ])
    return table(head, lines)


def stacked_cell(res, chunk, key):
    """A figure of the dm-linear device over the raw one, and its ratio
    to the raw job run just before it."""
    v = res.get('raw', chunk, 0, 'stacked_' + key)
    q = ratio(v, res.get('raw', chunk, 0, key))
    return fmt(v) + (' (%.2f)' % q if q is not None else '')


def one_layer(res, chunk):
    """The lowest ratio of a dm-linear over raw to raw, over the
    overwrite and read jobs: what one more dm layer costs here."""
    qs = [ratio(res.get('raw', chunk, 0, 'stacked_' + k),
                res.get('raw', chunk, 0, k)) for k in OVER_READ_GOAL]
    qs = [q for q in qs if q is not None]
    return min(qs) if qs else None


LATENCY = [('create_first_ms', 'create, first'),
           ('create_last_ms', 'create, last'),
           ('create_max_ms', 'create, max'),
           ('create_fill_ms', 'create, store holding the copies'),
           ('delete_ms', 'delete'),
           ('reclaim_ms', 'space back after the last delete')]


def latency_table(res):
    head = ['system', 'chunk KiB', 'N'] + [h + ' ms' for _, h in LATENCY]
    lines = []
    for s in SYSTEMS[1:]:
        for chunk in res.chunks:
            for n in res.ns_of(s, chunk):
                if n == 0:
                    continue
                lines.append([s, str(chunk), str(n)] +
                             [res.cell(s, chunk, n, k) for k, _ in LATENCY])
    return table(head, lines)


COST = [('copied', 'chunks first written'),
        ('meta_bytes_per_chunk', 'metadata B / chunk'),
        ('slab_bytes_per_chunk', 'slab B / chunk'),
        ('slab_kib', 'slab growth KiB'),
        ('mem_kib', 'free memory drop KiB'),
        ('cpu_us_per_chunk', 'CPU µs / chunk'),
        ('fio_sys_us_per_chunk', 'of which fio sys µs')]


WHOLE = [('whole_copied', 'chunks copied'),
         ('whole_meta_kib', 'metadata KiB'),
         ('whole_meta_bytes_per_chunk', 'metadata B / chunk'),
         ('whole_slab_kib', 'slab growth KiB'),
         ('whole_slab_bytes_per_chunk', 'slab B / chunk'),
         ('whole_mem_kib', 'free memory drop KiB')]


def whole_table(res):
    head = ['system', 'chunk KiB'] + [h for _, h in WHOLE]
    lines = []
    for s in SYSTEMS[1:]:
        for chunk in res.chunks:
            if 1 in res.ns_of(s, chunk):
                lines.append([s, str(chunk)] +
                             [res.cell(s, chunk, 1, k) for k, _ in WHOLE])
    return table(head, lines)


def cost_table(res):
    head = ['system', 'chunk KiB', 'N'] + [h for _, h in COST]
    lines = []
    for s in SYSTEMS:
        for chunk in res.chunks:
            for n in res.ns_of(s, chunk):
                lines.append([s, str(chunk), str(n)] +
                             [res.cell(s, chunk, n, k) for k, _ in COST])
    return table(head, lines)


RATIOS = [('seq_write_mbps', 'first seq', PEERS),
          ('rand_write_iops', 'first rand', PEERS),
          ('seq_over_mbps', 'overwrite seq', ['raw']),
          ('rand_over_iops', 'overwrite rand', ['raw']),
          ('seq_read_mbps', 'origin read seq', ['raw']),
          ('rand_read_iops', 'origin read rand', ['raw']),
          ('create_last_ms', 'create latency', ['classic', 'thin'])]


def ratio_table(res):
    head = ['chunk KiB', 'N']
    for _, name, peers in RATIOS:
        head += ['%s / %s' % (name, p) for p in peers]
    lines = []
    for chunk in res.chunks:
        for n in res.ns_of('ssnap', chunk):
            if n == 0:
                continue
            line = [str(chunk), str(n)]
            for key, _, peers in RATIOS:
                s = res.get('ssnap', chunk, n, key)
                line += [fmt(ratio(s, res.raw_ref('ssnap', chunk, n, key)
                                   if p == 'raw' else
                                   res.get(p, chunk, n, key)))
                         for p in peers]
            lines.append(line)
    return table(head, lines)


# ---------------------------------------------------------------------
# the goals, as measured (nothing here fails a run)

def verdict(ok):
    if ok is None:
        return 'no figure'
    return 'met' if ok else 'NOT met'


def goals(res):
    out = []
    for chunk in res.chunks:
        ns = [n for n in res.ns_of('ssnap', chunk) if n > 0]
        if not ns:
            continue
        out.append('Chunk %d KiB, ssnap with N = %s:\n' %
                   (chunk, ', '.join(map(str, ns))))
        for key, what, unit in (
                ('seq_write_mbps', 'sequential 1 MiB', 'MB/s'),
                ('rand_write_iops', 'random 4 KiB', 'IOPS')):
            vals = [res.get('ssnap', chunk, n, key) for n in ns]
            vals = [v for v in vals if v is not None]
            fracs = [of_bound(res, 'ssnap', chunk, n, key) for n in ns]
            fracs = [f for f in fracs if f is not None]
            c1 = res.get('classic', chunk, 1, key)
            if vals and c1:
                worst = min(vals) / c1
                out.append('- first writes, %s: the slowest N is %.2f x '
                           "classic's with one snapshot (%s %s): %s" %
                           (what, worst, fmt(c1), unit,
                            verdict(worst >= 1.0)))
            else:
                out.append('- first writes, %s: against classic with one '
                           'snapshot: no figure' % what)
            if len(vals) > 1:
                spread = (max(vals) - min(vals)) / max(vals)
                out.append('- first writes, %s: %s to %s %s from N = %d to '
                           '%d, spread %.0f %% (goal: within 15 %%): %s' %
                           (what, fmt(min(vals)), fmt(max(vals)), unit,
                            ns[0], ns[-1], 100 * spread,
                            verdict(spread <= 0.15)))
            if fracs:
                c1 = of_bound(res, 'classic', chunk, 1, key)
                out.append('- first writes, %s: %.0f %% to %.0f %% of the '
                           'physical bound (chunk read + chunk write + '
                           'origin write at the raw rates of the same case; '
                           'goal: 70 %%; classic with one snapshot: %s): %s'
                           % (what, 100 * min(fracs), 100 * max(fracs),
                              '%.0f %%' % (100 * c1) if c1 else
                              'no figure', verdict(min(fracs) >= 0.7)))
        worst = None
        for key in OVER_READ_GOAL:
            for n in ns:
                q = ratio(res.get('ssnap', chunk, n, key),
                          res.raw_ref('ssnap', chunk, n, key))
                if q is not None and (worst is None or q < worst[0]):
                    worst = (q, key, n)
        if worst:
            layer = one_layer(res, chunk)
            out.append('- overwrites and origin reads: the lowest is '
                       '%.2f x raw (%s, N = %d; goal: within 10 %%; one '
                       'more dm layer, dm-linear over raw: %s x): %s' %
                       (worst[0], worst[1], worst[2],
                        '%.2f' % layer if layer else 'no figure',
                        verdict(worst[0] >= 0.9)))
        big = ns[-1]
        first = res.get('ssnap', chunk, big, 'create_first_ms')
        last = res.get('ssnap', chunk, big, 'create_last_ms')
        fill = res.get('ssnap', chunk, big, 'create_fill_ms')
        if first and last and fill:
            worst = max(last, fill) / first
            out.append('- snapshot create, N = %d: %s ms for the first ten, '
                       '%s ms for the last ten, %s ms with the store '
                       'holding the copies; the slowest is %.2f x the '
                       'first (taken as independent of N and store size '
                       'within 1.5 x): %s' %
                       (big, fmt(first), fmt(last), fmt(fill), worst,
                        verdict(worst <= 1.5)))
        out.append('')
    return '\n'.join(out) + '\n'


def failures(res):
    out = []
    for r in res.rows:
        if 'error' in r:
            out.append('- %s, %d KiB chunks, N = %d: %s' %
                       (r['system'], r['chunk_kib'], r['n'], r['error']))
    return '\n'.join(out) + '\n' if out else ''


def markdown(res, summary):
    m = res.meta
    parts = ['# ssnap benchmark: %s\n' % ('quick run' if m.get('quick')
                                          else 'full run'),
             'Kernel %s (%s, %d CPU, %d MiB, crc32c by %s), backing %s, '
             'origin %d MiB; fio, direct I/O, psync, one job at a time.\n' %
             (m['kernel'], m['machine'], m['cpus'], m['mem_kib'] >> 10,
              m.get('crc32c', '?'), m['backing'], m['origin_mib']),
             'First writes: 1 MiB sequential writes over region A, then '
             'one random 4 KiB write in each of %d random chunks of region '
             'B (all of them if B has fewer), in random order, each '
             'copying its chunk. Regions A and B are each half the origin; '
             'for classic dm-snapshot with N > 1, origin / N each, to '
             'bound the memory of its N copies (column "classic MiB '
             'written"). Overwrites: region A again (1 MiB sequential, 4 '
             'KiB random), %g s each. Reads: the whole origin, and the '
             'newest snapshot, 1 MiB sequential and 4 KiB random, %g s '
             'each. Overwrite and read jobs run as %d interleaved slices, '
             'each next to its raw twin, and the fastest slice counts; '
             'first writes run as %d rounds over distinct chunks, and the '
             'fastest round counts. Ratios are ssnap / peer at the same N '
             'and chunk size '
             '(for latency, lower is better); raw has no snapshots, its '
             'figures serve every N. dm-thin runs with skip_block_zeroing.'
             '\n' % (m['rand_chunks'], m['seconds'], m['seconds'],
                     m.get('slices', 1), m.get('slices', 1))]
    parts.append('## Ratios\n\n' + summary['ratios'])
    parts.append('## Goals\n\n' + summary['goals'])
    fail = failures(res)
    if fail:
        parts.append('## Failures\n\n' + fail)
    for chunk in res.chunks:
        parts.append('## First writes, %d KiB chunks: sequential 1 MiB, '
                     'MB/s\n\n' % chunk +
                     first_write_table(res, chunk, 'seq_write_mbps', 'MB/s'))
        parts.append('## First writes, %d KiB chunks: random 4 KiB, '
                     'IOPS\n\n' % chunk +
                     first_write_table(res, chunk, 'rand_write_iops',
                                       'IOPS'))
    parts.append('"raw": the raw case\'s figures. "ssnap / raw": against '
                 'the raw twin jobs of the ssnap case (1 MiB sequential '
                 'and 4 KiB random writes on the origin slice itself, run '
                 'seconds later), the raw case where there is none. '
                 '"of bound": the fraction of the physical bound of '
                 'a first write (one chunk read, one chunk write, the '
                 'origin write) at the rates of raw twin jobs of the same '
                 'case: for sequential first writes 1 MiB sequential reads '
                 'and writes; for random ones chunk-sized random reads and '
                 'writes for the copy and 4 KiB random writes for the '
                 'origin write (fio sends each of these from user space, '
                 'so a system call per I/O counts against the device and '
                 'the bound is that much lower). "raw + dm-linear" (below): a dm-linear device over '
                 'the raw one, each job run next to its raw twin; every '
                 'other system\'s origin is one dm layer deeper than raw, '
                 'and this is what one layer costs.\n')
    for chunk in res.chunks:
        parts.append('## Overwrites and reads, %d KiB chunks (in '
                     'parentheses: / the raw twin job run just before, on '
                     'the origin slice itself)\n\n' % chunk +
                     over_read_table(res, chunk))
    parts.append('## Snapshot create and delete latency\n\n'
                 'Create: median of the first and of the last ten '
                 'creations (thin: suspend the origin, create_snap, resume; '
                 'classic: suspend the origin, make the snapshot device, '
                 'resume, its COW device made beforehand), then one more '
                 'with the store holding the copies. Delete: median over '
                 'every snapshot. Space back: from the last delete until '
                 'the store (ssnap: used chunks and deleting at 0) or the '
                 'pool (thin: used data blocks back to the origin\'s) has '
                 'it back; a classic COW device is free once its snapshot '
                 'is removed.\n\n' + latency_table(res))
    parts.append('## After copying the whole origin (one snapshot)\n\n'
                 'Metadata: ssnap meta_blocks, thin used metadata blocks, '
                 'classic metadata sectors, growth since before the first '
                 'writes. Memory: /proc/meminfo Slab and MemFree (page '
                 'cache dropped), growth since before the setup.\n\n' +
                 whole_table(res))
    parts.append('## Cost per copied chunk, each case\n\n'
                 'Measured around the first writes. CPU: fio\'s system '
                 'time plus kernel time outside fio (copy threads, '
                 'workqueues), per random 4 KiB first write (one chunk '
                 'each; for raw and N = 0 nothing is copied, the figure is '
                 'per write).\n\n' + cost_table(res))
    parts.append(res.skipped())
    return '\n'.join(parts)


def write_csv(res, path):
    keys = []
    for r in res.rows:
        for k, v in r.items():
            if k not in keys and not isinstance(v, list):
                keys.append(k)
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction='ignore')
        w.writeheader()
        for r in res.rows:
            w.writerow({k: ('%.6g' % v if isinstance(v, float) else v)
                        for k, v in r.items() if not isinstance(v, list)})


# ---------------------------------------------------------------------
# the plot

COLOURS = {'raw': '#000000', 'ssnap': '#d62728', 'classic': '#1f77b4',
           'thin': '#2ca02c'}


def plot(res, out_dir):
    """first-write.png; returns None, or why there is no plot.  A log
    scale: without snapshots no write copies, and the systems are ten
    times faster.  Solid lines 64 KiB chunks and up, dashed below."""
    ns = [n for n in res.ns]
    series = []
    for s in SYSTEMS:
        for chunk in res.chunks:
            pts = []
            for i, n in enumerate(ns):
                a = res.get(s, chunk, n, 'seq_write_mbps')
                b = res.get(s, chunk, n, 'rand_write_iops')
                if s == 'raw':
                    a = res.get(s, chunk, 0, 'seq_write_mbps')
                    b = res.get(s, chunk, 0, 'rand_write_iops')
                if a is not None:
                    pts.append('%d %d %g %g' % (i, n, a, b))
            if pts:
                series.append(('%s %d KiB' % (s, chunk), pts,
                               COLOURS[s], 1 if chunk >= 64 else 2))
    if not series:
        return 'no figures to plot'
    # gnuplot runs in out_dir, with relative names.
    dat = 'first-write.dat'
    with open(os.path.join(out_dir, dat), 'w') as f:
        f.write('# index N seq_MB/s rand_IOPS; one block per series\n')
        for name, pts, _, _ in series:
            f.write('# %s\n%s\n\n\n' % (name, '\n'.join(pts)))
    xt = ', '.join('"%d" %d' % (n, i) for i, n in enumerate(ns))
    m = res.meta
    title = 'first writes after N snapshots (%s, origin %d MiB, %s)' % (
        m['kernel'], m['origin_mib'], m['backing'])
    plots = []
    for col, ylabel in ((3, 'sequential 1 MiB, MB/s'),
                        (4, 'random 4 KiB, IOPS')):
        lines = ['"%s" index %d using 1:%d with linespoints lw 2 '
                 'lc rgb "%s" dt %d title "%s"' %
                 (dat, i, col, colour, dash, name)
                 for i, (name, _, colour, dash) in enumerate(series)]
        plots.append('set ylabel "%s"\nplot %s\n' % (ylabel,
                                                   ', '.join(lines)))
    script = ('set output "%s"\n'
              'set multiplot layout 1,2 title "%s"\n'
              'set xlabel "snapshots (N)"\n'
              'set xtics (%s)\n'
              'set logscale y\n'
              'set key outside bottom center horizontal\n'
              'set grid\n%s'
              'unset multiplot\n' %
              ('first-write.png', title, xt,
               ''.join(plots)))
    # pngcairo draws dashed lines; png (libgd) is the fallback.
    p = None
    for term in ('pngcairo size 1400,640 font ",10"', 'png size 1400,640'):
        with open(os.path.join(out_dir, 'first-write.gp'), 'w') as f:
            f.write('set terminal %s\n%s' % (term, script))
        try:
            p = subprocess.run(['gnuplot', 'first-write.gp'], cwd=out_dir,
                               stderr=subprocess.PIPE,
                               universal_newlines=True)
        except OSError as e:
            return ('gnuplot: %s (scripts/install-deps installs '
                    'gnuplot-nox)' % e)
        if p.returncode == 0:
            return None
    return 'gnuplot failed: %s' % p.stderr.strip()


def report(out_dir, stream=sys.stdout):
    with open(os.path.join(out_dir, 'results.json')) as f:
        res = Results(json.load(f))
    summary = {'ratios': ratio_table(res), 'goals': goals(res)}
    write_csv(res, os.path.join(out_dir, 'results.csv'))
    why = plot(res, out_dir)
    md = markdown(res, summary)
    if why:
        md += '\nNo plot: %s\n' % why
    else:
        md += '\n![first writes against N](first-write.png)\n'
    with open(os.path.join(out_dir, 'results.md'), 'w') as f:
        f.write(md)
    stream.write('\nRatios (ssnap / peer, same run):\n\n' +
                 summary['ratios'] + '\nGoals:\n\n' + summary['goals'])
    fail = failures(res)
    if fail:
        stream.write('Failures:\n\n' + fail)
    if why:
        stream.write('No plot: %s\n' % why)
    stream.write('Tables: %s\n' % os.path.relpath(
        os.path.join(out_dir, 'results.md')))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.stderr.write('usage: bench_report.py RESULTS_DIR\n')
        sys.exit(2)
    report(sys.argv[1])
