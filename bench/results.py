"""Result files and tables: what machine, which versions, which parameters, which figures."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PACKAGES = ("aiokafka", "chdb", "clickhouse-connect", "faust-streaming", "orjson", "msgspec")


def versions(packages: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def machine_info() -> dict[str, Any]:
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_mb": _memory_mb(),
        "python_executable": sys.executable,
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_mb() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def document(
    name: str,
    parameters: Mapping[str, Any],
    figures: Mapping[str, Any],
    targets: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
    machine: Mapping[str, Any] | None = None,
    package_versions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of one result file."""
    return {
        "benchmark": name,
        "timestamp": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "machine": dict(machine if machine is not None else machine_info()),
        "versions": dict(package_versions if package_versions is not None else versions()),
        "parameters": dict(parameters),
        "figures": dict(figures),
        "targets": dict(targets or {}),
    }


def write(doc: Mapping[str, Any], directory: Path = RESULTS_DIR) -> Path:
    """Write `<directory>/<benchmark>.json` atomically (a reader never sees half a file)."""
    name = str(doc["benchmark"])
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"not a usable result name: {name!r}")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n", "utf-8")
    os.replace(tmp, path)
    return path


def fmt(value: Any) -> str:
    """A figure for a table: thousands separators, 3 significant decimals, '-' for none."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])
