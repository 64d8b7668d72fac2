"""Where the local stack lives and which ports it uses, derived from Settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import ConfigError, StackError
from core.settings import Settings

KAFKA_DIR = Path(__file__).resolve().parent.parent / "kafka"
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
