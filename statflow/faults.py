"""Named crash points for fault tests: `STATFLOW_FAULTS=reconcile.after-corrections`
makes the process die (like SIGKILL: no cleanup) the first time it passes that
point. Armed once at start-up from the settings; unarmed, a point costs a set
lookup."""

from __future__ import annotations

import logging
import os

log = logging.getLogger("statflow.faults")
_armed: set[str] = set()

POINTS = (
    "reconcile.after-corrections",  # calls corrections written, file not yet registered
    "reconcile.after-fill",  # SOB transitions filled in, file not yet registered
)


def arm(spec: str) -> None:
    names = {n.strip() for n in spec.split(",") if n.strip()}
    unknown = names - set(POINTS)
    if unknown:
        from statflow.errors import ConfigError

        raise ConfigError(f"STATFLOW_FAULTS: unknown point(s) {sorted(unknown)}; one of {POINTS}")
    _armed.clear()
    _armed.update(names)


def point(name: str) -> None:
    if name in _armed:
        log.warning("fault point reached: exiting now", extra={"point": name})
        logging.shutdown()
        os._exit(137)
