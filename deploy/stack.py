"""The local Kafka + Redis stack, without Docker.

Kafka 4.1 runs as one JVM in KRaft combined mode (broker and controller in one
process) from jars that Maven resolves into deploy/kafka/libs/; Redis is the
distribution's redis-server. Everything they write (data, logs, pid files) lives
under ``<home>/stack/``, so a test can run a private stack under a tmp dir.

Ownership rule: ``down`` only ever signals a process whose pid file is under this
home *and* whose command line proves it is the process we started. A Kafka or Redis
that already answers on the configured port but is not ours (a developer's own
service, another checkout's stack) is reported as running with
``started_by_us=False`` and used as is: the application only needs something that
speaks the protocol there. A port held by something that does not speak the
protocol is an error, because starting ours would fail to bind anyway.

Try it with ``python -m deploy.stack up|down|status [--home DIR] ...``; the project
CLI (``statflow stack``) calls ``up``/``down``/``status``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import ConfigError, StackError
from core.settings import Settings

KAFKA_DIR = Path(__file__).resolve().parent / "kafka"
POM = KAFKA_DIR / "pom.xml"
LOG4J2_CONFIG = KAFKA_DIR / "log4j2.properties"
LIBS_DIR = KAFKA_DIR / "libs"

HOST = "127.0.0.1"  # bound and advertised: never reachable from the network
MESSAGE_MAX_BYTES = 2 * 1024 * 1024
KAFKA_HEAP = "-Xmx1g"
KAFKA_STOP_GRACE = 30.0  # a clean KRaft shutdown takes a few seconds; SIGKILL only costs recovery
REDIS_STOP_GRACE = 10.0
_POLL = 0.1
_LOG_TAIL_LINES = 25
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", ""}


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class StackConfig:
    """Where the stack lives and which ports it uses.

    ``controller_port`` 0 means ``kafka_port + 1``, so that moving Kafka to another
    port (as tests do) moves its controller along instead of clashing on 9093.
    """

    home: Path
    kafka_port: int = 9092
    controller_port: int = 0
    redis_port: int = 6379

    def __post_init__(self) -> None:
        if self.controller_port == 0:
            object.__setattr__(self, "controller_port", self.kafka_port + 1)
        ports = {
            "kafka_port": self.kafka_port,
            "controller_port": self.controller_port,
            "redis_port": self.redis_port,
        }
        for name, port in ports.items():
            if not 0 < port < 65536:
                raise ConfigError(f"{name} must be between 1 and 65535, got {port}")
        if len(set(ports.values())) != len(ports):
            raise ConfigError(f"the stack's ports must all differ, got {ports}")

    @classmethod
    def from_settings(cls, s: Settings) -> StackConfig:
        kafka_port = _kafka_port(s.kafka_bootstrap)
        return cls(home=s.home, kafka_port=kafka_port, redis_port=_redis_port(s.redis_url))

    @property
    def root(self) -> Path:
        # Resolved once here so that pid files and the paths baked into
        # server.properties / command lines agree whatever the caller's cwd is later.
        return (self.home / "stack").resolve()

    @property
    def kafka_dir(self) -> Path:
        return self.root / "kafka"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def kafka_address(self) -> str:
        return f"{HOST}:{self.kafka_port}"

    @property
    def redis_address(self) -> str:
        return f"{HOST}:{self.redis_port}"


def _kafka_port(bootstrap: str) -> int:
    """Port of the first bootstrap server; the local stack is a single broker."""
    first = bootstrap.split(",")[0].strip()
    if "://" in first:  # faust-style "kafka://host:port" or "PLAINTEXT://host:port"
        first = first.split("://", 1)[1]
    if not first:
        raise ConfigError("STATFLOW_KAFKA_BOOTSTRAP is empty; expected host:port")
    host, port = _split_host_port(first, default_port=9092, what="STATFLOW_KAFKA_BOOTSTRAP")
    _require_local(host, "STATFLOW_KAFKA_BOOTSTRAP", bootstrap)
    return port


def _split_host_port(hostport: str, default_port: int, what: str) -> tuple[str, int]:
    if hostport.startswith("["):  # [::1]:9092
        host, _, rest = hostport[1:].partition("]")
        raw_port = rest[1:] if rest.startswith(":") else ""
    elif hostport.count(":") == 1:
        host, raw_port = hostport.split(":")
    else:
        host, raw_port = hostport, ""
    if raw_port == "":
        return host, default_port
    try:
        return host, int(raw_port)
    except ValueError:
        raise ConfigError(f"{what}: port must be a number, got {raw_port!r}") from None


def _redis_port(url: str) -> int:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ConfigError(
            f"STATFLOW_REDIS_URL must be redis://host:port/db for the local stack, got {url!r}"
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"STATFLOW_REDIS_URL has a malformed port: {url!r}") from None
    _require_local(parts.hostname or "", "STATFLOW_REDIS_URL", url)
    return port or 6379


def _require_local(host: str, name: str, value: str) -> None:
    # Starting a local service for a remote address would leave the app talking to
    # the remote one while we report "running" for ours.
    if host.lower() not in _LOCAL_HOSTS:
        raise StackError(
            f"{name}={value!r} points at {host!r}; the local stack only serves localhost. "
            "Unset it (or point it at localhost) to use `stack up`, or run that service yourself."
        )


# --------------------------------------------------------------------------- status


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    running: bool  # answers its protocol right now (Kafka metadata, Redis PING)
    pid: int | None  # only known for processes we started
    address: str
    started_by_us: bool

    def __str__(self) -> str:
        state = "running" if self.running else ("starting" if self.pid else "stopped")
        owner = (
            "started by statflow" if self.started_by_us else ("not ours" if self.running else "-")
        )
        pid = f"pid={self.pid}" if self.pid else "pid=-"
        return f"{self.name:<6} {state:<8} {self.address:<16} {pid:<11} {owner}"


def status(cfg: StackConfig) -> list[ServiceStatus]:
    return [_kafka_status(cfg), _redis_status(cfg)]


def _kafka_status(cfg: StackConfig) -> ServiceStatus:
    pid = _our_kafka_pid(cfg)
    return ServiceStatus(
        name="kafka",
        running=_kafka_answers(cfg.kafka_port),
        pid=pid,
        address=cfg.kafka_address,
        started_by_us=pid is not None,
    )


def _redis_status(cfg: StackConfig) -> ServiceStatus:
    pid = _our_redis_pid(cfg)
    return ServiceStatus(
        name="redis",
        running=_redis_answers(cfg.redis_port),
        pid=pid,
        address=cfg.redis_address,
        started_by_us=pid is not None,
    )


# --------------------------------------------------------------------------- up


def up(cfg: StackConfig, timeout: float = 120.0) -> list[ServiceStatus]:
    """Start whatever is not running yet and wait until both answer.

    ``timeout`` covers waiting for the services to answer, not the one-off jar
    download and redis-server install (those have their own, longer limits).
    On failure, processes this call started are stopped again so that a failed
    ``up`` never leaves a half-started JVM behind.
    """
    cfg.root.mkdir(parents=True, exist_ok=True)
    with _file_lock(cfg.root / ".lock"):
        kafka_pid = _our_kafka_pid(cfg)
        redis_pid = _our_redis_pid(cfg)
        if kafka_pid is not None:
            _check_same_ports_kafka(cfg)
        if redis_pid is not None:
            _check_same_port_redis(cfg, redis_pid)
        start_kafka = kafka_pid is None and not _foreign_ok(
            "Kafka", cfg.kafka_port, _kafka_answers, extra_ports=(cfg.controller_port,)
        )
        start_redis = redis_pid is None and not _foreign_ok("Redis", cfg.redis_port, _redis_answers)

        # The cold-start prerequisites (Maven download, apt install) are independent
        # and each takes tens of seconds, so fetch them side by side.
        with ThreadPoolExecutor(max_workers=2) as pool:
            libs_f = pool.submit(ensure_kafka_libs) if start_kafka else None
            redis_f = pool.submit(ensure_redis_server) if start_redis else None
            libs = libs_f.result() if libs_f else None
            redis_server = redis_f.result() if redis_f else None

        started: list[tuple[int, Path]] = []  # (pid, pid file) of what this call starts
        try:
            kafka_alive = _pid_alive(kafka_pid)
            if libs is not None:
                proc = _start_kafka(cfg, libs)
                started.append((proc.pid, cfg.kafka_dir / "kafka.pid"))
                # poll() rather than _alive(): reaping it ourselves would lose the exit status.
                kafka_alive = lambda: proc.poll() is None  # noqa: E731
            redis_alive = _pid_alive(redis_pid)
            if redis_server is not None:
                pid = _start_redis(cfg, redis_server)
                started.append((pid, cfg.redis_dir / "redis.pid"))
                redis_alive = _pid_alive(pid)
            deadline = time.monotonic() + timeout
            _wait_for(
                "Redis", cfg.redis_port, _redis_answers, deadline, _redis_logs(cfg), redis_alive
            )
            _wait_for(
                "Kafka", cfg.kafka_port, _kafka_answers, deadline, _kafka_logs(cfg), kafka_alive
            )
        except BaseException:
            _terminate([pid for pid, _ in started], grace=5.0)
            for _, pidfile in started:
                _unlink(pidfile)
            raise
    return status(cfg)


def _pid_alive(pid: int | None) -> Callable[[], bool]:
    """Liveness check for a service we wait on; always true for someone else's."""
    if pid is None:
        return lambda: True
    return lambda: _alive(pid)


