"""The reconciliation endpoint applies the configured drop directory only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import ParameterError
from reconcile.confine import drop_folder


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    (tmp_path / "drop" / "2024").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    return tmp_path / "drop"


def test_the_drop_dir_itself_or_a_folder_inside(drop: Path) -> None:
    assert drop_folder(None, drop) == drop.resolve()
    assert drop_folder("", drop) == drop.resolve()
    assert drop_folder(str(drop), drop) == drop.resolve()
    assert drop_folder("2024", drop) == (drop / "2024").resolve()
    assert drop_folder(str(drop / "2024"), drop) == (drop / "2024").resolve()


@pytest.mark.parametrize(
    "requested",
    [
        "/",
        "/etc",
        "..",
        "../elsewhere",
        "2024/../../elsewhere",
        "missing",
        "a\x00b",
        "x" * 5000,
        ["/tmp"],
        7,
        {"dir": "."},
    ],  # fmt: skip
)
def test_anything_else_is_refused_without_echoing_it(drop: Path, requested: object) -> None:
    with pytest.raises(ParameterError) as info:
        drop_folder(requested, drop)
    assert "elsewhere" not in str(info.value) and "/etc" not in str(info.value)


def test_a_link_out_of_the_drop_dir_is_refused(drop: Path) -> None:
    os.symlink(drop.parent / "elsewhere", drop / "out")
    with pytest.raises(ParameterError):
        drop_folder("out", drop)


def test_no_drop_dir_configured_says_what_to_set(drop: Path) -> None:
    with pytest.raises(ParameterError, match="STATFLOW_DROP_DIR"):
        drop_folder(str(drop), None)
