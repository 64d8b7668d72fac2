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

The package's modules, lowest first: ``config`` (StackConfig, ports from Settings,
ServiceStatus), ``processes`` (protocol probes, pids, locks, log tails),
``kafka`` and ``redis_server`` (config file, start, which process is ours),
``lifecycle`` (``up``, ``down``, ``status``) and ``cli``.
"""

from __future__ import annotations

from deploy.stack.config import MESSAGE_MAX_BYTES as MESSAGE_MAX_BYTES
from deploy.stack.config import ServiceStatus as ServiceStatus
from deploy.stack.config import StackConfig as StackConfig
from deploy.stack.kafka import _our_kafka_pid as _our_kafka_pid
from deploy.stack.kafka import ensure_kafka_libs as ensure_kafka_libs
from deploy.stack.kafka import server_properties as server_properties
from deploy.stack.lifecycle import down as down
from deploy.stack.lifecycle import status as status
from deploy.stack.lifecycle import up as up
from deploy.stack.redis_server import _our_redis_pid as _our_redis_pid
from deploy.stack.redis_server import ensure_redis_server as ensure_redis_server
