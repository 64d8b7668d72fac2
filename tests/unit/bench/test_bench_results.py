"""Result files and tables of the benchmarks."""

import datetime as dt
import json
from pathlib import Path

import pytest

from bench import results


def test_document_carries_machine_versions_parameters_figures_and_time() -> None:
    doc = results.document(
        "ingest",
        {"events": 100},
        {"events_per_s": 5.0},
        {"events/s": ">= 50000"},
        now=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        machine={"cpus": 2},
        package_versions={"python": "3.11.9"},
    )
    assert doc["benchmark"] == "ingest"
    assert doc["timestamp"] == "2026-01-02T03:04:05+00:00"
    assert doc["machine"] == {"cpus": 2} and doc["versions"] == {"python": "3.11.9"}
    assert doc["parameters"] == {"events": 100}
    assert doc["figures"] == {"events_per_s": 5.0}
    assert doc["targets"] == {"events/s": ">= 50000"}


def test_real_machine_info_and_versions() -> None:
    v = results.versions()
    assert str(v["python"]).startswith("3.")
    assert set(results.PACKAGES) <= set(v)
    assert {"aiokafka", "chdb", "clickhouse-connect", "faust-streaming"} <= set(v)
    m = results.machine_info()
    assert m["cpus"] and "platform" in m


def test_write_names_the_file_after_the_benchmark(tmp_path: Path) -> None:
    doc = results.document("reports", {}, {"x": [1, 2]}, machine={}, package_versions={})
    path = results.write(doc, tmp_path / "out")
    assert path == tmp_path / "out" / "reports.json"
    assert json.loads(path.read_text())["figures"] == {"x": [1, 2]}
    assert [p.name for p in path.parent.iterdir()] == ["reports.json"]  # no temp file left
    results.write({**doc, "figures": {"x": 3}}, tmp_path / "out")
    assert json.loads(path.read_text())["figures"] == {"x": 3}


@pytest.mark.parametrize("name", ["", "../x", ".hidden"])
def test_write_refuses_names_that_escape(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        results.write({"benchmark": name}, tmp_path)


def test_fmt() -> None:
    assert results.fmt(None) == "-"
    assert results.fmt(True) == "yes"
    assert results.fmt(1234567) == "1,234,567"
    assert results.fmt(51234.56) == "51,235"
    assert results.fmt(12.345) == "12.3"
    assert results.fmt(0.81234) == "0.812"
    assert results.fmt(float("nan")) == "-"
    assert results.fmt("ok") == "ok"


def test_table_aligns_columns() -> None:
    text = results.table(["name", "value"], [["a", 1], ["longer", 12345]])
    lines = text.splitlines()
    assert lines[0] == "name     value"
    assert lines[1] == "------  ------"
    assert lines[2] == "a            1"
    assert lines[3] == "longer  12,345"
