"""Memory of a process tree from /proc (Linux): no psutil needed."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def parse_status(text: str) -> dict[str, int]:
    """The kB fields of /proc/<pid>/status (VmRSS, VmHWM, ...), in kB."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        parts = rest.split()
        if sep and len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            out[key] = int(parts[0])
    return out


def parse_ppid(stat: str) -> int:
    """The parent pid from /proc/<pid>/stat (the command may hold spaces and parens)."""
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def children_map(proc: Path = PROC) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = parse_ppid((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def tree(pid: int, proc: Path = PROC) -> list[int]:
    """`pid` and all its descendants."""
    kids = children_map(proc)
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def status(pid: int, proc: Path = PROC) -> dict[str, int]:
    try:
        return parse_status((proc / str(pid) / "status").read_text())
    except OSError:
        return {}


def tree_memory_kb(pid: int, proc: Path = PROC) -> dict[str, int]:
    """Current RSS and the sum of peak RSS (VmHWM) over the tree, in kB."""
    rss = hwm = 0
    for p in tree(pid, proc):
        s = status(p, proc)
        rss += s.get("VmRSS", 0)
        hwm += s.get("VmHWM", 0)
    return {"rss_kb": rss, "hwm_kb": hwm}


def parse_cpu_ticks(stat: str) -> int:
    """utime + stime (clock ticks) from /proc/<pid>/stat."""
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def tree_cpu_seconds(pid: int, proc: Path = PROC) -> float:
    """CPU time used so far by `pid` and its living descendants."""
    ticks = 0
    for p in tree(pid, proc):
        try:
            ticks += parse_cpu_ticks((proc / str(p) / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def self_peak_kb() -> int:
    return status(os.getpid()).get("VmHWM", 0)


class PeakSampler:
    """Samples the RSS of a process tree in a thread; keeps the peak of the sum.

    The kernel's VmHWM is exact per process but a sum of per-process peaks may
    exceed any moment's total; the sampled peak is the tree's total at one moment.
    """

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        import threading

        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.hwm_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _sample(self) -> None:
        m = tree_memory_kb(self.pid)
        self.peak_kb = max(self.peak_kb, m["rss_kb"])
        self.hwm_kb = max(self.hwm_kb, m["hwm_kb"])

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join(5)
            self._sample()

    def figures(self) -> dict[str, float]:
        return {"peak_rss_mb": self.peak_kb / 1024, "vmhwm_mb": self.hwm_kb / 1024}
