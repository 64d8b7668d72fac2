"""Structured log lines, to standard error or (the demo) to a file."""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from core import logs


@pytest.fixture(autouse=True)
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for h in root.handlers:
        if h not in handlers:
            h.close()
    root.handlers[:], root.level = handlers, level


def test_setup_with_a_path_keeps_the_terminal_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.log"
    logs.setup("info", path)
    logging.getLogger("aiokafka").warning("NotLeaderForPartitionError, retrying", extra={"p": 3})
    assert capsys.readouterr().err == ""
    line = orjson.loads(path.read_text("utf-8").splitlines()[-1])
    assert line["level"] == "warning" and line["p"] == 3


def test_faust_worker_config_writes_to_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.log"
    logging.config.dictConfig(logs.dict_config("info", path))
    logging.getLogger("faust").error("GroupCoordinatorNotAvailableError")
    assert "GroupCoordinatorNotAvailableError" in path.read_text("utf-8")
