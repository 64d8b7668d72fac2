"""`statflow dlq list|show|stats|replay|replays`: dead letters from the command
line. Through the running API when one answers on this machine (its process
owns the chDB path), with a short-lived operator token; otherwise straight
against the store and Kafka."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from typing import Any

from core.auth import OPERATOR, auth_headers
from core.settings import Settings
from statflow.ops import running_api

FILTERS = (("topic", "topic"), ("reason", "reason"), ("reason_class", "reason_class"),
           ("status", "status"), ("date_from", "from"), ("date_to", "to"),
           ("partition", "partition"), ("offset", "offset"))  # fmt: skip


def add_parser(sub: Any) -> None:
    d = sub.add_parser("dlq", help="browse and replay dead letters")
    dsub = d.add_subparsers(dest="dlq_command", required=True)

    def filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--topic", help="e.g. ntjp.calls.v1")
        p.add_argument("--reason", help="a piece of the reason, any case")
        p.add_argument("--reason-class", dest="reason_class",
                       help="empty, too_large, not_json, encoding, enum, missing_field, time, "
                            "format, type, rule")  # fmt: skip
        p.add_argument("--status", help="dead, replayed or all (default)")
        p.add_argument("--from", dest="date_from", help="RFC 3339 or a date (UTC)")
        p.add_argument("--to", dest="date_to", help="RFC 3339 or a date (UTC)")
        p.add_argument("--partition", help="the source partition")
        p.add_argument("--offset", help="the source offset")

    lst = dsub.add_parser("list", help="dead letters, newest first")
    filters(lst)
    lst.add_argument("--page", default=None)
    lst.add_argument("--per-page", dest="per_page", default=None)
    st = dsub.add_parser("stats", help="counts per time, topic and reason class")
    filters(st)
    st.add_argument("--bucket", choices=["hour", "day"], default="day")
    show = dsub.add_parser("show", help="one dead letter, its replays and its message")
    show.add_argument("topic")
    show.add_argument("partition")
    show.add_argument("offset")
    rep = dsub.add_parser("replay", help="validate again with the current contract; resend")
    rep.add_argument("--topic", required=True)
    rep.add_argument("--reason")
    rep.add_argument("--reason-class", dest="reason_class")
    rep.add_argument("--since", help="rejected at or after (RFC 3339 or a date)")
    rep.add_argument("--until", help="rejected before (RFC 3339 or a date)")
    rep.add_argument("--dry-run", action="store_true", help="say what would happen; send nothing")
    rep.add_argument("--by", default=None, help="who replays (default: the login name)")
    runs = dsub.add_parser("replays", help="the record of replays: who, when, what came of it")
    runs.add_argument("--limit", default="20")


def _pairs(args: argparse.Namespace) -> list[tuple[str, str]]:
    out = [(name, str(getattr(args, attr))) for attr, name in FILTERS
           if getattr(args, attr, None) not in (None, "")]  # fmt: skip
    for extra in ("page", "per_page", "bucket"):
        if getattr(args, extra, None) not in (None, ""):
            out.append((extra, str(getattr(args, extra))))
    return out


def _call(settings: Settings, by: str, method: str, path: str, **kw: Any) -> Any:
    """The running API's answer, or None when no API runs here."""
    url = running_api(settings)
    if not url:
        return None
    import httpx

    r = httpx.request(method, url + path, headers=auth_headers(settings, OPERATOR, by),
                      timeout=600, **kw)  # fmt: skip
    if r.status_code >= 400:
        raise _ApiRefused(r.json().get("error", r.text))
    return r.json()


class _ApiRefused(Exception):
    pass


def _store(settings: Settings) -> Any:
    from sinks.clickhouse import ClickHouseStore
    from sinks.migrate import migrate

    store = ClickHouseStore(settings)
    migrate(store)
    return store


