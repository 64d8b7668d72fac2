"""`statflow` command line: thin wiring over the packages."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from core.errors import ParameterError, StatflowError
from core.settings import Settings
from statflow import contract, dlq
from statflow.ops import (
    cmd_annotate,
    cmd_audit,
    cmd_backfill,
    cmd_reconcile,
    cmd_token,
    running_api,
)


def _stack(args: argparse.Namespace, settings: Settings) -> int:
    from deploy import stack

    cfg = stack.StackConfig.from_settings(settings)
    action = {"up": stack.up, "down": stack.down, "status": stack.status}[args.action]
    for s in action(cfg):
        state = "running" if s.running else "stopped"
        print(f"{s.name:6} {state:8} {s.address:22} pid={s.pid or '-'}")
    return 0


def _run(
    args: argparse.Namespace,
    settings: Settings,
    serve_api: bool = True,
    log_file: Path | None = None,
) -> int:
    import faust

    from core import logs
    from statflow.app import create_app
    from streams.admin import ensure_topics
    from streams.context import Context

    logs.setup(settings.log_level, log_file)
    asyncio.run(ensure_topics(settings))
    ctx = Context.open(settings)
    app = create_app(ctx, serve_api=serve_api)
    app.conf.datadir = settings.home / "faust"
    if serve_api:
        base = f"http://{settings.http_host}:{settings.http_port}"
        if log_file is not None:
            print(f"statflow: log lines go to {log_file}")
        print(f"statflow: reports at {base}/api/v1/reports (API docs: {base}/api/docs)")
        print(f"statflow: open {base}/ in a browser (live view: {base}/live)", flush=True)
    level = "warn" if settings.log_level == "warning" else settings.log_level
    worker = faust.Worker(app, loglevel=level, logging_config=logs.dict_config(level, log_file))
    worker.execute_from_commandline()
    return 0


def _api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from core import logs
    from streams.context import Context
    from web.api import create_api

    logs.setup(settings.log_level)
    if settings.embedded:
        print(
            "statflow: `api` alone needs an http:// ClickHouse DSN (a chDB path belongs to "
            "the one process that opened it); use `statflow run` for the embedded mode",
            file=sys.stderr,
        )
        return 2
    from core import faults
    from statflow.heap import freeze_startup_heap

    faults.arm(settings.faults)  # fault tests stop or kill an API process too
    api = create_api(Context.open(settings))
    freeze_startup_heap()
    uvicorn.run(
        api,
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
    )
    return 0


def _publish(args: argparse.Namespace, settings: Settings) -> int:
    from schemas.topics import decoder_for
    from streams.admin import ensure_topics
    from streams.publish import check_lines, produce, read_lines, spec_of

    spec = spec_of(args.topic)
    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    lines = read_lines(data)
    # what this deployment's workers will accept (STATFLOW_CONTRACT_EXTENSIONS included)
    decode = decoder_for(spec, settings)
    bad = check_lines(spec.name, lines, settings.max_message_bytes, decode)
    if bad:
        for b in bad[:20]:
            print(f"{args.file}:{b.line}: {b.reason}", file=sys.stderr)
        print(
            f"statflow: {len(bad)} of {len(lines)} lines are invalid; nothing was published",
            file=sys.stderr,
        )
        return 2
    asyncio.run(ensure_topics(settings))
    n = asyncio.run(produce(settings, spec, lines))
    print(f"published {n} records to {spec.full(settings)}")
    return 0


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from reports import engine, formats
    from sinks.clickhouse import ClickHouseStore
    from sinks.migrate import migrate

    service, _, report = args.report.partition("/")
    # Refused before any service is asked: the answer would be a bare 404.
    engine.lookup(service, report)
    pairs = [
        (k, v)
        for k, v in (
            ("from", args.date_from),
            ("to", args.date_to),
            ("format", args.format),
            ("level", args.level),
            ("lang", args.lang),
            # a terminal or a pipe reads the machine CSV (names, codes, full
            # precision), as it always has; `--style table` gives Excel's
            ("style", args.style if args.format == "csv" else None),
        )
        if v
    ]
    for f in args.filter or []:
        key, sep, value = f.partition("=")
        if not sep:
            raise ParameterError(key, "filters are given as NAME=VALUE")
        pairs.append((key, value))
    via_api = running_api(settings)
    if via_api:
        # the running process owns the chDB path: ask it
        import httpx

        r = httpx.get(f"{via_api}/api/v1/reports/{service}/{report}", params=pairs, timeout=120)
        if r.status_code >= 400:
            print(f"statflow: {r.json().get('error', r.text)}", file=sys.stderr)
            return 2
        sys.stdout.buffer.write(r.content.removeprefix(b"\xef\xbb\xbf"))
        sys.stdout.write("\n")
        return 0
    store = ClickHouseStore(settings)
    migrate(store)
    result = engine.run(service, report, pairs, store)
    if result.params.format == "json" and sys.stdout.isatty():
        _print_table(result)
    else:
        body, _ = formats.render(result)
        sys.stdout.buffer.write(
            body.removeprefix(b"\xef\xbb\xbf") if args.format == "csv" else body
        )
        sys.stdout.write("\n")
    return 0


def _print_table(result: object) -> None:
    from reports.engine import Result

    assert isinstance(result, Result)
    names = [c.name for c in result.columns]
    cells = [
        ["–" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v)) for v in r]
        for r in result.rows
    ]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    print(
        f"{result.report.title(result.params.lang)} ({result.params.date_from} – {result.params.date_to})"
    )
    print("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
    for note in result.notes:
        print(f"* {note}")


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from core import logs
    from deploy import stack
    from synth.demo import seed_demo

    cfg = stack.StackConfig.from_settings(settings)
    for s in stack.up(cfg):
        print(f"{s.name}: {s.address}")
    # The broker's start-up chatter (leader elections, coordinator not yet
    # available) is logged, not printed: the demo's terminal shows the URLs.
    settings.home.mkdir(parents=True, exist_ok=True)
    log_file = settings.home / "demo.log"
    logs.setup(settings.log_level, log_file)
    asyncio.run(seed_demo(settings, n_calls=args.calls))
    return _run(args, settings, serve_api=True, log_file=log_file)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="statflow", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    st = sub.add_parser("stack", help="local Kafka and Redis without Docker")
    st.add_argument("action", choices=["up", "down", "status"])
    sub.add_parser("run", help="embedded: worker + API in one process")
    sub.add_parser("store", help="own the chDB store and serve ClickHouse's HTTP interface")
    sub.add_parser("worker", help="agents only (distributed mode)")
    sub.add_parser("bench", help="benchmarks (see python -m bench --help)")
    sub.add_parser("api", help="report API only (distributed mode, http:// DSN)")
    demo = sub.add_parser("demo", help="stack + synthetic traffic + run")
    demo.add_argument("--calls", type=int, default=200_000)
    pub = sub.add_parser("publish", help="validate JSON lines, then produce them")
    pub.add_argument("topic")
    pub.add_argument("file", help="a JSON-lines file, or - for standard input")
    contract.add_parser(sub)
    dlq.add_parser(sub)
    tok = sub.add_parser("token", help="a bearer token: logged-in reports, or SQL (--role)")
    tok.add_argument("--care-provider", action="append")
    tok.add_argument("--role", action="append")
    tok.add_argument("--county-code", help="region_admin of this county (e-tjanster)")
    tok.add_argument("--unit", action="append", help="unit_admin of this unit; repeatable")
    tok.add_argument("--subject", default="developer")
    tok.add_argument("--hours", type=float, default=8)
    ann = sub.add_parser("annotate", help="record a data-quality note (a known gap or fault)")
    ann.add_argument("--service", required=True)
    ann.add_argument("--report", action="append", help="report id; repeatable; default all")
    ann.add_argument("--from", dest="date_from", required=True)
    ann.add_argument("--to", dest="date_to", required=True)
    ann.add_argument("--text", required=True)
    ann.add_argument("--by", default="operator")
    rec = sub.add_parser("reconcile", help="apply nightly file drops now, or --report")
    rec.add_argument("dir", nargs="?", default=None)
    rec.add_argument("--report", action="store_true", help="per day: stream, file, correction")
    rec.add_argument("--rows", action="store_true",
                     help="with --report: also per unit and operation")  # fmt: skip
    bf = sub.add_parser("backfill", help="replay a topic into fresh tables and swap them in")
    bf.add_argument("topic", help="a batched event topic, e.g. ntjp.calls.v1")
    bf.add_argument("--from-offset", type=int, default=None, help="every partition from here")
    bf.add_argument("--from-time", default=None, help="RFC 3339; from the first offset at it")
    bf.add_argument("--from-raw", action="store_true",
                    help="recompute rollups from the raw table in ClickHouse, not Kafka")  # fmt: skip
    aud = sub.add_parser("audit", help="list the audit log (logged-in reads, exports)")
    aud.add_argument("--limit", type=int, default=100)
    rep = sub.add_parser("report", help="print a report: SERVICE/REPORT")
    rep.add_argument("report")
    rep.add_argument("--from", dest="date_from")
    rep.add_argument("--to", dest="date_to")
    rep.add_argument("--format", choices=["json", "csv", "xlsx", "jsonstat", "pdf"])
    rep.add_argument("--lang", choices=["sv", "en"])
    rep.add_argument("--style", choices=["machine", "table"], default="machine",
                     help="CSV: machine (default: names, codes, full precision) or table (labels, Swedish Excel)")  # fmt: skip
    rep.add_argument("--level")
    rep.add_argument("--filter", action="append", help="NAME=VALUE, repeatable")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        from bench.cli import main as bench_main

        return int(bench_main(argv[1:]) or 0)
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        if args.command == "stack":
            return _stack(args, settings)
        if args.command == "run":
            return _run(args, settings, serve_api=True)
        if args.command == "worker":
            return _run(args, settings, serve_api=False)
        if args.command == "store":
            from web.chhttp.server import run_store

            return run_store(settings)
        if args.command == "api":
            return _api(args, settings)
        if args.command == "demo":
            return _demo(args, settings)
        if args.command == "publish":
            return _publish(args, settings)
        if args.command == "contract":
            return contract.run(args, settings)
        if args.command == "dlq":
            return dlq.run(args, settings)
        if args.command == "annotate":
            return cmd_annotate(args, settings)
        if args.command == "backfill":
            return cmd_backfill(args, settings)
        if args.command == "reconcile":
            if not args.report and not args.dir:
                args.dir = str(settings.drop_dir or "")
            if not args.report and not args.dir:
                raise ParameterError("dir", "give a drop directory or set STATFLOW_DROP_DIR")
            return cmd_reconcile(args, settings)
        if args.command == "audit":
            return cmd_audit(args, settings)
        if args.command == "token":
            return cmd_token(args, settings)
        if args.command == "report":
            return _report(args, settings)
    except StatflowError as exc:
        print(f"statflow: {exc}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
