"""docker-compose.yml without a Docker engine: valid against the Compose
specification's JSON Schema (vendored, deploy/compose-spec.json), plus what a
schema cannot see: names that must meet (depends_on, mounts, Prometheus
targets, Grafana data sources) and dashboard queries that must match what
statflow exports (core/metrics.py) and stores (sinks/migrations)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from core import metrics
from core.settings import Settings
from sinks import migrate
from sinks.clickhouse import CHDB_CONFIG

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = ROOT / "deploy" / "compose-spec.json"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "statflow.json"
DATASOURCES = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "statflow.yml"
DASHBOARD_PROVIDERS = ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "statflow.yml"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
STATFLOW_SERVICES = ("worker", "api")


@cache
def compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(COMPOSE.read_text("utf-8"))
    return doc


def services() -> dict[str, Any]:
    s: dict[str, Any] = compose()["services"]
    return s


def env(service: str) -> dict[str, str]:
    e = services()[service].get("environment", {})
    if isinstance(e, list):
        e = dict(item.split("=", 1) for item in e)
    return {k: "" if v is None else str(v) for k, v in e.items()}


def mounts(service: str) -> list[tuple[str, str]]:
    """(source, target) of every volume of a service, short or long syntax."""
    out = []
    for v in services()[service].get("volumes", []):
        if isinstance(v, str):
            src, dst = v.split(":")[:2]
        else:
            src, dst = v.get("source", ""), v["target"]
        out.append((src, dst))
    return out


def host_path(service: str, container_path: str) -> Path:
    """The file in this repository that a container sees at container_path."""
    for src, dst in mounts(service):
        if src.startswith("./") and (container_path + "/").startswith(dst.rstrip("/") + "/"):
            return ROOT / src / Path(container_path).relative_to(dst)
    raise AssertionError(f"{service} mounts nothing at {container_path}")


def validator() -> jsonschema.Draft7Validator:
    """Draft 7, as the schema declares ("…/draft-07/schema", spelt without the
    '#' that jsonschema's lookup expects, so it is named here)."""
    schema = json.loads(SCHEMA.read_text("utf-8"))
    assert "draft-07" in schema["$schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_vendored_schema_is_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    assert schema["title"] == "Compose Specification"
    assert "services" in schema["properties"]
    notice = (ROOT / "deploy" / "compose-spec.NOTICE.md").read_text("utf-8")
    assert "github.com/compose-spec/compose-spec" in notice and "Apache License 2.0" in notice


def test_compose_file_is_valid_against_the_schema() -> None:
    errors = sorted(validator().iter_errors(compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_schema_catches_a_broken_file() -> None:
    """The check has teeth: a misspelt key and a wrong type are caught."""
    broken = json.loads(json.dumps(compose()))
    broken["services"]["api"]["depend_on"] = ["kafka"]
    broken["services"]["redis"]["ports"] = "6379:6379"
    assert len(list(validator().iter_errors(broken))) >= 2


def test_the_full_deployment_is_there() -> None:
    s = services()
    assert {"kafka", "clickhouse", "redis", "worker", "api", "prometheus", "grafana"} <= set(s)
    assert env("kafka")["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert s["worker"]["deploy"]["replicas"] == 2 and s["worker"]["command"] == ["worker"]
    assert s["api"]["command"] == ["api"]


def test_depends_on_names_services() -> None:
    for name, svc in services().items():
        deps = svc.get("depends_on", [])
        for dep in deps if isinstance(deps, list) else deps.keys():
            assert dep in services(), f"{name} depends on unknown service {dep}"


def test_mounted_files_and_build_contexts_exist() -> None:
    named = set(compose().get("volumes", {}))
    for name, svc in services().items():
        for src, _ in mounts(name):
            if src.startswith("./"):
                assert (ROOT / src).exists(), f"{name} mounts missing {src}"
            else:
                assert src in named, f"{name} uses undeclared volume {src}"
        build = svc.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).is_file()


def test_statflow_environment_is_what_settings_read() -> None:
    known = set(Settings().to_env()) | {"STATFLOW_DROP_DIR"}
    for name in STATFLOW_SERVICES:
        e = env(name)
        assert not {k for k in e if k.startswith("STATFLOW_")} - known, f"{name}: unknown variable"
        s = Settings.from_env(e)  # parses (ports are numbers, …)
        assert not s.embedded, f"{name} must reach the ClickHouse server, not chDB"
        host = re.match(r"https?://(?:[^@/]*@)?([\w.-]+)", s.clickhouse_dsn)
        assert host and host.group(1) in services()
        assert s.kafka_bootstrap.split(":")[0] in services()
        assert s.redis_url.split("//")[1].split(":")[0] in services()


def test_prometheus_scrapes_the_api_and_every_worker_on_their_ports() -> None:
    assert host_path("prometheus", "/etc/prometheus/prometheus.yml") == PROMETHEUS
    jobs = yaml.safe_load(PROMETHEUS.read_text("utf-8"))["scrape_configs"]
    targets: dict[str, int] = {}
    for job in jobs:
        for sc in job.get("static_configs", []):
            for t in sc["targets"]:
                host, port = t.split(":")
                targets[host] = int(port)
        for sd in job.get("dns_sd_configs", []):
            for host in sd["names"]:
                targets[host] = int(sd["port"])
    assert set(targets) <= set(services()), "a target names no compose service"
    listens = {
        "api": Settings.from_env(env("api")).http_port,
        "worker": Settings.from_env(env("worker")).metrics_port,
    }
    assert listens["worker"] > 0, "a worker serves /metrics only with STATFLOW_METRICS_PORT"
    assert {k: targets.get(k) for k in listens} == listens


@cache
def datasources() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(DATASOURCES.read_text("utf-8"))
    return {d["uid"]: d for d in doc["datasources"]}


def test_grafana_is_provisioned_from_mounted_files() -> None:
    base = "/etc/grafana/provisioning"
    assert host_path("grafana", f"{base}/datasources/statflow.yml") == DATASOURCES
    assert host_path("grafana", f"{base}/dashboards/statflow.yml") == DASHBOARD_PROVIDERS
    providers = yaml.safe_load(DASHBOARD_PROVIDERS.read_text("utf-8"))["providers"]
    folder = providers[0]["options"]["path"]
    assert host_path("grafana", f"{folder}/statflow.json") == DASHBOARD
    home = env("grafana")["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert host_path("grafana", home) == DASHBOARD


def test_grafana_data_sources_reach_compose_services() -> None:
    ds = datasources()
    assert ds["prometheus"]["type"] == "prometheus"
    assert re.match(r"http://prometheus:9090$", ds["prometheus"]["url"])
    ch = ds["clickhouse"]
    assert ch["type"] == "grafana-clickhouse-datasource"
    assert ch["type"] in env("grafana")["GF_INSTALL_PLUGINS"].split(",")
    assert ch["jsonData"]["host"] in services()
    assert ch["jsonData"]["defaultDatabase"] == env("api")["STATFLOW_CLICKHOUSE_DATABASE"]
    dsn = env("api")["STATFLOW_CLICKHOUSE_DSN"]
    assert f":{ch['jsonData']['port']}" in dsn
    # Grafana reads as the read-only user, not as the workers' admin (issue 19):
    # its password is the one the ClickHouse service hands that user.
    assert ch["jsonData"]["username"] in reader_users()
    password = ch["secureJsonData"]["password"]
    assert password == f"${READER_PASSWORD}" and password not in dsn
    assert env("grafana")[READER_PASSWORD] == env("clickhouse")[READER_PASSWORD]
    assert re.fullmatch(rf"\$\{{{READER_PASSWORD}:\?[^}}]+\}}", env("clickhouse")[READER_PASSWORD])


READER_PASSWORD = "STATFLOW_CLICKHOUSE_READER_PASSWORD"
USERS_D = "/etc/clickhouse-server/users.d/statflow_reader.xml"
CONFIG_D = "/etc/clickhouse-server/config.d/statflow.xml"


@cache
def reader_users() -> dict[str, ET.Element]:
    """The users the ClickHouse service's mounted users.d file defines."""
    users = ET.parse(host_path("clickhouse", USERS_D)).getroot().find("users")
    return {} if users is None else {u.tag: u for u in users}


def reader_profile(user: ET.Element) -> ET.Element:
    profiles = ET.parse(host_path("clickhouse", USERS_D)).getroot().find("profiles")
    profile = None if profiles is None else profiles.find(user.findtext("profile") or "-")
    assert profile is not None, "the reader's profile is not in the file"
    return profile


def test_grafana_reads_as_a_read_only_user_of_the_reports_views() -> None:
    """Issue 19: not ClickHouse's `default` admin. Readonly, limits it may lower
    but never raise, SELECT on the reports database and on what the freshness
    panel reads, nothing else."""
    user = reader_users()[datasources()["clickhouse"]["jsonData"]["username"]]
    password = user.find("password")
    assert password is not None and password.get("from_env") == READER_PASSWORD
    assert user.findtext("access_management") == "0"
    profile = reader_profile(user)
    assert profile.findtext("readonly") == "1"
    constraints = profile.find("constraints")
    assert constraints is not None
    for name in ("max_result_rows", "max_execution_time", "max_memory_usage"):
        limit = int(profile.findtext(name) or 0)
        c = constraints.find(name)
        assert limit > 0 and c is not None, name
        assert int(c.findtext("max") or 0) == limit and int(c.findtext("min") or 0) >= 1, name
        assert c.find("changeable_in_readonly") is not None, name
    assert constraints.find("readonly") is None  # never changeable in readonly mode
    assert profile.findtext("result_overflow_mode") == "throw"
    # changeable_in_readonly needs this server setting
    config = ET.parse(host_path("clickhouse", CONFIG_D)).getroot()
    assert config.findtext("settings_constraints_replace_previous") == "true"
    database = env("api")["STATFLOW_CLICKHOUSE_DATABASE"]
    grants = [q.text or "" for q in user.iter("query")]
    on = set()
    for grant in grants:
        m = re.fullmatch(r"GRANT SELECT(?:\(([\w, ]+)\))? ON (\w+)\.(\w+|\*)", grant.strip())
        assert m, f"not a SELECT grant: {grant}"
        on.add(f"{m.group(2)}.{m.group(3)}")
    assert f"{database}_reports.*" in on
    raw = {t.split(".")[1] for t in on if t.startswith(f"{database}.")}
    # every ClickHouse panel reads only what the reader is granted
    for panel in panels():
        for t in panel["targets"]:
            if t["datasource"]["type"] != "prometheus":
                named = set(re.findall(rf"\b{database}\.(\w+)", t["rawSql"]))
                assert named <= raw, f"{panel['title']}: {named - raw} not granted"
    assert raw == {"ingest_checkpoints"}  # no personal data: topic and write time


@cache
def panels() -> list[dict[str, Any]]:
    dash = json.loads(DASHBOARD.read_text("utf-8"))
    assert dash["uid"] == "statflow"
    found: list[dict[str, Any]] = dash["panels"]
    return found


def tables() -> set[str]:
    names = set()
    for m in migrate.load():
        for stmt in m.statements:
            t = re.match(r"CREATE (?:TABLE|VIEW|MATERIALIZED VIEW) IF NOT EXISTS (\w+)", stmt)
            if t:
                names.add(t.group(1))
    return names


def test_every_panel_query_names_what_statflow_exports_or_stores() -> None:
    declared = set(metrics._HELP)
    database = env("api")["STATFLOW_CLICKHOUSE_DATABASE"]
    seen: set[str] = set()
    for panel in panels():
        assert panel["datasource"]["uid"] in datasources(), panel["title"]
        assert panel["targets"], panel["title"]
        for t in panel["targets"]:
            uid = t["datasource"]["uid"]
            assert datasources()[uid]["type"] == t["datasource"]["type"], panel["title"]
            if t["datasource"]["type"] == "prometheus":
                used = {
                    re.sub(r"_(bucket|sum|count)$", "", n)
                    for n in re.findall(r"\bstatflow_\w+", t["expr"])
                }
                assert used, f"{panel['title']}: no statflow metric in {t['expr']}"
                assert used <= declared, f"{panel['title']}: {used - declared} not exported"
                seen |= used
            else:
                named = set(re.findall(rf"\b{database}\.(\w+)", t["rawSql"]))
                assert named and named <= tables(), f"{panel['title']}: {named - tables()}"
                seen |= named
    # the five things the dashboard is for
    want = {
        "statflow_events_accepted_total",  # ingest rate
        "statflow_consumer_lag",  # lag
        "statflow_events_rejected_total",  # dead letters
        "ingest_checkpoints",  # freshness, from ClickHouse
        "statflow_report_seconds",  # report latency
    }
    assert want <= seen, want - seen


@pytest.mark.parametrize("path", [DATASOURCES, DASHBOARD_PROVIDERS, PROMETHEUS])
def test_provisioning_files_parse(path: Path) -> None:
    assert yaml.safe_load(path.read_text("utf-8"))


def test_kafka_answers_containers_and_publishers_on_the_host() -> None:
    e = env("kafka")
    advertised = dict(
        item.split("://", 1)[::-1] for item in e["KAFKA_ADVERTISED_LISTENERS"].split(",")
    )
    by_name = {name: addr for addr, name in advertised.items()}
    internal = Settings.from_env(env("api")).kafka_bootstrap
    assert internal in advertised, "statflow's bootstrap must be an advertised listener"
    assert internal.split(":")[0] in services()
    published = {int(p.split(":")[1]) for p in services()["kafka"]["ports"]}
    host_side = [a for a in advertised if a.split(":")[0] not in services()]
    assert host_side, "no listener is advertised under a name the host can resolve"
    assert {int(a.rsplit(":", 1)[1]) for a in host_side} <= published
    assert set(by_name) <= set(
        e["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].replace(":", ",").split(",")
    )


def test_state_that_must_outlive_a_container_is_on_volumes() -> None:
    log_dir = env("kafka")["KAFKA_LOG_DIRS"]
    assert ("kafka-data", log_dir) in mounts("kafka")
    for name in STATFLOW_SERVICES:
        e = env(name)
        assert (
            "statflow-home",
            e["STATFLOW_HOME"],
        ) in mounts(name), f"{name}: statflow's home is not on a volume"
        for secret in ("STATFLOW_JWT_SECRET", "STATFLOW_PSEUDONYM_SECRET"):
            # required from the environment: a generated one would change per container
            assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", e[secret]), f"{name}: {secret}"


def test_the_server_gets_the_seen_stores_bloom_filter_chdb_gets() -> None:
    """The seen-id lookup's cost at 10 M ids rests on it (README, Benchmarks)."""

    def rocksdb(root: ET.Element) -> dict[str, str]:
        section = root.find("rocksdb")
        assert section is not None
        return {e.tag: (e.text or "").strip() for e in section.iter() if len(e) == 0}

    server = rocksdb(ET.parse(host_path("clickhouse", CONFIG_D)).getroot())
    assert server == rocksdb(ET.fromstring(CHDB_CONFIG))
    assert server["filter_policy"].startswith("bloomfilter:")
