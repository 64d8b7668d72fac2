"""Structured (JSON) log lines. Callers pass ids and counts in `extra`, never
a personal identity number; as a second line of defence every text of a line
(message, string extras, traceback) is redacted (core.personnummer.redact),
since an error text from a store or a decoder may quote the data it refused."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

import orjson

from core.personnummer import redact

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for k, v in vars(record).items():
            if k not in _STANDARD and not k.startswith("_"):
                out[k] = redact(v) if isinstance(v, str) else v
        if record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(out, default=str).decode()


def setup(level: str = "info", path: Path | None = None) -> None:
    """Log lines to standard error, or appended to `path` (the demo keeps its
    terminal for what a person needs to read)."""
    handler: logging.Handler = (
        logging.StreamHandler(sys.stderr) if path is None else logging.FileHandler(path)
    )
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if level != "warn" else "WARNING")


def dict_config(level: str = "info", path: Path | None = None) -> dict[str, object]:
    """The same set-up as `setup`, as a dictConfig for Faust's worker."""
    lvl = "WARNING" if level in ("warn", "warning") else level.upper()
    handler: dict[str, object] = (
        {"class": "logging.StreamHandler", "formatter": "json"}
        if path is None
        else {"class": "logging.FileHandler", "formatter": "json", "filename": str(path)}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": lvl},
        # Faust's monitor reports every sampling drift above 0.3 s at INFO; the
        # drift is real (batch work holds the loop) but belongs in metrics.
        "loggers": {"mode.timers": {"level": "WARNING"}},
    }