def _foreign_ok(
    what: str,
    port: int,
    answers: Callable[[int], bool],
    extra_ports: Sequence[int] = (),
) -> bool:
    """True if someone else's service already answers on ``port`` (so we use it).

    Raises if the port (or a port our process would also need) is held by
    something that is not a working service of that kind.
    """
    if _port_open(port):
        if answers(port):
            return True
        raise StackError(
            f"port {HOST}:{port} is already in use{_holder(port)} but does not answer as {what}. "
            f"Stop that process or choose another port (--kafka-port / --redis-port, "
            f"or STATFLOW_KAFKA_BOOTSTRAP / STATFLOW_REDIS_URL)."
        )
    for extra in extra_ports:
        if _port_open(extra):
            raise StackError(
                f"{what} needs port {HOST}:{extra} as well, but it is already in use"
                f"{_holder(extra)}. Stop that process or choose another port."
            )
    return False


def _wait_for(
    what: str,
    port: int,
    answers: Callable[[int], bool],
    deadline: float,
    logs: Sequence[Path],
    alive: Callable[[], bool],
) -> None:
    while True:
        if answers(port):
            return
        if not alive():
            raise StackError(f"{what} exited before answering on {HOST}:{port}.{_tails(logs)}")
        if time.monotonic() >= deadline:
            raise StackError(
                f"{what} did not answer on {HOST}:{port} in time; if the machine is just "
                f"slow, retry with a longer timeout.{_tails(logs)}"
            )
        time.sleep(_POLL)


