"""Private servers for the fault scenarios: each scenario starts, stops and kills its own PostgreSQL
cluster, redis-server, gunicorn and Celery worker, never the shared ones (other people use them).

Everything listens on loopback ports picked free at start; processes run in their own session so a
scenario can SIGKILL a whole worker (parent and pool children) as an OOM kill or power cut would.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_BIN = Path(os.environ.get("MES_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition") -> float:
    """Poll `predicate` until true; returns the seconds it took, raises after `timeout`."""
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{what} not reached within {timeout} s")
        time.sleep(interval)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _as_postgres(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: as root, run them as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PrivatePostgres:
    """A throw-away PostgreSQL cluster in a temporary directory (trust auth, socket in that directory)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mes-faults-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> PrivatePostgres:
        initdb = [str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"]
        subprocess.run(_as_postgres([*initdb, "-E", "UTF8"]), check=True, capture_output=True)
        return self

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        argv = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w"]
        subprocess.run(_as_postgres([*argv, *args]), check=True, capture_output=True)

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        """Fast shutdown: open sessions are ended and their transactions rolled back."""
        self._ctl("stop", "-m", "fast")

    def create_database(self, name: str) -> None:
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
        )

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """`redis-server` on a free port. `persistent=True` turns on the append-only file (fsync every
    write), which is what keeps queued tasks across a broker restart."""

    def __init__(self, *, persistent: bool = False) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="mes-faults-redis-"))
        self.persistent = persistent
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1)

    def start(self) -> PrivateRedis:
        aof = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
        self.process = subprocess.Popen(
            [*argv, "--save", "", *aof], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until(lambda: _port_open(self.port), 10, what="redis up")
        return self

    def stop(self) -> None:
        """A clean stop (SIGTERM), as `systemctl stop redis` does."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None

    def destroy(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)


def django_env(*, database_url: str, redis_url: str, settings: str = "mes.settings", **extra: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
        **extra,
    }


class Service:
    """A child process in its own session (so its whole process group can be killed)."""

    def __init__(self, argv: list[str], env: dict, log_name: str) -> None:
        self.log = Path(tempfile.gettempdir()) / f"mes-faults-{log_name}-{os.getpid()}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self) -> None:
        """SIGKILL to the whole group: the parent and every pool child die at once, mid-task."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def freeze(self) -> None:
        """SIGSTOP to the whole group: nothing runs, acknowledges or fetches until thaw() or kill()."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def gunicorn(env: dict, *, workers: int = 2, threads: int = 4) -> tuple[Service, str]:
    port = free_port()
    argv = [str(BIN / "gunicorn"), "mes.wsgi:application", "--bind", f"127.0.0.1:{port}", "--no-control-socket"]
    argv += ["--workers", str(workers), "--threads", str(threads), "--graceful-timeout", "5", "--timeout", "60"]
    service = Service(argv, env, "gunicorn")
    wait_until(lambda: _port_open(port), 60, what="gunicorn listening")
    return service, f"http://127.0.0.1:{port}"


def celery_worker(env: dict, *, name: str, concurrency: int = 2) -> Service:
    argv = [sys.executable, "-m", "celery", "-A", "mes", "worker", "-P", "prefork", "-c", str(concurrency)]
    argv += ["-l", "WARNING", "-n", f"{name}-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
    argv += ["--without-heartbeat"]
    return Service(argv, env, name)
