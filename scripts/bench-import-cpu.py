#!/usr/bin/env python3
"""Where an import's time goes: per phase, its wall time and the CPU seconds of each thread.

Usage: scripts/bench-import-cpu.py BIN FILE [DATA_DIR]

Runs `BIN import --data-dir DATA_DIR FILE` into a fresh data directory (a temporary one
unless DATA_DIR is given; removed afterwards unless given), samples
/proc/PID/task/*/stat every 0.1 s and prints, for the store phase ("read and stored in")
and the index builds of a bulk load, the CPU seconds per thread name, the share of the
phase's wall time the store's writer thread was busy, and the CPU no sample saw (threads
that ended between samples). Later threads with the name of an earlier one (SQLite's
sorter helpers, started by the writer) are shown as "NAME helpers". Linux only; figures
in docs/PERFORMANCE.md.
"""
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TICK = os.sysconf("SC_CLK_TCK")


def ticks(stat_path):
    """utime + stime of one /proc stat file (fields 14 and 15, after the comm)."""
    with open(stat_path) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def sample(pid, seen):
    """Process ticks and {tid: ticks} now (None once the process is gone); `seen` gets the
    label of each new thread: its name, with " helpers" for later threads of a name seen
    before (the SQLite sorter threads a writer starts)."""
    try:
        total = ticks(f"/proc/{pid}/stat")
        threads = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                if tid not in seen:
                    with open(f"/proc/{pid}/task/{tid}/comm") as f:
                        name = f.read().strip()
                    known = set(seen.values())
                    seen[tid] = name if name not in known else name + " helpers"
                threads[tid] = ticks(f"/proc/{pid}/task/{tid}/stat")
            except FileNotFoundError:
                continue
        return total, threads
    except (FileNotFoundError, ProcessLookupError):
        return None


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    binary, path = sys.argv[1], sys.argv[2]
    keep = len(sys.argv) == 4
    data = sys.argv[3] if keep else tempfile.mkdtemp(prefix="kctx-import-cpu.")
    if keep and os.path.exists(data):
        sys.exit(f"{data} exists: give a fresh data directory")
    series = []  # (seconds since start, process ticks, {tid: ticks so far})
    seen = {}  # tid -> label
    start = time.monotonic()
    proc = subprocess.Popen(
        [binary, "import", "--data-dir", data, path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    last = None
    known = {}  # tid -> ticks at its last sample (threads that ended keep theirs)
    while proc.poll() is None:
        s = sample(proc.pid, seen)
        if s is not None:
            known.update(s[1])
            last = (time.monotonic() - start, s[0], dict(known))
            series.append(last)
        time.sleep(0.1)
    out, err = proc.communicate()
    wall = time.monotonic() - start
    if not keep:
        shutil.rmtree(data, ignore_errors=True)
    print((out + err).strip().splitlines()[-1] if (out + err).strip() else "(no output)")
    if proc.returncode != 0:
        print(err, file=sys.stderr)
        sys.exit(f"import exited with {proc.returncode}")
    m = re.search(r"read and stored in ([\d.]+) s, history indexes built in ([\d.]+) s", err + out)
    if not m or not series:
        sys.exit("not a bulk load (no 'read and stored in' line) or too short to sample")
    stored, built = float(m.group(1)), float(m.group(2))
    # The store phase ends `stored` seconds after the import's start (opening the store
    # before it takes milliseconds); the last sample before the process ended closes the
    # index phase.
    cut = min(series, key=lambda r: abs(r[0] - stored))
    zero = (0.0, 0, {})
    labels = sorted(set(seen.values()))

    def by_label(r):
        out = collections.Counter()
        for tid, t in r[2].items():
            out[seen[tid]] += t
        return out

    print(f"wall {wall:.1f} s; store phase {stored:.1f} s, index builds {built:.1f} s (as the import printed)")
    print(
        f"{'phase':<13} {'wall s':>6} "
        + " ".join(f"{n[:22]:>22}" for n in labels)
        + f" {'unsampled':>9} {'all':>6} {'writer busy':>11}"
    )
    for label, a, b in (("store", zero, cut), ("index builds", cut, last)):
        span = b[0] - a[0]
        ca, cb = by_label(a), by_label(b)
        per = {n: (cb[n] - ca[n]) / TICK for n in labels}
        total = (b[1] - a[1]) / TICK
        unsampled = total - sum(per.values())
        busy = per.get("store-writer", 0.0) / span if span > 0 else 0.0
        print(
            f"{label:<13} {span:6.1f} "
            + " ".join(f"{per[n]:22.1f}" for n in labels)
            + f" {unsampled:9.1f} {total:6.1f} {busy:11.0%}"
        )
    print("CPU seconds per thread; unsampled: CPU of threads between their last sample and their end")


if __name__ == "__main__":
    main()