# --------------------------------------------------------------------------- kafka


def _kafka_logs(cfg: StackConfig) -> list[Path]:
    return [cfg.kafka_dir / "logs" / "server.log", cfg.kafka_dir / "kafka.out"]


def server_properties(cfg: StackConfig) -> str:
    """The broker's configuration; public so that tests and docs can show it."""
    data = cfg.kafka_dir / "data"
    return "\n".join(
        [
            "# Written by deploy/stack.py on every `up`; edits here are overwritten.",
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


# --------------------------------------------------------------------------- redis


def _redis_logs(cfg: StackConfig) -> list[Path]:
    return [cfg.redis_dir / "redis.log"]


def _our_redis_pid(cfg: StackConfig) -> int | None:
    pid = _read_pid(cfg.redis_dir / "redis.pid")
    if pid is None or not _alive(pid):
        return None
    if "redis-server" not in " ".join(_cmdline(pid)):
        return None
    # redis-server retitles itself ("redis-server 127.0.0.1:6379"), so the command
    # line can't tell our instance from another; its working dir (--dir) can.
    cwd = _cwd(pid)
    if cwd is not None and cwd != cfg.redis_dir / "data":
        return None
    return pid


def _check_same_port_redis(cfg: StackConfig, pid: int) -> None:
    m = re.search(r":(\d+)", " ".join(_cmdline(pid)))
    if m and int(m[1]) != cfg.redis_port:
        raise StackError(
            f"the Redis started from {cfg.root} is running on port {m[1]}, not "
            f"{cfg.redis_port}; run `stack down` first."
        )


def _start_redis(cfg: StackConfig, redis_server: str) -> int:
    d = cfg.redis_dir
    (d / "data").mkdir(parents=True, exist_ok=True)
    pidfile = d / "redis.pid"
    _unlink(pidfile)  # so that waiting for it below can't read a stale one
    cmd = [
        redis_server,
        "--port",
        str(cfg.redis_port),
        "--bind",
        HOST,
        # A cache for the app, not a store: no snapshots, no AOF.
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "yes",
        "--pidfile",
        str(pidfile),
        "--logfile",
        str(d / "redis.log"),
        "--dir",
        str(d / "data"),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise StackError(
            f"redis-server refused to start (exit {r.returncode}): "
            f"{(r.stdout + r.stderr).strip()}{_tails(_redis_logs(cfg))}"
        )
    # --daemonize: the child writes the pid file shortly after the parent exits.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pid = _read_pid(pidfile)
        if pid is not None:
            return pid
        time.sleep(_POLL)
    raise StackError(
        f"redis-server started but wrote no pid file {pidfile}.{_tails(_redis_logs(cfg))}"
    )


def ensure_redis_server() -> str:
    """Path of redis-server, installing the distribution package if we may."""
    found = _which_redis()
    if found:
        return found
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        raise StackError(
            "redis-server is not installed: install it (`sudo apt-get install redis-server`, "
            "`brew install redis`, ...) and run `up` again."
        )
    # apt's own lock makes a concurrent second install fail instead of wait.
    with _file_lock(Path(tempfile.gettempdir()) / "statflow-redis-install.lock"):
        found = _which_redis()
        if found:
            return found
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = [apt, "install", "-y", "-q", "--no-install-recommends", "redis-server"]
        r = subprocess.run(install, capture_output=True, text=True, env=env, timeout=600)
        if r.returncode != 0:  # usually stale package lists
            subprocess.run([apt, "update", "-q"], capture_output=True, env=env, timeout=600)
            r = subprocess.run(install, capture_output=True, text=True, env=env, timeout=600)
        found = _which_redis()
        if r.returncode != 0 or not found:
            raise StackError(
                f"`apt-get install redis-server` failed (exit {r.returncode}); install it by "
                f"hand and run `up` again.\n{(r.stdout + r.stderr).strip()[-2000:]}"
            )
        return found


def _which_redis() -> str | None:
    # /usr/sbin isn't on every PATH, and some distributions put redis-server there.
    return shutil.which("redis-server") or shutil.which(
        "redis-server", path="/usr/bin:/usr/sbin:/usr/local/bin"
    )


# --------------------------------------------------------------------------- down


def down(cfg: StackConfig) -> list[ServiceStatus]:
    """Stop the processes this home started; leave anything else alone."""
    if not cfg.root.exists():
        return status(cfg)
    with _file_lock(cfg.root / ".lock"):
        kafka = _our_kafka_pid(cfg)
        redis = _our_redis_pid(cfg)
        # Both get SIGTERM at once; Kafka's controlled shutdown dominates the wait.
        _terminate([p for p in (kafka, redis) if p is not None], grace=KAFKA_STOP_GRACE)
        # Redis removes its own pid file on shutdown; a SIGKILLed one and ours don't.
        _unlink(cfg.kafka_dir / "kafka.pid")
        _unlink(cfg.redis_dir / "redis.pid")
    return status(cfg)


def _terminate(pids: Sequence[int], grace: float) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    pending = list(pids)
    while pending and time.monotonic() < deadline:
        pending = [p for p in pending if _alive(p)]
        if pending:
            time.sleep(_POLL)
    for pid in pending:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + 5
    while any(_alive(p) for p in pending) and time.monotonic() < end:
        time.sleep(_POLL)


# --------------------------------------------------------------------------- probes


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        buf += chunk
    return buf


def _kafka_answers(port: int) -> bool:
    """A real Metadata request (v4: understood by Kafka 1.0 up to 4.x).

    An open port is not enough: the broker accepts connections before it has
    joined its controller, and an unrelated server may hold the port.
    """
    client_id = b"statflow-stack"
    header = struct.pack(">hhih", 3, 4, 1, len(client_id)) + client_id  # Metadata v4, corr 1
    body = struct.pack(">i?", 0, False)  # no topics, don't auto-create
    request = header + body
    try:
        with socket.create_connection((HOST, port), timeout=2.0) as sock:
            sock.settimeout(2.0)
            sock.sendall(struct.pack(">i", len(request)) + request)
            (size,) = struct.unpack(">i", _recv_exact(sock, 4))
            if not 8 <= size <= 1 << 20:
                return False
            resp = _recv_exact(sock, size)
    except (OSError, ConnectionError, struct.error):
        return False
    try:
        corr, _throttle, n_brokers = struct.unpack_from(">iii", resp, 0)
        if corr != 1:
            return False
        off = 12
        for _ in range(n_brokers):
            off += 4  # node_id
            (hlen,) = struct.unpack_from(">h", resp, off)
            off += 2 + hlen + 4  # host, port
            (rlen,) = struct.unpack_from(">h", resp, off)
            off += 2 + max(rlen, 0)  # rack (nullable)
        (clen,) = struct.unpack_from(">h", resp, off)
        off += 2 + max(clen, 0)  # cluster_id (nullable)
        (controller_id,) = struct.unpack_from(">i", resp, off)
    except struct.error:
        return False
    # Brokers listed and a controller known: the broker is serving, not just listening.
    return bool(n_brokers > 0 and controller_id >= 0)


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=2.0) as sock:
            sock.settimeout(2.0)
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    # NOAUTH is still a Redis, one that wants the password from STATFLOW_REDIS_URL.
    return reply.startswith((b"+PONG", b"-NOAUTH"))


def _holder(port: int) -> str:
    """' (by java, pid 123)' when `ss` can tell; best effort, only for messages."""
    ss = shutil.which("ss")
    if ss is None:
        return ""
    try:
        r = subprocess.run(
            [ss, "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    m = re.search(r'users:\(\("([^"]+)",pid=(\d+)', r.stdout)
    return f" (by {m[1]}, pid {m[2]})" if m else ""


# --------------------------------------------------------------------------- processes


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    # A broker we started in this very process stays a zombie after it exits until
    # someone reaps it; kill(pid, 0) alone would call that alive.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs (macOS): kill(0) is all we have
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return [a for a in raw.decode(errors="replace").split("\0") if a]
    except OSError:
        pass
    try:
        r = subprocess.run(
            ["ps", "-ww", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return r.stdout.split()


def _cwd(pid: int) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _tails(paths: Sequence[Path]) -> str:
    parts = []
    for p in paths:
        try:
            lines = p.read_text(errors="replace").splitlines()
        except OSError:
            continue
        if lines:
            tail = "\n".join("    " + line for line in lines[-_LOG_TAIL_LINES:])
            parts.append(f"\nLast lines of {p}:\n{tail}")
    return "".join(parts) or "\n(no log output yet)"


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


if __name__ == "__main__":
    sys.exit(main())
