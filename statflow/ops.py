"""Operator commands of `statflow`: tokens, annotations, nightly files,
backfills and the audit log (statflow/cli.py parses and dispatches)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.auth import (
    AUDITOR,
    OPERATOR,
    REGION_ADMIN,
    SQL_READER,
    SQL_SERVICE,
    UNIT_ADMIN,
    auth_headers,
)
from core.errors import ConfigError
from core.settings import Settings


def running_api(settings: Settings) -> str | None:
    """The URL of a statflow API on this machine's configured port, if one answers."""
    import httpx

    url = f"http://{settings.http_host}:{settings.http_port}"
    try:
        return url if httpx.get(url + "/healthz", timeout=1).status_code == 200 else None
    except httpx.HTTPError:
        return None


def cmd_annotate(args: argparse.Namespace, settings: Settings) -> int:
    from reports import quality

    body = {"service": args.service, "reports": args.report or [], "from": args.date_from,
            "to": args.date_to, "text": args.text}  # fmt: skip
    note = quality.Annotation.parse(body)  # refuse bad input before anything is sent
    url = running_api(settings)
    if url:
        import httpx

        auth = auth_headers(settings, OPERATOR, args.by)
        r = httpx.post(f"{url}/api/v1/annotations", json=body, timeout=30,
                       headers=auth)  # fmt: skip
        if r.status_code != 201:
            print(f"statflow: {r.json().get('error', r.text)}", file=sys.stderr)
            return 2
    else:
        from sinks.clickhouse import ClickHouseStore
        from sinks.migrate import migrate

        store = ClickHouseStore(settings)
        migrate(store)
        quality.add(store, note, args.by)
    print(f"recorded: {note.service} {note.date_from}–{note.date_to}: {note.text}")
    return 0


