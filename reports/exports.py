"""Export jobs: asynchronous, for the caller's own organisation, to CSV/XLSX.

Kinds and the role each needs:
- aggregated (export_aggregated): a report's answer, limited to the caller's
  care providers, disclosure control as in logged-in statistics;
- pseudonymised (export_pseudonymised): support-and-treatment transactions in
  detail, the patient, the case and the practitioner as keyed HMAC pseudonyms
  (per customer, per field);
- identified (export_identified): the same with personal identity numbers and
  the source system's case and practitioner ids.
An export belongs to the caller who made it: a download needs the same
subject, the same scope (care providers, county, units, admin roles) and the
export kind's role (`ownership_problem`). Job state lives in Redis with an
expiry, so every API process sees every job; files under <home>/exports, which
every API process of one installation shares. After the file's expiry it is
deleted and the download answers 410.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
import xlsxwriter

from core import faults
from core.auth import (
    ADMIN_ROLES,
    EXPORT_AGGREGATED,
    EXPORT_IDENTIFIED,
    EXPORT_PSEUDONYMISED,
    Caller,
)
from core.errors import AccessDenied, ParameterError
from core.settings import Settings
from reports import audit, engine, pseudonyms
from sinks.clickhouse import ClickHouseStore

log = logging.getLogger("statflow.exports")

ROLE_OF = {
    "aggregated": EXPORT_AGGREGATED,
    "pseudonymised": EXPORT_PSEUDONYMISED,
    "identified": EXPORT_IDENTIFIED,
}
DETAIL_COLUMNS = (
    "case_id", "occurred_at", "case_type", "status", "process_name", "moment_name",
    "care_provider_id", "care_unit_id", "practitioner_id", "patient", "patient_gender",
    "patient_age", "closing_reason",
)  # fmt: skip
DETAIL_SQL = (
    "SELECT case_id, occurred_at, case_type, status, process_name, moment_name, "
    "care_provider_id, care_unit_id, practitioner_id, patient_id, patient_gender, patient_age, "
    "closing_reason FROM sob_transactions "
    "WHERE care_provider_id IN {providers:Array(String)} "
    "AND toDate(occurred_at, 'Europe/Stockholm') BETWEEN {date_from:Date} AND {date_to:Date} "
    "ORDER BY care_provider_id, case_id, occurred_at, event_id"
)
# Detail columns that point back into a source system (a person, or a case or
# staff id the source can look up): a pseudonymised export replaces each with a
# keyed pseudonym of its own field. Name -> position in DETAIL_COLUMNS.
PSEUDONYMISED = {f: DETAIL_COLUMNS.index(f) for f in ("patient", "case_id", "practitioner_id")}
# Kept this long after expiry so an expired link answers 410, not 404.
TOMBSTONE_SECONDS = 30 * 24 * 3600
# A running job's lease in Redis, renewed by the process that runs it: once it
# lapses (that process died), the next API process asked about the job runs it.
RUN_LEASE_MS = 10_000


@dataclass(frozen=True)
class ExportRequest:
    kind: str
    format: str
    service: str
    report: str
    params: list[tuple[str, str]]
    date_from: dt.date
    date_to: dt.date

    @classmethod
    def parse(cls, body: dict[str, Any]) -> ExportRequest:
        kind = body.get("kind", "aggregated")
        if not isinstance(kind, str) or kind not in ROLE_OF:  # a list is no kind (nor hashable)
            raise ParameterError("kind", f"one of {', '.join(ROLE_OF)}")
        fmt = body.get("format", "csv")
        if not isinstance(fmt, str) or fmt not in ("csv", "xlsx"):
            raise ParameterError("format", "one of csv, xlsx")
        raw = body.get("params") or {}
        if not isinstance(raw, dict):
            raise ParameterError("params", "an object of report parameters")
        pairs = [(str(k), str(x)) for k, v in raw.items()
                 for x in (v if isinstance(v, list) else [v])]  # fmt: skip
        try:
            date_from = dt.date.fromisoformat(str(raw.get("from", "2015-10-01")))
            date_to = dt.date.fromisoformat(str(raw.get("to", dt.date.today().isoformat())))
        except ValueError:
            raise ParameterError("params", "from and to must be ISO dates") from None
        service, report = str(body.get("service", "")), str(body.get("report", ""))
        if kind == "aggregated" and not (service and report):
            raise ParameterError("report", "an aggregated export names service and report")
        return cls(kind, fmt, service, report, pairs, date_from, date_to)

    def stored(self) -> dict[str, Any]:
        """As kept with the job, so that another process can run it again."""
        return {"kind": self.kind, "format": self.format, "service": self.service,
                "report": self.report, "params": [list(p) for p in self.params],
                "from": self.date_from.isoformat(), "to": self.date_to.isoformat()}  # fmt: skip

    @classmethod
    def from_stored(cls, raw: Mapping[str, Any]) -> ExportRequest:
        return cls(str(raw["kind"]), str(raw["format"]), str(raw["service"]), str(raw["report"]),
                   [(str(k), str(v)) for k, v in raw["params"]],
                   dt.date.fromisoformat(raw["from"]), dt.date.fromisoformat(raw["to"]))  # fmt: skip


def owner_of(caller: Caller) -> dict[str, Any]:
    """The scope an export is made under, as stored with the job: everything
    that decides which rows the caller could see (a token's care providers,
    its county and units and which admin roles it holds) and who it is."""
    return {
        "subject": caller.subject,
        "care_providers": sorted(set(caller.care_providers)),
        "county_code": caller.county_code,
        "unit_ids": sorted(set(caller.unit_ids)),
        "admin_roles": sorted({r for r in caller.roles if r in ADMIN_ROLES}),
    }


def ownership_problem(caller: Caller, owner: Mapping[str, Any] | None, kind: str) -> str | None:
    """Why `caller` may not read an export of `kind` made under `owner`, or None.

    The whole scope must be equal, not merely covered: an empty list (an admin
    token names no care providers) is a subset of everything, which is how a
    region admin's export once reached every logged-in caller. The subject
    must be the same person, and the caller must still hold the kind's role."""
    role = ROLE_OF.get(kind)
    if role is None or owner is None:
        return "this export has no recorded owner; start a new export"
    if not caller.subject or caller.subject != owner.get("subject"):
        return "this export belongs to someone else (rule: only its creator may read it)"
    mine = owner_of(caller)
    if mine != {k: owner.get(k) for k in mine}:
        return (
            "this export was made under another scope (care providers, county, units "
            "or admin role) than your token's (rule: only its creator may read it)"
        )
    if role not in caller.roles:
        return f"a {kind} export needs the role {role}, which your token no longer has"
    return None


