"""`statflow report` names what is wrong with a report's name, before it asks
any service (a running API's bare 404 used to be printed as JSON)."""

from __future__ import annotations

from pathlib import Path

import pytest

from statflow.cli import main


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("nope", "no service 'nope'"),
        ("webbtidbokning", "no report '' in webbtidbokning"),
        ("webbtidbokning/nope", "no report 'nope' in webbtidbokning"),
    ],
)
def test_an_unknown_report_is_said_in_words(
    name: str,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("STATFLOW_HOME", str(tmp_path))
    assert main(["report", name]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.startswith("statflow: ") and said in out.err and "{" not in out.err
    assert not (tmp_path / "chdb").exists(), "no store is opened for a name that cannot exist"