def run(args: argparse.Namespace, settings: Settings) -> int:
    from reports import dead_letters as dlq

    by = getattr(args, "by", None) or getpass.getuser()
    cmd = args.dlq_command
    try:
        if cmd == "list":
            out = _call(settings, by, "GET", "/api/v1/dead-letters", params=_pairs(args))
            out = out or dlq.browse(_store(settings), settings, _pairs(args))
            _print_list(out)
        elif cmd == "stats":
            out = _call(settings, by, "GET", "/api/v1/dead-letters/stats", params=_pairs(args))
            out = out or dlq.counts(_store(settings), settings, _pairs(args))
            _print_stats(out)
        elif cmd == "show":
            path = f"/api/v1/dead-letters/{args.topic}/{args.partition}/{args.offset}"
            out = _call(settings, by, "GET", path)
            if out is None:
                out = asyncio.run(
                    dlq.detail(_store(settings), settings, args.topic, args.partition, args.offset)
                )
            if out is None:
                print(
                    "statflow: no dead letter at that topic, partition and offset", file=sys.stderr
                )
                return 1
            print(json.dumps(out, ensure_ascii=False, indent=2))
        elif cmd == "replay":
            body: dict[str, Any] = {"topic": args.topic, "dry_run": bool(args.dry_run)}
            for k in ("reason", "reason_class", "since", "until"):
                if getattr(args, k):
                    body[k] = getattr(args, k)
            dlq.replay_request(body)  # refuse a bad request before anything is asked
            out = _call(settings, by, "POST", "/api/v1/dead-letters/replay", json=body)
            if out is None:
                out = asyncio.run(dlq.replay(_store(settings), settings, body, by))
            _print_replay(out)
        else:
            out = _call(settings, by, "GET", "/api/v1/dead-letters/replays",
                        params=[("limit", args.limit)])  # fmt: skip
            out = out or dlq.replay_runs(_store(settings), [("limit", args.limit)])
            for r in out["runs"]:
                print(f"{r['started_at'][:19]}  {r['by']:16} {r['topic']:28} {r['state']:8} "
                      f"selected {r['selected']}, replayed {r['replayed']}, still failing "
                      f"{r['still_failing']}, skipped {r['skipped']}, gone {r['gone']}  "
                      f"{r['contract_version']} {r['selection']}")  # fmt: skip
    except _ApiRefused as exc:
        print(f"statflow: {exc}", file=sys.stderr)
        return 2
    return 0


def _print_list(out: dict[str, Any]) -> None:
    print(f"{out['total']} dead letters (page {out['page']}, {out['per_page']} per page)")
    for i in out["items"]:
        where = f"{i['topic']}/{i['partition']}/{i['offset']}"
        print(f"{i['at'][:19]}  {where:40} {i['status']:8} {i['reason_class']:13} {i['reason']}")


def _print_stats(out: dict[str, Any]) -> None:
    print(f"{'topic':40} {'class':13} {'dead':>7} {'replayed':>8}")
    for t in out["totals"]:
        print(f"{t['topic']:40} {t['reason_class']:13} {t['dead']:>7} {t['replayed']:>8}")
    print(f"\nper {out['bucket']}:")
    for s in out["series"]:
        print(
            f"{s['at']}  {s['topic']:40} {s['reason_class']:13} {s['dead']:>7} {s['replayed']:>8}"
        )


def _print_replay(out: dict[str, Any]) -> None:
    verb = "would replay" if out["dry_run"] else "replayed"
    print(f"{out['topic']} under contract {out['contract_version']} (run {out['run_id']}):")
    print(f"  selected {out['selected']}: {verb} {out['replayed']}, still failing "
          f"{out['still_failing']}, gone from the DLQ {out['gone']}, skipped (already tried "
          f"under this contract) {out['skipped']}; replayed before: {out['already_replayed']}")  # fmt: skip
    if out["remaining"]:
        print(f"  {out['remaining']} more beyond this run's limit: run it again")
    for reason, n in (out.get("reasons") or {}).items():
        print(f"  still failing ({n}): {reason}")