def _check_scope(county_code: str | None, hsa_ids: list[str]) -> None:
    """A token naming a county or unit that cannot exist would authorise
    nothing, silently: refuse it when it is minted instead."""
    import msgspec

    from schemas.counties import COUNTIES
    from schemas.events import HsaId

    if county_code is not None and county_code not in COUNTIES:
        raise ConfigError(
            f"--county-code must be one of SCB's county codes ({', '.join(COUNTIES)})"
        )
    for hsa_id in hsa_ids:
        if hsa_id == "*":
            continue
        try:
            msgspec.convert(hsa_id, HsaId)
        except msgspec.ValidationError:
            raise ConfigError(
                "--care-provider and --unit take HSA ids: 1–64 printable characters, no spaces"
            ) from None


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as dt

    from core import auth as auth_

    roles = args.role or []
    if args.county_code and REGION_ADMIN not in roles:
        roles.append(REGION_ADMIN)
    if args.unit and UNIT_ADMIN not in roles:
        roles.append(UNIT_ADMIN)
    sql = {SQL_READER, SQL_SERVICE} & set(roles)  # the store's ClickHouse HTTP interface
    if not (args.care_provider or args.county_code or args.unit or sql):
        raise ConfigError(
            "name --care-provider, or --county-code (region_admin), or --unit, or "
            "--role sql_reader / --role service (ClickHouse HTTP interface)"
        )
    _check_scope(args.county_code, [*(args.care_provider or []), *(args.unit or [])])
    secret = auth_.load_secret(settings)
    print(auth_.issue(secret, args.subject, args.care_provider or [], roles,
                      dt.timedelta(hours=args.hours), county_code=args.county_code,
                      unit_ids=args.unit or []))  # fmt: skip
    return 0


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    url = running_api(settings)
    if url:
        import httpx

        auth = auth_headers(settings, OPERATOR)
        if args.report:
            days = httpx.get(f"{url}/api/v1/reconciliation", params={"rows": bool(args.rows)},
                             timeout=60).json()["days"]  # fmt: skip
        else:
            # the API applies only its own drop directory (STATFLOW_DROP_DIR) or a folder in it
            body = {"dir": str(Path(args.dir).resolve())} if args.dir else {}
            r = httpx.post(f"{url}/api/v1/reconciliation/run", json=body, headers=auth,
                           timeout=600)  # fmt: skip
            if r.status_code != 200:
                print(f"statflow: {r.json().get('error', r.text)}", file=sys.stderr)
                return 2
            files = r.json()["files"]
    else:
        from reconcile.apply import apply_dir, discrepancies
        from sinks.clickhouse import ClickHouseStore
        from sinks.migrate import migrate

        store = ClickHouseStore(settings)
        migrate(store)
        if args.report:
            days = discrepancies(store, with_rows=bool(args.rows))
        else:
            folder = Path(args.dir) if args.dir else settings.drop_dir
            if folder is None:
                raise ConfigError("name the drop directory, or set STATFLOW_DROP_DIR")
            files = [o.__dict__ for o in apply_dir(store, folder)]
    if args.report:
        print(f"{'day':10}  {'stream':>9} {'file':>9} {'correction':>10}  file")
        for d in days:
            if "stream" not in d:  # SOB monthly files: cases filled in and reported
                print(f"{str(d['day']):10}  {d['file_cases']:>9} cases, "
                      f"{d['transitions_filled']} filled, {d['cases_reported']} reported  "
                      f"{d['file']}")  # fmt: skip
                continue
            print(
                f"{str(d['day']):10}  {d['stream']:>9} {d['file_says']:>9} {d['correction']:>10}  {d['file']}"
            )
            for r in d.get("rows") or []:  # --rows: the keys where stream and file differ
                print(f"{'':10}  {r['stream']:>9} {r['file_says']:>9} {r['correction']:>10}  "
                      f"{r['unit_id']} {r['operation']}")  # fmt: skip
    else:
        for f in files:
            print(f"{f['status']:11} {f['name']}  corrected rows: {f['corrected']}")
        if any(f["status"] == "quarantined" for f in files):
            return 3
    return 0


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    import time

    import httpx

    from streams.backfill import progress_bar

    url = running_api(settings)
    if not url:
        print("statflow: a backfill runs inside the process that ingests the topic; "
              "start `statflow run` first", file=sys.stderr)  # fmt: skip
        return 2
    auth = auth_headers(settings, OPERATOR)
    body: dict[str, object] = {"topic": args.topic}
    if args.from_offset is not None:
        body["from_offset"] = args.from_offset
    if args.from_time:
        body["from_time"] = args.from_time
    if args.from_raw:
        body["source"] = "raw"
    r = httpx.post(f"{url}/api/v1/backfill", json=body,
                   headers=auth, timeout=60)  # fmt: skip
    if r.status_code != 202:
        print(f"statflow: {r.json().get('error', r.text)}", file=sys.stderr)
        return 2
    job = r.json()
    while job["state"] not in ("done", "failed"):
        time.sleep(1)
        job = httpx.get(f"{url}/api/v1/backfill/{job['id']}", timeout=60).json()
        print("\r" + progress_bar(job), end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if job["state"] == "failed":
        print(f"statflow: backfill failed, current tables untouched: {job['error']}",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"swapped in: {', '.join(job['swapped'])}")
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    from reports.audit import recent, scope_text
    from sinks.clickhouse import ClickHouseStore
    from sinks.migrate import migrate

    url = running_api(settings)
    if url:
        import httpx

        auth = auth_headers(settings, AUDITOR)
        r = httpx.get(f"{url}/api/v1/audit", params={"limit": args.limit}, timeout=30,
                      headers=auth)  # fmt: skip
        entries = r.json()["entries"]
    else:
        store = ClickHouseStore(settings)
        migrate(store)
        entries = recent(store, args.limit)
    for e in reversed(entries):
        who = scope_text(e)
        what = f"{e['action']} {e['service']}/{e['report']}".rstrip("/")
        print(f"{str(e['at'])[:19]}  {who:40}  {what:50} {e['outcome']} {e['params']}")
    return 0
