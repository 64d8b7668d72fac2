"""Dead letters on the real stack (issue 15, item 5): personal identity numbers
written in every form of the population register, typed into enum, pattern and
id fields of event and reference topics, are rejected to the DLQ; no DLQ
header, no row of the dead_letters table and no log line repeats any of them,
and an enum's reason names the field and its allowed values instead. The DLQ
keeps the original bytes, for the retention statflow set when it created the
topic."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from core.errors import ValidationError
from schemas.topics import BY_NAME
from sinks.clickhouse import ClickHouseStore
from tests.integration.harness import StatflowProcess
from tests.integration.kafka_util import publish, read_all
from tests.unit.schemas.test_redaction import ALL_FORMS, BASES, leftovers

# topic -> (decoder and valid base record, fields to type the numbers into)
CASES: dict[str, tuple[str, list[str]]] = {
    "ntjp.calls.v1": ("call", ["operation", "status"]),
    "sob.transactions.v1": ("sob", ["patient_gender", "patient_id"]),
    "etj.cases.v1": ("etj_case", ["event", "case_type_kind"]),
    "etj.logins.v1": ("etj_login", ["actor", "method"]),
    "hsa.units.v1": ("unit", ["kind", "county_code"]),
}
ENUMS = {"operation", "status", "patient_gender", "event", "case_type_kind", "actor", "method",
         "kind"}  # fmt: skip
RETENTION_HOURS = 36


def test_dead_letters_never_repeat_a_personal_number(
    settings: Any, statflow: StatflowProcess
) -> None:
    settings = settings.with_(dlq_retention_hours=RETENTION_HOURS)
    statflow.settings = settings
    sent: dict[str, list[tuple[bytes, str, str]]] = {}  # topic -> (bytes, field, form)
    for topic, (base_name, fields) in CASES.items():
        decode, base = BASES[base_name]
        out = sent.setdefault(topic, [])
        for i, form in enumerate(ALL_FORMS):
            for field in fields:
                record = {**base, field: form}
                if "event_id" in record:
                    record["event_id"] = f"e-{field}-{i}"
                else:
                    record["hsa_id"] = f"SE-U-{field}-{i}"
                raw = orjson.dumps(record)
                try:
                    decode(raw)
                except ValidationError:
                    out.append((raw, field, form))
        # plain 12 digits are a valid patient_id; everything else here is refused
        assert len(out) >= len(ALL_FORMS) * len(fields) - len(ALL_FORMS), topic

    statflow.start()
    for topic, rows in sent.items():
        publish(settings, topic, [raw for raw, _, _ in rows])

    problems: list[str] = []
    for topic, rows in sent.items():
        dlq = read_all(settings, BY_NAME[topic].dlq(settings), len(rows), timeout=120)
        assert len(dlq) == len(rows), (topic, len(dlq), len(rows))
        originals = {raw: (field, form) for raw, field, form in rows}
        for m in dlq:
            field, form = originals[m.value]  # the original bytes, unchanged
            reason = dict(m.headers)["error"].decode()
            if leftovers(reason, form):
                problems.append(f"{topic} {field}: {reason}")
            if field in ENUMS and not reason.startswith(f"{field}: not one of the allowed values"):
                problems.append(f"{topic} {field}: the enum's reason says {reason!r}")
    assert not problems, "\n".join(problems[:20])

    # retention: set by statflow on every DLQ it created, never compacted
    configs = asyncio.run(_topic_configs(settings, [s.dlq(settings) for s in BY_NAME.values()]))
    for name, config in configs.items():
        assert config.get("retention.ms") == str(RETENTION_HOURS * 3600 * 1000), (name, config)
        assert config.get("cleanup.policy") == "delete", (name, config)

    statflow.stop()  # the chDB path is the process's while it runs
    store = ClickHouseStore(settings)
    try:
        reasons = store.query_rows("SELECT topic, reason FROM dead_letters")
    finally:
        store.close()
    assert len(reasons) == sum(len(rows) for rows in sent.values())
    all_forms = {form for rows in sent.values() for _, _, form in rows}
    text = "\n".join(r for _, r in reasons)
    log = statflow.log.read_text("utf-8", "replace")
    for form in all_forms:
        assert not leftovers(text, form), f"dead_letters repeats {form[:4]}…"
        assert form not in log and not leftovers(log, form), f"a log line repeats {form[:4]}…"


async def _topic_configs(settings: Any, names: list[str]) -> dict[str, dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
        out: dict[str, dict[str, str]] = {}
        for response in await admin.describe_configs(resources):
            for resource in response.resources:
                error, _, _, name, entries = resource[:5]
                assert error == 0, (name, resource)
                out[name] = {e[0]: e[1] for e in entries}
        assert set(out) == set(names)
        return out
    finally:
        await admin.close()
