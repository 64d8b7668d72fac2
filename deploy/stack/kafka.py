"""Kafka 4.1 in KRaft combined mode from Maven-resolved jars: its config file,
start, and which running process is ours."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from core.errors import StackError
from deploy.stack.config import (
    HOST,
    KAFKA_HEAP,
    LIBS_DIR,
    LOG4J2_CONFIG,
    MESSAGE_MAX_BYTES,
    POM,
    StackConfig,
)
from deploy.stack.processes import _alive, _cmdline, _file_lock, _read_pid, _strip_ansi

# --------------------------------------------------------------------------- kafka


def _kafka_logs(cfg: StackConfig) -> list[Path]:
    return [cfg.kafka_dir / "logs" / "server.log", cfg.kafka_dir / "kafka.out"]


def server_properties(cfg: StackConfig) -> str:
    """The broker's configuration; public so that tests and docs can show it."""
    data = cfg.kafka_dir / "data"
    return "\n".join(
        [
            "# Written by deploy/stack/kafka.py on every `up`; edits here are overwritten.",
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.bootstrap.servers={HOST}:{cfg.controller_port}",
            f"listeners=PLAINTEXT://{HOST}:{cfg.kafka_port},CONTROLLER://{HOST}:{cfg.controller_port}",
            f"advertised.listeners=PLAINTEXT://{HOST}:{cfg.kafka_port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={data}",
            # One broker: every replicated internal topic must make do with one replica.
            "default.replication.factor=1",
            "min.insync.replicas=1",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            # Fewer partitions make the first consumer-group join much faster (the
            # offsets topic is created on first use) without changing semantics.
            "offsets.topic.num.partitions=4",
            "transaction.state.log.num.partitions=4",
            # A restarted sole voter waits one election timeout (1-2 s by default)
            # before it leads again; with no other voter there is no split vote to avoid.
            "controller.quorum.election.timeout.ms=200",
            # Tests start consumers one after another; don't wait 3 s for more members.
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            "num.partitions=4",
            f"message.max.bytes={MESSAGE_MAX_BYTES}",
            f"replica.fetch.max.bytes={MESSAGE_MAX_BYTES}",
            "",
        ]
    )


def _our_kafka_pid(cfg: StackConfig) -> int | None:
    pid = _read_pid(cfg.kafka_dir / "kafka.pid")
    if pid is None or not _alive(pid):
        return None
    argv = _cmdline(pid)
    props = str(cfg.kafka_dir / "server.properties")
    # The properties path is unique to this home, so a recycled pid can't match.
    if "kafka.Kafka" in argv and props in argv:
        return pid
    return None


def _check_same_ports_kafka(cfg: StackConfig) -> None:
    props = cfg.kafka_dir / "server.properties"
    try:
        text = props.read_text()
    except OSError:
        return
    m = re.search(r"^listeners=PLAINTEXT://[^:]+:(\d+),CONTROLLER://[^:]+:(\d+)", text, re.M)
    if m and (int(m[1]), int(m[2])) != (cfg.kafka_port, cfg.controller_port):
        raise StackError(
            f"the Kafka started from {cfg.root} is running on ports {m[1]}/{m[2]}, not "
            f"{cfg.kafka_port}/{cfg.controller_port}; run `stack down` with the old ports "
            "(or the same home) first."
        )


