"""`python -m deploy.stack up|down|status`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from core.errors import ConfigError, StackError
from core.settings import Settings
from deploy.stack.config import StackConfig
from deploy.stack.lifecycle import down, status, up

# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.stack",
        description="Start, stop or inspect the local Kafka + Redis (defaults from STATFLOW_*).",
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--home", type=Path, help="state dir (default STATFLOW_HOME or .statflow)")
    parser.add_argument("--kafka-port", type=int)
    parser.add_argument("--controller-port", type=int, help="default: Kafka port + 1")
    parser.add_argument("--redis-port", type=int)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds `up` waits")
    args = parser.parse_args(argv)
    try:
        base = StackConfig.from_settings(Settings.from_env())
        kafka_port = args.kafka_port or base.kafka_port
        cfg = StackConfig(
            home=args.home or base.home,
            kafka_port=kafka_port,
            controller_port=args.controller_port or 0,
            redis_port=args.redis_port or base.redis_port,
        )
        if args.command == "up":
            result = up(cfg, timeout=args.timeout)
        elif args.command == "down":
            result = down(cfg)
        else:
            result = status(cfg)
    except (StackError, ConfigError) as e:
        print(f"stack {args.command}: {e}", file=sys.stderr)
        return 1
    for s in result:
        print(s)
    return 0
