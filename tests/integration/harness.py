"""Drive a real `statflow run` process from tests, and talk to it over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

# Every test request goes through this one client. httpx.get() builds a client
# per call, and with it an SSL context that loads the CA bundle: 20-30 ms per
# plain-http request to 127.0.0.1, a minute or two over the suite's polls.
# No keep-alive, as with httpx.get: a process restarted on the same port must
# never be sent a pooled connection of the one before it.
HTTP = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))


class StatflowProcess:
    def __init__(self, settings: Settings, log: Path, command: str = "run") -> None:
        self.settings = settings
        self.log = log
        self.command = command
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        # A worker answers only on its metrics port, a store only with
        # ClickHouse's HTTP interface.
        port = {
            "worker": self.settings.metrics_port,
            "store": self.settings.clickhouse_http_port,
        }.get(self.command, self.settings.http_port)
        return f"http://{self.settings.http_host}:{port}"

    @property
    def ready_path(self) -> str:
        return {"worker": "/healthz", "store": "/ping"}.get(self.command, "/readyz")

    def start(self, timeout: float = 90) -> StatflowProcess:
        env = {**os.environ, **self.settings.to_env(), "PYTHONPATH": str(ROOT)}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "statflow", self.command],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"statflow exited early:\n{self.tail()}")
            try:
                if HTTP.get(self.url + self.ready_path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"statflow not ready in {timeout}s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, n: int = 60) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text("utf-8", "replace").splitlines()[-n:])

    def get(self, path: str, **params: Any) -> httpx.Response:
        return HTTP.get(self.url + path, params=params, timeout=60)

    def get_with(self, path: str, headers: dict[str, str], **params: Any) -> httpx.Response:
        return HTTP.get(self.url + path, params=params, headers=headers, timeout=60)

    def report(self, service: str, report: str, **params: Any) -> dict[str, Any]:
        r = self.get(f"/api/v1/reports/{service}/{report}", **params)
        r.raise_for_status()
        body: dict[str, Any] = r.json()
        return body

    def wait_for(self, check: Any, timeout: float = 120, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = check()
            if last is True:
                return
            time.sleep(0.5)
        raise TimeoutError(f"{what} not met in {timeout}s (last: {str(last)[:500]})\n{self.tail()}")
