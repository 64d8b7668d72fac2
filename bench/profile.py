"""Profile of the worker during ingest: py-spy samples a `statflow worker` from its
first accepted batch until the last call is queryable (its own run over the same
pre-loaded topic, so the ingest figures stay unperturbed). Start-up is left out.

The collapsed stacks are saved as `bench/results/profile-ingest.collapsed.txt`
(open it in https://www.speedscope.app or feed it to flamegraph.pl) and summed
here into the hot path's stages and the functions with the most own time.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.ingest import Dataset, run_statflow
from bench.results import RESULTS_DIR

# Stages in priority order: a sample belongs to the first stage with a pattern
# found in its stack; "a&b" needs both a and b in the stack (in any frames).
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    # py-spy --nonblocking cannot always tell a thread waiting in epoll from a running one
    ("event loop waiting (select)", ("EpollSelector.select",)),
    ("checkpoint write", ("Checkpoints.put",)),
    ("seen-id lookup", ("EventSink.write&ClickHouseStore.query_rows", "ClickHouseStore.existing")),
    (
        "columnar insert (chDB + views)",
        ("ClickHouseStore.insert_columns", "ClickHouseStore.insert_arrow"),
    ),
    ("pause point (lease, heartbeat)", ("PausePoint", "PauseWatch")),
    ("build columns", ("call_columns", "arrow_table", "month_blocks", "EventSink.write")),
    ("decode + validate", ("decode_events",)),
    ("county lookup (redis)", ("LookupCache.county_of", "counties (agents/events.py")),
    ("dlq + kafka commit", ("DeadLetters.send", "AIOKafkaConsumer.commit")),
    ("lag metric", ("BatchLoop._report_lag",)),
    ("batch loop other", ("BatchLoop.", "until_written", "register_batched")),
    (
        "http api + /metrics",
        ("uvicorn/", "starlette/", "fastapi/", "web/", "reports/", "core/metrics"),
    ),
    ("kafka client (fetch, decompress)", ("aiokafka/",)),
    ("faust/mode (reference agents)", ("faust/", "mode/")),
    ("asyncio loop", ("asyncio/", "selectors.py")),
)


def parse_collapsed(lines: Iterable[str]) -> list[tuple[list[str], int]]:
    """`frame;frame;... count` lines (root first) into (frames, count)."""
    out = []
    for line in lines:
        line = line.rstrip("\n")
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        out.append((stack.split(";"), int(count)))
    return out


def stage_of(frames: Sequence[str], stages: Sequence[tuple[str, tuple[str, ...]]] = STAGES) -> str:
    text = "\n".join(frames)
    for name, patterns in stages:
        if any(all(part in text for part in p.split("&")) for p in patterns):
            return name
    return "other"


def summarise(stacks: Sequence[tuple[list[str], int]], top: int = 15) -> dict[str, Any]:
    total = sum(c for _, c in stacks) or 1
    stages: Counter[str] = Counter()
    own: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for frames, c in stacks:
        stages[stage_of(frames)] += c
        own[frames[-1]] += c
        if frames and frames[0].startswith(("process ", "thread ")):
            threads[frames[0]] += c
    return {
        "samples": total,
        "stages_pct": {k: round(100 * v / total, 1) for k, v in stages.most_common()},
        "top_own_pct": [[f, round(100 * c / total, 1)] for f, c in own.most_common(top)],
        "threads_pct": {k: round(100 * v / total, 1) for k, v in threads.most_common()},
    }


class PySpy:
    def __init__(self, out: Path, rate: int = 100) -> None:
        self.out = out
        self.rate = rate
        self.proc: subprocess.Popen[bytes] | None = None
        self.exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")

    def attach(self, pid: int) -> str:
        """Start sampling `pid`; retried while the interpreter is still starting."""
        cmd = [self.exe, "record", "--pid", str(pid), "--rate", str(self.rate), "--format", "raw",
               "--threads", "--function", "--nonblocking", "--output", str(self.out)]  # fmt: skip
        deadline = time.monotonic() + 30
        err = b""
        while time.monotonic() < deadline:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.2)
            if self.proc.poll() is None:
                return "attached"
            err = self.proc.stderr.read() if self.proc.stderr else b""
        raise RuntimeError(f"py-spy could not attach: {err.decode(errors='replace')[-500:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def run(ds: Dataset, out_dir: Path = RESULTS_DIR) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    collapsed = out_dir / "profile-ingest.collapsed.txt"
    spy = PySpy(collapsed)
    try:
        ingest = run_statflow(ds, label="profile", attach=spy.attach)
    finally:
        spy.stop()
        if ds.worker is not None:
            ds.worker.close()
    if not collapsed.exists():
        raise RuntimeError("py-spy wrote no profile")
    stacks = parse_collapsed(collapsed.read_text("utf-8", "replace").splitlines())
    ingest.pop("attached", None)
    return {
        "file": str(collapsed.relative_to(out_dir.parent.parent)),
        "py_spy": "record --rate 100 --format raw --threads --function --nonblocking",
        "ingest_while_sampled": ingest,
        **summarise(stacks),
    }


def rows(f: dict[str, Any]) -> list[list[Any]]:
    return [[k, v] for k, v in f["stages_pct"].items()]
