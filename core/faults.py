"""Named faults for fault tests, armed once at start-up from STATFLOW_FAULTS:

- crash points (`reconcile.after-corrections`): the process dies (like SIGKILL,
  no cleanup) the first time it passes the point;
- failing windows (`sink.writes-fail:15`): for that many seconds after start-up
  every ClickHouse insert fails, as with a full disk;
- stop points (`sink.before-insert`): the process stops itself with SIGSTOP
  (as a frozen VM or a debugger would) the first time it passes the point; it
  goes on where it stood when it gets SIGCONT.

Unarmed, a check costs a dict lookup."""

from __future__ import annotations

import logging
import os
import signal
import time

log = logging.getLogger("statflow.faults")
_armed: set[str] = set()
_windows: dict[str, float] = {}  # name -> monotonic deadline
_stops: set[str] = set()

POINTS = (
    "reconcile.after-corrections",  # calls corrections written, file not yet registered
    "reconcile.after-fill",  # SOB transitions filled in, file not yet registered
    "backfill.mid-swap",  # a backfill exchanged its raw table, not yet the rollups
    "sink.before-derive",  # a batch's rows written, the tables the sink keeps not yet
    "dlq.replay-mid-produce",  # half of a replay's messages produced, none recorded as done
    "export.mid-run",  # an export job started (its run lease held), its file not yet written
)
WINDOWS = ("sink.writes-fail",)  # name:seconds
STOPS = (
    "sink.before-insert",  # a batch's seen ids looked up and rows built, nothing inserted yet
)


def arm(spec: str) -> None:
    from core.errors import ConfigError

    _armed.clear()
    _windows.clear()
    _stops.clear()
    for item in (n.strip() for n in spec.split(",") if n.strip()):
        name, _, seconds = item.partition(":")
        if name in WINDOWS and seconds.replace(".", "", 1).isdigit():
            _windows[name] = time.monotonic() + float(seconds)
        elif name in POINTS and not seconds:
            _armed.add(name)
        elif name in STOPS and not seconds:
            _stops.add(name)
        else:
            raise ConfigError(
                f"STATFLOW_FAULTS: unknown fault {item!r}; one of {POINTS + STOPS} or "
                f"{', '.join(w + ':SECONDS' for w in WINDOWS)}"
            )


def failing(name: str) -> bool:
    """Whether the failing window `name` is open now."""
    deadline = _windows.get(name)
    return deadline is not None and time.monotonic() < deadline


def point(name: str) -> None:
    if name in _stops:
        _stops.discard(name)  # once: after SIGCONT the process runs on
        log.warning("fault point reached: stopping now", extra={"point": name})
        for handler in logging.getLogger().handlers:
            handler.flush()
        os.kill(os.getpid(), signal.SIGSTOP)
        return
    if name in _armed:
        log.warning("fault point reached: exiting now", extra={"point": name})
        logging.shutdown()
        os._exit(137)
