"""`statflow contract check|diff`: the publishing team's local tools. Neither
needs a broker: `check` runs the same validation as `statflow publish`, `diff`
compares two JSON Schema files (schemas/compat.py)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from core.errors import ContractError
from core.settings import Settings
from schemas import compat

MAX_SHOWN = 50  # per-line errors printed; the summary counts them all


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from streams.publish import check_lines, read_lines, spec_of  # aiokafka: load on use

    spec = spec_of(args.topic)
    data = _read_bytes(args.file)
    lines = read_lines(data)
    bad = check_lines(spec.name, lines, settings.max_message_bytes)
    # line numbers count every line of the file (blank ones too), as editors do
    numbers = [i for i, ln in enumerate(data.splitlines(), 1) if ln.strip()]
    for b in bad[:MAX_SHOWN]:
        print(f"{args.file}:{numbers[b.line - 1]}: {b.reason}", file=sys.stderr)
    if len(bad) > MAX_SHOWN:
        print(f"... and {len(bad) - MAX_SHOWN} more invalid lines", file=sys.stderr)
    if bad:
        print(
            f"{len(bad)} of {len(lines)} lines break the {spec.name} contract "
            f"(`statflow publish` refuses the file; produced directly, statflow would "
            f"send them to {spec.name}.dlq)",
            file=sys.stderr,
        )
        return 2
    print(f"all {len(lines)} lines follow the {spec.name} contract")
    return 0


def cmd_diff(args: argparse.Namespace, _settings: Settings) -> int:
    old, new = _load_schema(args.old), _load_schema(args.new)
    verdict = compat.diff(old, new)
    sys.stdout.write(compat.render(verdict))
    if old.get("title") != new.get("title") and not verdict.compatible:
        print(f"(the topic changes from {old.get('title')} to {new.get('title')}: a new version)")
    return 0 if verdict.compatible else 1


def _read_bytes(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise ContractError(f"cannot read {name}: {exc.strerror}") from None


def _load_schema(ref: str) -> dict[str, Any]:
    """A JSON Schema file, or `REV:PATH` (a file at a git revision, e.g.
    `v1.2:schemas/ntjp.calls.v1.schema.json`)."""
    if Path(ref).is_file() or ":" not in ref:
        raw = _read_bytes(ref)
    else:
        if ref.startswith("-"):  # never let an argument become a git option
            raise ContractError(f"{ref!r} is neither a file nor REV:PATH")
        done = subprocess.run(["git", "show", ref], capture_output=True, timeout=30, check=False)
        if done.returncode != 0:
            raise ContractError(f"git has no {ref} (give a file, or REV:PATH inside the repo)")
        raw = done.stdout
    try:
        schema = json.loads(raw)
    except ValueError:
        raise ContractError(f"{ref} is not JSON") from None
    if not isinstance(schema, dict) or "properties" not in schema:
        raise ContractError(f"{ref} is not a statflow contract (a JSON Schema of an object)")
    return schema


def add_parser(sub: Any) -> None:
    con = sub.add_parser("contract", help="check a JSON-lines file, or diff two contracts")
    csub = con.add_subparsers(dest="contract_command", required=True)
    chk = csub.add_parser("check", help="validate JSON lines against a topic's contract")
    chk.add_argument("file", help="a JSON-lines file, or - for standard input")
    chk.add_argument("--topic", required=True, help="e.g. ntjp.calls.v1")
    dif = csub.add_parser(
        "diff", help="is NEW backward compatible with OLD, for producers and for consumers?"
    )
    dif.add_argument("old", help="a JSON Schema file, or REV:PATH at a git revision")
    dif.add_argument("new", help="a JSON Schema file, or REV:PATH at a git revision")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.contract_command == "check":
        return cmd_check(args, settings)
    return cmd_diff(args, settings)