def _start_kafka(cfg: StackConfig, libs: Path) -> subprocess.Popen[bytes]:
    java = _java()
    d = cfg.kafka_dir
    (d / "logs").mkdir(parents=True, exist_ok=True)
    (d / "data").mkdir(parents=True, exist_ok=True)
    props = d / "server.properties"
    props.write_text(server_properties(cfg))
    classpath = f"{libs}/*"  # expanded by java itself, not by a shell
    if not (d / "data" / "meta.properties").exists():
        cluster_id = _run_tool(
            [java, "-cp", classpath, "kafka.tools.StorageTool", "random-uuid"], d
        ).strip()
        # --standalone: this node is the whole (dynamic) controller quorum.
        _run_tool(
            [
                java,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(props),
                "--standalone",
            ],
            d,
        )
    with open(d / "kafka.out", "ab") as out:
        proc = subprocess.Popen(
            [
                java,
                KAFKA_HEAP,
                "-XX:+ExitOnOutOfMemoryError",
                "-Djava.awt.headless=true",
                f"-Dkafka.logs.dir={d / 'logs'}",
                f"-Dlog4j2.configurationFile={LOG4J2_CONFIG}",
                "-cp",
                classpath,
                "kafka.Kafka",
                str(props),
            ],
            cwd=d,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            # Own session: the broker outlives the CLI and ignores its Ctrl-C.
            start_new_session=True,
        )
    (d / "kafka.pid").write_text(f"{proc.pid}\n")
    return proc


def _run_tool(cmd: list[str], cwd: Path) -> str:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise StackError(
            f"`{' '.join(cmd[3:])}` failed (exit {r.returncode}):\n"
            f"{(r.stdout + r.stderr).strip()[-3000:]}\n"
            f"If the data directory {cwd / 'data'} is damaged, delete it and run `up` again."
        )
    return r.stdout


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise StackError(
            "Kafka needs Java 17 or newer and `java` is not on PATH: install a JDK "
            "(e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME."
        )
    r = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    m = re.search(r'version "(\d+)(?:\.(\d+))?', r.stderr)
    if m:
        major = int(m[2]) if m[1] == "1" else int(m[1])  # "1.8.0" style is Java 8
        if major < 17:
            raise StackError(
                f"Kafka 4.1 needs Java 17 or newer but {java} is Java {major}; "
                "install a newer JDK or point JAVA_HOME at one."
            )
    return java


def _kafka_version() -> str:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(POM).getroot().find("m:properties/m:kafka.version", ns)
    if node is None or not node.text:
        raise StackError(f"{POM} has no <kafka.version> property")
    return node.text.strip()


def ensure_kafka_libs() -> Path:
    """Resolve the broker's jars into deploy/kafka/libs once; returns that dir.

    The kafka_2.13 jar is moved in last, so its presence means the set is
    complete even if an earlier run was killed halfway.
    """
    version = _kafka_version()
    marker = f"kafka_2.13-{version}.jar"
    if (LIBS_DIR / marker).exists():
        return LIBS_DIR
    LIBS_DIR.mkdir(parents=True, exist_ok=True)
    with _file_lock(LIBS_DIR / ".lock"):
        if (LIBS_DIR / marker).exists():  # another process finished while we waited
            return LIBS_DIR
        mvn = shutil.which("mvn")
        if mvn is None:
            raise StackError(
                "the local Kafka's jars are resolved with Maven and `mvn` is not on PATH: "
                "install it (e.g. `apt-get install maven`) and run `up` again."
            )
        for old in LIBS_DIR.glob("*.jar"):  # another Kafka version's jars would mix in
            old.unlink()
        staging = LIBS_DIR / ".download"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
        ]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            raise StackError(
                "Maven did not finish resolving Kafka's jars in 15 minutes; check access to "
                f"Maven Central and run `{' '.join(cmd)}` by hand to see where it stalls."
            ) from None
        jars = sorted(staging.glob("*.jar"))
        if r.returncode != 0 or not (staging / marker).exists():
            out = _strip_ansi(r.stdout + r.stderr).strip()[-3000:]
            raise StackError(
                f"Maven could not resolve Kafka's jars (exit {r.returncode}); it needs access "
                f"to Maven Central (or a mirror in ~/.m2/settings.xml).\n{out}"
            )
        for jar in sorted(jars, key=lambda p: p.name == marker):
            jar.replace(LIBS_DIR / jar.name)
        shutil.rmtree(staging, ignore_errors=True)
    return LIBS_DIR