_EXPORT_FILE = re.compile(r"^[0-9a-f]{32}\.(csv|xlsx)$")


def stale_files(entries: Iterable[tuple[str, float]], now: float, ttl_seconds: int) -> list[str]:
    """Of (file name, modification time) in the exports folder, the export files
    older than an export's lifetime (anything else in the folder is left alone)."""
    return sorted(
        name for name, mtime in entries if _EXPORT_FILE.match(name) and mtime + ttl_seconds <= now
    )


class Exports:
    def __init__(self, settings: Settings, store: ClickHouseStore, secret: bytes) -> None:
        self.settings = settings
        self.store = store
        self.folder = settings.home / "exports"
        self._redis = aioredis.from_url(settings.redis_url)
        self._prefix = f"statflow:{settings.clickhouse_database}:export:"
        self._secret = secret
        self._tasks: set[asyncio.Task[None]] = set()
        self._me = uuid.uuid4().hex  # this process, as the holder of run leases

    async def create(self, caller: Caller, req: ExportRequest) -> dict[str, Any]:
        await self.sweep()
        role = ROLE_OF[req.kind]
        if role not in caller.roles:
            raise AccessDenied(f"a {req.kind} export needs the role {role}", 403)
        if not caller.subject:
            raise AccessDenied(
                "your token names no subject (sub); an export belongs to the person who "
                "makes it, so it needs one",
                403,
            )
        if req.kind != "aggregated" and not caller.care_providers:
            raise AccessDenied(
                f"a {req.kind} export lists your own care providers' transactions, and your "
                "token names none (an admin token's county or units do not extend it)",
                403,
            )
        job_id = uuid.uuid4().hex
        now = dt.datetime.now(dt.UTC)
        expires = now + dt.timedelta(seconds=self.settings.export_ttl_seconds)
        job = {
            "id": job_id, "kind": req.kind, "format": req.format, "status": "queued",
            "progress": 0, "owner": owner_of(caller),
            "created_at": now.isoformat(), "expires_at": expires.isoformat(),
            "service": req.service, "report": req.report, "rows": 0, "error": "",
            "request": req.stored(),
        }  # fmt: skip
        # the run lease before the job is visible: no other process may take it over
        await self._redis.set(self._run_key(job_id), self._me, px=RUN_LEASE_MS)
        await self._save(job)
        await asyncio.to_thread(
            audit.record, self.store, caller, "export_create", req.service, req.report,
            {"kind": req.kind, "params": req.params}, "ok", job_id,
        )  # fmt: skip
        self._start(job, caller, req)
        return self.public(job)

    def _start(self, job: dict[str, Any], caller: Caller, req: ExportRequest) -> None:
        task = asyncio.create_task(self._run(job, caller, req))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _take_over(self, job: dict[str, Any], caller: Caller) -> dict[str, Any]:
        """Run a job whose process died (its run lease lapsed) here, as its
        creator asked it: `caller` has just been checked to be that creator,
        under the same scope, so the rows are the ones the job was made for."""
        if job["status"] not in ("queued", "running") or "request" not in job:
            return job
        if not await self._redis.set(self._run_key(job["id"]), self._me, nx=True,
                                     px=RUN_LEASE_MS):  # fmt: skip
            return job  # its process (or another taker) holds it
        log.warning("export taken over from a process that stopped", extra={"export_id": job["id"]})
        job.update(status="queued", progress=0)
        await self._save(job)
        self._start(job, caller, ExportRequest.from_stored(job["request"]))
        return job

    async def get(self, caller: Caller, job_id: str) -> dict[str, Any]:
        job = await self._load(job_id)
        self._check_owner(caller, job)
        if self._expired(job):
            await self._purge(job)
            job["status"] = "expired"
        else:
            job = await self._take_over(job, caller)
        return self.public(job)

    async def download(self, caller: Caller, job_id: str) -> tuple[Path, dict[str, Any]]:
        job = await self._load(job_id)
        self._check_owner(caller, job)
        if self._expired(job):
            await self._purge(job)
            raise Gone("this export has expired and its file is deleted; start a new export")
        if job["status"] != "done":
            raise AccessDenied(f"the export is {job['status']}, not ready yet", 409)
        if not self._path(job).is_file():
            # Its job is in Redis, which every API process shares; its file is
            # on the disk of the process that made it.
            raise AccessDenied(
                "this export's file is not on this server: an export is kept under the "
                "STATFLOW_HOME of the API process that made it, so give every API process "
                "the same shared home",
                409,
            )
        await asyncio.to_thread(
            audit.record, self.store, caller, "export_download", job["service"], job["report"],
            {"kind": job["kind"]}, "ok", job_id,
        )  # fmt: skip
        return self._path(job), job

    async def sweep(self) -> int:
        """Delete the files of expired jobs; returns how many. Files are judged
        by their own age as well: a job whose Redis key is gone (flushed, or
        evicted where Redis runs as a cache) must not leave its file, personal
        data perhaps, on disk for ever."""
        n = 0
        async for key in self._redis.scan_iter(match=self._prefix + "*"):
            raw = await self._redis.get(key)
            if raw:
                job = orjson.loads(raw)
                if self._expired(job) and self._path(job).exists():
                    await self._purge(job)
                    n += 1
        return n + await asyncio.to_thread(self._sweep_files)

    def _sweep_files(self) -> int:
        if not self.folder.is_dir():
            return 0
        entries = []
        for path in self.folder.iterdir():
            with contextlib.suppress(FileNotFoundError):  # another process swept it
                entries.append((path.name, path.stat().st_mtime))
        stale = stale_files(entries, time.time(), self.settings.export_ttl_seconds)
        for name in stale:
            (self.folder / name).unlink(missing_ok=True)
        return len(stale)

    def public(self, job: dict[str, Any]) -> dict[str, Any]:
        out = {k: job[k] for k in ("id", "kind", "format", "status", "progress", "created_at",
                                   "expires_at", "rows", "error")}  # fmt: skip
        if job["status"] == "done":
            out["download"] = f"/api/v1/exports/{job['id']}/download"
        return out

    # -- internals ----------------------------------------------------------

    async def _run(self, job: dict[str, Any], caller: Caller, req: ExportRequest) -> None:
        renewing = asyncio.create_task(self._renew(job["id"]))
        try:
            await self._run_held(job, caller, req)
        finally:
            renewing.cancel()
            with contextlib.suppress(Exception):  # Redis away: the lease lapses by itself
                await self._redis.delete(self._run_key(job["id"]))

    async def _renew(self, job_id: str) -> None:
        while True:
            await asyncio.sleep(RUN_LEASE_MS / 3000)
            with contextlib.suppress(Exception):  # Redis away: the lease may lapse, a taker runs it
                await self._redis.set(self._run_key(job_id), self._me, px=RUN_LEASE_MS)

    async def _run_held(self, job: dict[str, Any], caller: Caller, req: ExportRequest) -> None:
        job["status"] = "running"
        await self._save(job)
        faults.point("export.mid-run")
        try:
            columns, rows = await asyncio.to_thread(self._rows, caller, req)
            job["progress"] = 80
            await self._save(job)
            body = _csv(columns, rows) if req.format == "csv" else _xlsx(columns, rows)
            self.folder.mkdir(parents=True, exist_ok=True)
            self._path(job).write_bytes(body)
            job.update(status="done", progress=100, rows=len(rows))
        except Exception as exc:  # noqa: BLE001 - the job records why; the API stays up
            log.warning(
                "export failed", extra={"export_id": job["id"], "error": type(exc).__name__}
            )
            job.update(status="failed", error=str(exc)[:300])
        await self._save(job)

    def _rows(self, caller: Caller, req: ExportRequest) -> tuple[list[str], list[list[Any]]]:
        if req.kind == "aggregated":
            result = engine.run(req.service, req.report, req.params, self.store, caller=caller)
            return [c.name for c in result.columns], result.rows
        found = self.store.query_rows(
            DETAIL_SQL,
            {"providers": list(caller.care_providers), "date_from": req.date_from,
             "date_to": req.date_to},
        )  # fmt: skip
        keys = {
            cp: pseudonyms.field_keys(self._secret, cp, PSEUDONYMISED)
            for cp in caller.care_providers
        }
        rows = []
        for r in found:
            row = list(r)
            if req.kind != "identified":
                for name, i in PSEUDONYMISED.items():
                    row[i] = pseudonyms.pseudonym(keys[row[6]][name], row[i] or "")
            row[1] = row[1].isoformat()
            rows.append(row)
        return list(DETAIL_COLUMNS), rows

    def _check_owner(self, caller: Caller, job: dict[str, Any]) -> None:
        why = ownership_problem(caller, job.get("owner"), str(job.get("kind", "")))
        if why is not None:
            raise AccessDenied(why, 403)

    @staticmethod
    def _expired(job: dict[str, Any]) -> bool:
        return dt.datetime.fromisoformat(job["expires_at"]) <= dt.datetime.now(dt.UTC)

    def _run_key(self, job_id: str) -> str:
        # beside the jobs' keys, not under their prefix: `sweep` reads those as jobs
        return f"statflow:{self.settings.clickhouse_database}:export-run:{job_id}"

    def _path(self, job: dict[str, Any]) -> Path:
        return self.folder / f"{job['id']}.{job['format']}"

    async def _purge(self, job: dict[str, Any]) -> None:
        self._path(job).unlink(missing_ok=True)

    async def _save(self, job: dict[str, Any]) -> None:
        ttl = self.settings.export_ttl_seconds + TOMBSTONE_SECONDS
        await self._redis.set(self._prefix + job["id"], orjson.dumps(job), ex=ttl)

    async def _load(self, job_id: str) -> dict[str, Any]:
        raw = await self._redis.get(self._prefix + job_id) if job_id.isalnum() else None
        if raw is None:
            raise NotFound(f"no export {job_id[:40]!r}")
        job: dict[str, Any] = orjson.loads(raw)
        return job


class Gone(AccessDenied):
    def __init__(self, message: str) -> None:
        super().__init__(message, 410)


class NotFound(AccessDenied):
    def __init__(self, message: str) -> None:
        super().__init__(message, 404)


def _csv(columns: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    w.writerows([["" if v is None else v for v in r] for r in rows])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _xlsx(columns: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet("export")
    sheet.write_row(0, 0, columns, book.add_format({"bold": True}))
    for i, r in enumerate(rows, start=1):
        for j, v in enumerate(r):
            if isinstance(v, int | float) and not isinstance(v, bool):
                sheet.write_number(i, j, v)
            elif v is not None:
                sheet.write_string(i, j, str(v))
    book.close()
    return buf.getvalue()
