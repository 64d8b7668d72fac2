"""Which directory a request to apply file drops may name: the configured
drop directory (STATFLOW_DROP_DIR) or a folder inside it, never another part
of the server's file system. Pure but for resolving the path."""

from __future__ import annotations

from pathlib import Path

from core.errors import ParameterError

# what every refusal says: a refusal never repeats the path it was given
_EXPECTED = "a folder inside this deployment's drop directory (STATFLOW_DROP_DIR), or nothing"


def drop_folder(requested: object, drop_dir: Path | None) -> Path:
    """The folder to apply: `drop_dir` when `requested` is None or "", else
    `requested` (relative to `drop_dir`, or absolute) if it resolves, links
    followed, to `drop_dir` or a folder inside it and exists."""
    if drop_dir is None:
        raise ParameterError(
            "dir",
            "this deployment has no drop directory; set STATFLOW_DROP_DIR to where the "
            "nightly files arrive",
        )
    if requested is None or requested == "":
        requested = "."
    if not isinstance(requested, str) or "\x00" in requested or len(requested) > 4096:
        raise ParameterError("dir", _EXPECTED)
    try:
        root = drop_dir.resolve()
        folder = (root / requested).resolve()
        inside = folder.is_relative_to(root) and folder.is_dir()
    except (OSError, ValueError, RuntimeError):  # too long a name, a link loop
        inside = False
    if not inside:
        raise ParameterError("dir", _EXPECTED)
    return folder
