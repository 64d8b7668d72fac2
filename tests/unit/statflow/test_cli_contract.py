"""`statflow contract check|diff`: no broker, per-line errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from schemas import export
from schemas.topics import EXAMPLES
from statflow.cli import main

CALL = EXAMPLES["ntjp.calls.v1"]


def write_lines(path: Path, records: list[object]) -> Path:
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    return path


def test_check_accepts_a_valid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write_lines(tmp_path / "ok.jsonl", [CALL, {**CALL, "event_id": "e2"}])
    assert main(["contract", "check", str(f), "--topic", "ntjp.calls.v1"]) == 0
    assert "all 2 lines follow the ntjp.calls.v1 contract" in capsys.readouterr().out


def test_check_names_every_bad_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_bytes(
        orjson.dumps(CALL)
        + b"\n\n"  # a blank line is skipped but still counted in line numbers
        + orjson.dumps({**CALL, "operation": "BookSomething"})
        + b"\nnot json\n"
        + orjson.dumps({k: v for k, v in CALL.items() if k != "event_id"})
        + b"\n"
    )
    assert main(["contract", "check", str(f), "--topic", "ntjp.calls.v1"]) == 2
    err = capsys.readouterr().err
    assert f"{f}:3: operation: not one of the allowed values" in err
    assert f"{f}:4: not valid JSON" in err
    assert f"{f}:5: Object missing required field `event_id`" in err
    assert "3 of 4 lines break the ntjp.calls.v1 contract" in err
    assert "BookSomething" not in err  # errors name the rule, never echo the data


def test_check_errors_are_actionable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write_lines(tmp_path / "ok.jsonl", [CALL])
    assert main(["contract", "check", str(f), "--topic", "no.such.v1"]) == 2
    assert "unknown topic 'no.such.v1'; one of" in capsys.readouterr().err
    assert main(["contract", "check", str(tmp_path / "missing"), "--topic", "ntjp.calls.v1"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_diff_exit_codes_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    current = export.HERE / "ntjp.calls.v1.schema.json"
    assert main(["contract", "diff", str(current), str(current)]) == 0
    assert "producers: compatible" in capsys.readouterr().out
    narrowed = json.loads(current.read_text("utf-8"))
    narrowed["properties"]["operation"]["enum"].remove("UpdateBooking")
    new = tmp_path / "new.json"
    new.write_text(json.dumps(narrowed), "utf-8")
    assert main(["contract", "diff", str(current), str(new)]) == 1
    out = capsys.readouterr().out
    assert (
        "operation: enum narrowed: ['UpdateBooking'] no longer accepted [BREAKS producers]" in out
    )
    assert "producers: NOT compatible" in out and "consumers: compatible" in out


def test_diff_refuses_what_is_not_a_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2]", "utf-8")
    current = str(export.HERE / "ntjp.calls.v1.schema.json")
    assert main(["contract", "diff", str(junk), current]) == 2
    assert "is not a statflow contract" in capsys.readouterr().err
    assert main(["contract", "diff", "--", "--upload-pack=x:y", current]) == 2
    assert "neither a file nor REV:PATH" in capsys.readouterr().err
    assert main(["contract", "diff", "no-such-rev:schemas/x.json", current]) == 2
    assert "git has no" in capsys.readouterr().err
