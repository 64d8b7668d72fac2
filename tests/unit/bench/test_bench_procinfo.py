"""Memory of a process tree from /proc."""

import os
from pathlib import Path

from bench import procinfo

STATUS = """Name:\tpython
State:\tS (sleeping)
Pid:\t42
VmPeak:\t  900000 kB
VmHWM:\t  512000 kB
VmRSS:\t  400000 kB
Threads:\t9
"""


def test_parse_status_reads_the_kb_fields() -> None:
    s = procinfo.parse_status(STATUS)
    assert s["VmHWM"] == 512000 and s["VmRSS"] == 400000 and s["VmPeak"] == 900000
    assert "Threads" not in s and "Name" not in s


def test_parse_ppid_survives_spaces_and_parens_in_the_command() -> None:
    assert procinfo.parse_ppid("123 (a (b) c) S 77 123 123 0 -1") == 77


def fake_proc(root: Path, procs: dict[int, tuple[int, int, int]]) -> Path:
    """pid -> (ppid, rss kB, hwm kB)"""
    for pid, (ppid, rss, hwm) in procs.items():
        d = root / str(pid)
        d.mkdir(parents=True)
        (d / "stat").write_text(f"{pid} (x y) S {ppid} 0 0")
        (d / "status").write_text(f"VmHWM:\t{hwm} kB\nVmRSS:\t{rss} kB\n")
    (root / "self").mkdir()
    return root


def test_tree_memory_sums_the_process_and_its_descendants(tmp_path: Path) -> None:
    proc = fake_proc(
        tmp_path, {10: (1, 100, 150), 11: (10, 20, 30), 12: (11, 5, 5), 20: (1, 999, 999)}
    )
    assert sorted(procinfo.tree(10, proc)) == [10, 11, 12]
    assert procinfo.tree_memory_kb(10, proc) == {"rss_kb": 125, "hwm_kb": 185}
    assert procinfo.status(99, proc) == {}


def test_sampler_on_this_process() -> None:
    with procinfo.PeakSampler(os.getpid(), interval=0.01) as s:
        pass
    f = s.figures()
    assert f["peak_rss_mb"] > 1 and f["vmhwm_mb"] >= f["peak_rss_mb"] * 0.5
