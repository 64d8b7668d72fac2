"""Development secrets (core/auth.load_secret) when several processes start at
once with none configured: one secret for all, never readable by others."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from core.auth import load_secret
from core.settings import Settings


def _load(home: str, start: object) -> str:
    start.wait()  # type: ignore[attr-defined]
    return load_secret(Settings(home=Path(home), jwt_secret=""))


def test_processes_starting_together_agree_on_one_private_secret(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    for attempt in range(5):
        home = tmp_path / str(attempt)
        with ctx.Manager() as manager:
            start = manager.Barrier(8)
            with ctx.Pool(8) as pool:
                got = pool.starmap(_load, [(str(home), start)] * 8)
        assert len(set(got)) == 1 and got[0]
        assert stat.S_IMODE((home / "jwt-secret").stat().st_mode) == 0o600
        assert [p.name for p in home.iterdir()] == ["jwt-secret"]  # no candidate left


def test_a_configured_secret_is_used_as_given(tmp_path: Path) -> None:
    assert load_secret(Settings(home=tmp_path, jwt_secret="s3cret")) == "s3cret"
    assert not (tmp_path / "jwt-secret").exists()
