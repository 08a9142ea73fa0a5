"""Real servers for the delivery tests and the benchmark: a private redis-server and Celery workers
running the project's tasks against the same database (no mocks, loopback only)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    """A loopback port nobody listens on now (tests running side by side must not share a broker)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """`redis-server` on its own port, without persistence (a restart loses every queued task)."""

    def __init__(self, port: int):
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait(up=True)
        return self

    def kill(self) -> None:
        """Crash it (SIGKILL): what a power cut or OOM kill does to the broker."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def _wait(self, *, up: bool) -> None:
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                if up:
                    return
            except redis.ConnectionError:
                if not up:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis on port {self.port} did not come {'up' if up else 'down'}")


def database_url(settings_dict: dict) -> str:
    """The URL of the database the current process uses (the test database during tests)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user, host, port = settings_dict.get("USER") or "postgres", settings_dict.get("HOST"), settings_dict.get("PORT")
    return f"postgres://{user}@{host or '127.0.0.1'}:{port or 5432}/{settings_dict['NAME']}"


@contextmanager
def celery_workers(
    *,
    redis_url: str,
    database: str,
    env: dict,
    concurrency: int = 2,
    name: str = "int",
    queues: str = "",
    pool: str = "prefork",
):
    """Start `celery worker` processes (prefork, or one `solo` process) for the project (on
    `queues`, comma-separated, when given; else the default queue); stop them on exit."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mes.settings",
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "mes",
            "worker",
            "-P",
            pool,
            "-c",
            str(concurrency),
            "-l",
            "WARNING",
            "-n",
            f"{name}-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            *(["-Q", queues] if queues else []),
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:  # not already gone (a test may have killed it)
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextmanager
def producer_on(redis_url: str):
    """Point this process's Celery app at `redis_url` (not eager), as the web process would be."""
    from mes.celery import app

    saved = {k: app.conf.get(k) for k in ("broker_url", "task_always_eager", "broker_transport_options")}
    app.conf.broker_url = redis_url
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = {"visibility_timeout": 3600}
    _reset_pools(app)
    try:
        yield app
    finally:
        _reset_pools(app)
        app.conf.update(saved)


def _reset_pools(app) -> None:
    """Drop the cached broker connections and producers, so the next publish uses the new URL."""
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
    pools.reset()  # kombu keeps pools per broker address: a closed one must not be handed out again
    app._pool = None
    app.amqp._producer_pool = None
