"""The scaled-out shape of docs/deployment.md, run for real on this machine's loopback (`make cluster`).

    scripts/cluster.py start           PostgreSQL 15 primary + streaming replica, migrate, demo data,
                                       two gunicorn nodes, HAProxy, one Celery worker, one beat
    scripts/cluster.py status          what runs, replica lag, HAProxy's view of the nodes
    scripts/cluster.py stop            stop everything it started (the data stays in the var dir)
    scripts/cluster.py stop --wipe     ... and delete the var dir
    scripts/cluster.py drill client-address | web-kill | web-drain | replica-stop | failover  (docs/faults.md)

Ports (loopback only, all defined in the PORTS block below): gunicorn nodes 8300, 8301 (8302 is free for
a third); PostgreSQL primary 8354, replica 8355; HAProxy 8399, its stats page 8398 (and an admin socket,
run/haproxy.sock). Redis: the shared server's database MES_CLUSTER_REDIS_DB (49). Everything lives in MES_CLUSTER_DIR (var/cluster): the two data directories, logs, pid files
and the web nodes' MES_VAR_DIR (one shared directory, as on an NFS volume in a plant).

PostgreSQL: `initdb` as the postgres user (trust on loopback: a local drill cluster, no password);
the replica is `pg_basebackup -R -X stream -C -S mes_replica -c fast` of the primary (a fast checkpoint:
the default spread one made the copy wait minutes after the demo data). Commits wait for it
(`synchronous_standby_names = 'FIRST 1 (mes_replica)'`, `synchronous_commit = on`), as
docs/deployment.md recommends where a committed signature must survive the loss of the primary.
Roles as in .ci/run: mes_owner (owns the database, runs migrate) and mes_app (the runtime role).

HAProxy connects to the web nodes from 127.0.0.2, the only address the nodes trust for
X-Forwarded-For (MES_TRUSTED_PROXIES); a request sent to a node directly from anywhere else is
recorded under its own address, whatever header it forges (mes/clientaddr.py).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_BIN = Path(os.environ.get("MES_PG_BIN", "/usr/lib/postgresql/15/bin"))
VAR = Path(os.environ.get("MES_CLUSTER_DIR", ROOT / "var" / "cluster")).resolve()
REDIS_DB = int(os.environ.get("MES_CLUSTER_REDIS_DB", "49"))
# --- PORTS: every port the cluster listens on, defined here only (docs/deployment.md and docs/faults.md
# quote them). One block, 8300-8399, below the kernel's ephemeral range (32768-60999), where any client
# connection's local end may hold a port ("Address already in use", as 55432 was), and clear of the rest of
# the system: 8000 `make run`, 8101 balance simulator, 8765 load benchmark, 4840 OPC UA, 1883 MQTT, 9100
# label printer, 5432/6379 the shared PostgreSQL and Redis, 25432-25493 the tests' PostgreSQL pairs.
WEB_PORTS = (8300, 8301)  # gunicorn nodes; 8302 is free for a third
PRIMARY_PORT, REPLICA_PORT = 8354, 8355  # PostgreSQL, first roles (after a failover state.json says which)
STATS_PORT, LB_PORT = 8398, 8399  # HAProxy's stats page and its front end
PROXY_SOURCE = "127.0.0.2"  # HAProxy's source address towards the nodes: the one trusted proxy
DATABASE = "mes"
SLOT = "mes_replica"
STATE = VAR / "state.json"
RUN = VAR / "run"
ADMIN_SOCKET = RUN / "haproxy.sock"
LOGS = VAR / "log"
DEMO_USER = os.environ.get("MES_CLUSTER_USER", "supervisor")


# --- small helpers ------------------------------------------------------------------------------


def _as_postgres(argv: list[str]) -> list[str]:
    """initdb, pg_ctl and postgres refuse to run as root: as root, run them as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{result.stdout}\n{result.stderr}")
    return result


def _state() -> dict:
    if STATE.exists():
        return json.loads(STATE.read_text())
    return {"primary": PRIMARY_PORT, "replica": REPLICA_PORT}


def _save_state(state: dict) -> None:
    STATE.write_text(json.dumps(state, indent=2))


def _data_dir(port: int) -> Path:
    return VAR / f"pg{port}"


def psql(port: int, sql: str, *, user: str = "postgres", database: str = "postgres") -> str:
    """One statement through psql on loopback; the output unaligned, tuples only."""
    argv = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", database, "-XAtq", "-v", "ON_ERROR_STOP=1"]
    return _run([*argv, "-c", sql]).stdout.strip()


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"{what}: not within {timeout} s")
        time.sleep(interval)
    return time.monotonic() - start


# --- PostgreSQL -----------------------------------------------------------------------------------


def pg_ctl(port: int, *args: str) -> None:
    data = _data_dir(port)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    log = LOGS / f"pg{port}.log"
    # -t 180: on a loaded machine a start or a promotion may take longer than pg_ctl's default minute
    argv = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "180"]
    try:
        _run(_as_postgres([*argv, *args]))
    except SystemExit as failure:  # say why: the server's own log is removed with a test's directory
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no server log)"
        raise SystemExit(f"{failure}\nserver log (last lines):\n{tail}") from None


def pg_running(port: int) -> bool:
    data = _data_dir(port)
    if not (data / "postmaster.pid").exists():
        return False
    result = subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "status"]), capture_output=True)
    return result.returncode == 0


PRIMARY_CONF = """
# scripts/cluster.py: primary of the drill cluster
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
wal_keep_size = 256MB
hot_standby = on
hot_standby_feedback = on
synchronous_commit = on
max_connections = 200
shared_buffers = 128MB
"""


def pg_init_primary() -> None:
    data = _data_dir(PRIMARY_PORT)
    data.parent.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(VAR, "postgres")
        shutil.chown(LOGS, "postgres")
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
    _run(_as_postgres([*initdb, "--locale=C.UTF-8"]))
    with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(PRIMARY_CONF)
    pg_ctl(PRIMARY_PORT, "start")
    # Roles as .ci/run makes them: the owner runs migrations, the runtime role owns nothing.
    psql(
        PRIMARY_PORT,
        "CREATE ROLE mes_owner LOGIN CREATEDB; CREATE ROLE mes_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;",
    )
    psql(PRIMARY_PORT, f"CREATE DATABASE {DATABASE} OWNER mes_owner")


def pg_make_replica(primary: int, replica: int) -> None:
    """A streaming replica of `primary` on `replica`: pg_basebackup -R (standby.signal + primary_conninfo),
    WAL streamed during the copy, a replication slot so the primary keeps what the replica has not had."""
    data = _data_dir(replica)
    shutil.rmtree(data, ignore_errors=True)
    psql(primary, f"SELECT pg_drop_replication_slot('{SLOT}') FROM pg_replication_slots WHERE slot_name = '{SLOT}'")
    conninfo = f"host=127.0.0.1 port={primary} user=postgres application_name={SLOT}"
    backup = [
        str(PG_BIN / "pg_basebackup"),
        "-d",
        conninfo,
        "-D",
        str(data),
        "-R",
        "-X",
        "stream",
        "-C",
        "-S",
        SLOT,
        "-c",
        "fast",
    ]
    _run(_as_postgres(backup))
    with open(data / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
        # The replica's own name towards the primary (synchronous_standby_names names it).
        conf.write(f"cluster_name = '{SLOT}'\n")
    pg_ctl(replica, "start")
    wait_until(lambda: replica_state(primary) == "streaming", 30, "replica streaming")
    set_synchronous(primary, on=True)


def set_synchronous(primary: int, *, on: bool) -> None:
    """Commits on `primary` wait for the replica (on) or not (off: no replica to wait for). Set only
    once the replica streams: with it named and absent, every commit would wait."""
    names = f"FIRST 1 ({SLOT})" if on else ""
    psql(primary, f"ALTER SYSTEM SET synchronous_standby_names = '{names}'")
    psql(primary, "SELECT pg_reload_conf()")


def replica_state(primary: int) -> str:
    try:
        return psql(primary, f"SELECT state FROM pg_stat_replication WHERE application_name = '{SLOT}'") or "absent"
    except SystemExit:
        return "primary down"


def replica_lag(primary: int) -> dict:
    row = psql(
        primary,
        "SELECT sync_state, coalesce(extract(epoch FROM replay_lag), 0), "
        "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication "
        f"WHERE application_name = '{SLOT}'",
    )
    if not row:
        return {}
    sync_state, lag, behind = row.split("|")
    return {"sync_state": sync_state, "replay_lag_s": float(lag), "bytes_behind": int(float(behind or 0))}


# --- the application processes --------------------------------------------------------------------


def database_url(role: str, state: dict) -> str:
    """A libpq multi-host URL naming both servers, the current primary first: `target_session_attrs`
    makes every new connection find whichever one accepts writes, so after a promotion the web nodes
    and Celery reconnect to the new primary with no restart (mes/dburl.py)."""
    ports = [state["primary"], *(p for p in (PRIMARY_PORT, REPLICA_PORT) if p != state["primary"])]
    hosts = ",".join(f"127.0.0.1:{port}" for port in ports)
    return f"postgres://{role}@{hosts}/{DATABASE}?target_session_attrs=read-write&connect_timeout=2"


def app_env(state: dict) -> dict:
    database = database_url("mes_app", state)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mes.settings",
        "DATABASE_URL": database,
        "DATABASE_OWNER_URL": database_url("mes_owner", state),
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "MES_VAR_DIR": str(VAR / "var"),
        "MES_TRUSTED_PROXIES": f"{PROXY_SOURCE}/32",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{LB_PORT}",
        "MES_DB_ROUTING_HEADER": "1",
        "DEBUG": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if state.get("replica"):
        env["DATABASE_REPLICA_URL"] = f"postgres://mes_app@127.0.0.1:{state['replica']}/{DATABASE}"
    else:
        env.pop("DATABASE_REPLICA_URL", None)
    return env


def manage(state: dict, *args: str) -> str:
    return _run([sys.executable, "manage.py", *args], cwd=ROOT, env=app_env(state)).stdout


def spawn(name: str, argv: list[str], env: dict) -> int:
    """Start a process in its own session (so a drill can kill its whole group); pid in run/NAME.pid."""
    RUN.mkdir(parents=True, exist_ok=True)
    with open(LOGS / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    (RUN / f"{name}.pid").write_text(str(process.pid))
    return process.pid


def _pid(name: str) -> int | None:
    path = RUN / f"{name}.pid"
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return pid


def terminate(name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Signal the process group started under `name` (only ours: the pid file's), wait for it to go."""
    pid = _pid(name)
    if pid is None:
        (RUN / f"{name}.pid").unlink(missing_ok=True)
        return
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.killpg(pid, signal.SIGKILL)
    (RUN / f"{name}.pid").unlink(missing_ok=True)


def start_web(state: dict, port: int) -> None:
    argv = [str(BIN / "gunicorn"), "mes.wsgi:application", "--bind", f"127.0.0.1:{port}", "--no-control-socket"]
    argv += ["--workers", "2", "--threads", "4", "--graceful-timeout", "5", "--timeout", "60"]
    argv += ["--access-logfile", str(LOGS / f"access-{port}.log")]
    spawn(f"web{port}", argv, app_env(state))
    wait_until(lambda: _port_open(port), 60, f"gunicorn on {port}")


HAPROXY_CFG = """# written by scripts/cluster.py: HAProxy in front of the drill cluster's web nodes
global
    maxconn 2000
    # The admin socket: `drill web-drain` takes a node out with `set server web/NODE state drain`.
    stats socket {admin} mode 600 level admin

defaults
    mode http
    option httplog
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A node that refuses the connection or drops it before answering: the request goes to the other
    # node (only GET/HEAD replayed after sending: a POST is never sent twice).
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend http
    bind 127.0.0.1:{lb}
    # The client's own X-Forwarded-For is dropped; HAProxy writes the address it received from.
    http-request del-header X-Forwarded-For
    option forwardfor
    default_backend web

backend web
    balance leastconn
    http-request disable-l7-retry if !METH_GET !METH_HEAD
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    default-server check inter 1s fall 2 rise 2 source {source}
{servers}

listen stats
    bind 127.0.0.1:{stats}
    stats enable
    stats uri /
    stats refresh 2s
"""


def haproxy_config(*, lb: int, stats: int, admin: Path, nodes: list[int]) -> str:
    """HAPROXY_CFG for a front end on `lb` and one server per web node port (tests use it too)."""
    servers = "\n".join(f"    server node{port} 127.0.0.1:{port}" for port in nodes)
    return HAPROXY_CFG.format(lb=lb, stats=stats, source=PROXY_SOURCE, servers=servers, admin=admin)


def start_haproxy() -> None:
    config = VAR / "haproxy.cfg"
    config.write_text(haproxy_config(lb=LB_PORT, stats=STATS_PORT, admin=ADMIN_SOCKET, nodes=list(WEB_PORTS)))
    _run(["haproxy", "-c", "-q", "-f", str(config)])
    spawn("haproxy", ["haproxy", "-db", "-f", str(config)], dict(os.environ))
    wait_until(lambda: _port_open(LB_PORT), 20, "haproxy listening")


def haproxy_stats() -> dict[str, dict[str, str]]:
    """HAProxy's own figures for each web node, from its stats CSV: status (UP, DOWN, DRAIN ...), scur
    (requests open on the node now), stot (requests sent to it so far)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{STATS_PORT}/;csv", timeout=2) as response:
            text = response.read().decode().lstrip("# ")
    except OSError:
        return {}
    return {row["svname"]: row for row in csv.DictReader(io.StringIO(text)) if row["pxname"] == "web"}


def haproxy_servers() -> dict[str, str]:
    """HAProxy's view of each web node: UP / DOWN / DRAIN ..."""
    return {name: row["status"] for name, row in haproxy_stats().items() if name != "BACKEND"}


def haproxy_figure(server: str, column: str) -> int:
    return int(haproxy_stats()[server][column] or 0)


def haproxy_admin(command: str) -> str:
    """One command on HAProxy's admin socket (HAProxy answers and closes); its answer."""
    with socket.socket(socket.AF_UNIX) as connection:
        connection.settimeout(5)
        connection.connect(str(ADMIN_SOCKET))
        connection.sendall(command.encode() + b"\n")
        answer = b"".join(iter(lambda: connection.recv(4096), b""))
    return answer.decode().strip()


def start_celery(state: dict) -> None:
    env = app_env(state)
    worker = [str(BIN / "celery"), "-A", "mes", "worker", "--loglevel", "warning", "--concurrency", "1"]
    spawn("worker", [*worker, "--hostname", "cluster-worker@%h"], env)
    beat = [str(BIN / "celery"), "-A", "mes", "beat", "--loglevel", "warning"]
    spawn("beat", [*beat, "--schedule", str(VAR / "celerybeat-schedule")], env)


# --- commands -------------------------------------------------------------------------------------


def cmd_start(args) -> int:
    for directory in (VAR, RUN, LOGS, VAR / "var"):
        directory.mkdir(parents=True, exist_ok=True)
    state = _state()
    if {state["primary"], state.get("replica")} - {PRIMARY_PORT, REPLICA_PORT, None}:
        raise SystemExit(f"{VAR} holds a cluster made on other ports ({state}): `scripts/cluster.py stop --wipe` first")
    fresh = not _data_dir(PRIMARY_PORT).exists()
    if fresh:
        print(f"initdb: primary on {PRIMARY_PORT}")
        pg_init_primary()
        _save_state(state)
    for port in (state["primary"], state.get("replica")):
        if port and _data_dir(port).exists() and not pg_running(port):
            pg_ctl(port, "start")
    print("migrate (as mes_owner)")
    manage({**state, "replica": None}, "migrate", "--no-input", "-v", "0")
    if fresh:
        print("demo data")
        manage({**state, "replica": None}, "seed_demo")
    if state.get("replica") and not _data_dir(state["replica"]).exists():
        print(f"pg_basebackup: replica on {state['replica']}")
        pg_make_replica(state["primary"], state["replica"])
    for port in WEB_PORTS:
        if _pid(f"web{port}") is None:
            start_web(state, port)
    if _pid("haproxy") is None:
        start_haproxy()
    if _pid("worker") is None:
        start_celery(state)
    wait_until(lambda: set(haproxy_servers().values()) == {"UP"}, 30, "both nodes UP in HAProxy")
    cmd_status(args)
    return 0


def cmd_stop(args) -> int:
    # Every node with a pid file (a third one started by hand too) and every data directory there is,
    # whatever ports the script that made them used.
    nodes = sorted(path.stem for path in RUN.glob("web*.pid"))
    for name in ("haproxy", *nodes, "worker", "beat"):
        terminate(name)
    for data in sorted(VAR.glob("pg[0-9]*")):
        port = int(data.name[2:])
        if pg_running(port):
            pg_ctl(port, "stop", "-m", "fast")
    if getattr(args, "wipe", False):
        shutil.rmtree(VAR, ignore_errors=True)
    print("stopped")
    return 0


def cmd_status(args) -> int:
    state = _state()
    print(f"primary  :{state['primary']}  {'running' if pg_running(state['primary']) else 'stopped'}")
    if state.get("replica"):
        replica = state["replica"]
        print(
            f"replica  :{replica}  {'running' if pg_running(replica) else 'stopped'}  {replica_state(state['primary'])}"
        )
        if pg_running(state["primary"]):
            print(f"           lag {replica_lag(state['primary'])}")
    for name in (*(f"web{port}" for port in WEB_PORTS), "haproxy", "worker", "beat"):
        print(f"{name:<9}  {'pid ' + str(_pid(name)) if _pid(name) else 'stopped'}")
    print(f"haproxy  http://127.0.0.1:{LB_PORT}/  stats http://127.0.0.1:{STATS_PORT}/  {haproxy_servers()}")
    return 0


# --- drills (docs/faults.md) ----------------------------------------------------------------------


class Client:
    """A logged-in browser-like session through HAProxy (cookies, CSRF), standard library only."""

    def __init__(self, base: str = f"http://127.0.0.1:{LB_PORT}") -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str, timeout: float = 30) -> tuple[int, dict, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def post(self, path: str, data: dict, timeout: float = 30) -> tuple[int, dict, bytes]:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})  # noqa: S310 - our own http URL
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def csrf(self, path: str) -> str:
        _, _, body = self.get(path)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        return match.group(1).decode() if match else ""

    def login(self, username: str = DEMO_USER) -> int:
        sys.path.insert(0, str(ROOT))
        from mes.demo_accounts import DEMO_PASSWORD

        token = self.csrf("/accounts/login/")
        status, _, _ = self.post(
            "/accounts/login/", {"csrfmiddlewaretoken": token, "username": username, "password": DEMO_PASSWORD}
        )
        return status


class Attempt(NamedTuple):
    started: float  # time.monotonic()
    ended: float
    what: str  # the path, or the writer's user name
    error: str  # "" when it succeeded


class Threads:
    """Threads each sending one request after another through HAProxy until the `with` block ends; every
    attempt kept with its start, end and outcome. A subclass says what a request is (`label`, `send`)."""

    pause_after_ok = pause_after_error = 0.0

    def __init__(self, threads: int) -> None:
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.attempts: list[Attempt] = []
        self.threads = [threading.Thread(target=self._loop, args=(n,), daemon=True) for n in range(threads)]

    def label(self, number: int, index: int) -> str:
        raise NotImplementedError

    def send(self, number: int, what: str) -> str:
        """One request of thread `number`: "" when it succeeded, else what went wrong."""
        raise NotImplementedError

    def _loop(self, number: int) -> None:
        index = 0
        while not self.stop.is_set():
            index += 1
            what, started = self.label(number, index), time.monotonic()
            try:
                error = self.send(number, what)
            except Exception as exc:  # noqa: BLE001 - every failure is counted, whatever it is
                error = exc.__class__.__name__
            with self.lock:
                self.attempts.append(Attempt(started, time.monotonic(), what, error))
            time.sleep(self.pause_after_error if error else self.pause_after_ok)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def failed(self) -> list[Attempt]:
        with self.lock:
            return [attempt for attempt in self.attempts if attempt.error]

    def in_flight(self, start: float, end: float) -> list[Attempt]:
        """The attempts that were under way at some moment between `start` and `end`."""
        with self.lock:
            return [attempt for attempt in self.attempts if attempt.started < end and attempt.ended > start]


class Load(Threads):
    """Logged-in users each looping GET over `paths`; the answers counted by the server that read the
    database for them (X-MES-Read-From)."""

    def __init__(self, paths: list[str], threads: int = 6, user: str = DEMO_USER) -> None:
        super().__init__(threads)
        self.paths = paths
        self.sources: dict[str, int] = {}
        self.clients = [Client() for _ in range(threads)]
        for client in self.clients:
            if client.login(user) not in (200, 302):
                raise SystemExit("drill: demo log-in failed (is the demo data there?)")

    def label(self, number: int, index: int) -> str:
        return self.paths[index % len(self.paths)]

    def send(self, number: int, what: str) -> str:
        status, headers, _ = self.clients[number].get(what)
        if status != 200:
            return f"HTTP {status}"
        with self.lock:
            source = headers.get("X-MES-Read-From", "-")
            self.sources[source] = self.sources.get(source, 0) + 1
        return ""

    def served(self) -> int:
        with self.lock:
            return sum(1 for attempt in self.attempts if not attempt.error)

    def figures(self) -> dict:
        failed = self.failed()
        with self.lock:
            times = sorted(attempt.ended - attempt.started for attempt in self.attempts) or [0.0]
            requests = len(self.attempts)
        return {
            "requests": requests,
            "failed": len(failed),
            "failures": [f"{attempt.what}: {attempt.error}" for attempt in failed[:10]],
            "read_from": dict(self.sources),
            "p50_ms": round(times[len(times) // 2] * 1000, 1),
            "p95_ms": round(times[int(len(times) * 0.95)] * 1000, 1),
        }


REPORT_PATHS = ["/reports/", "/reports/production/"]
# A log-in is a POST: it pins the browser to the primary for MES_READ_YOUR_WRITES_SECONDS (10).
PIN_SECONDS = 11
OPERATOR_PATHS = ["/", "/batches/", "/reports/"]


def drill_web_kill() -> dict:
    """SIGKILL one web node (its gunicorn master and workers at once) under load; HAProxy's health
    check takes it out. Counted: the requests in flight when the signal went (the users' side, through
    HAProxy to either node; and HAProxy's count of requests open on the killed node just before), the
    failures, and whether every failure was one of those in flight (a request sent after the signal must
    not fail: HAProxy retries a refused connection or an empty answer on the other node); how long until
    HAProxy marked the node DOWN."""
    victim = WEB_PORTS[1]
    server = f"node{victim}"
    with Load(OPERATOR_PATHS, threads=6) as load:
        time.sleep(8)
        before = load.served()
        open_on_node = haproxy_figure(server, "scur")
        signalled_at = time.monotonic()
        os.killpg(_pid(f"web{victim}"), signal.SIGKILL)  # the whole group: the master and its workers
        killed_at = time.monotonic()
        terminate(f"web{victim}", signal.SIGKILL, timeout=5)  # waits for the processes to be gone
        gone_at = time.monotonic()
        wait_until(lambda: haproxy_servers().get(server, "").startswith("DOWN"), 30, "node DOWN")
        down_after = time.monotonic() - killed_at
        time.sleep(10)
        after_kill = load.served() - before
    print(f"  {server} killed; HAProxy marked it DOWN after {down_after:.1f} s; restarting it")
    start_web(_state(), victim)
    back = wait_until(lambda: haproxy_servers().get(server) == "UP", 30, "node UP again")
    in_flight = load.in_flight(signalled_at, killed_at)
    failed = load.failed()
    return {
        "drill": "web-kill",
        **load.figures(),
        "in_flight_at_kill": len(in_flight),
        "open_on_node_at_kill_haproxy": open_on_node,
        "failed_in_flight": sum(1 for attempt in failed if attempt in in_flight),
        "failed_not_in_flight": sum(1 for attempt in failed if attempt not in in_flight),
        "every_failure_in_flight": all(attempt in in_flight for attempt in failed),
        "started_while_dying": sum(1 for a in load.attempts if killed_at <= a.started < gone_at),
        "processes_gone_after_ms": round((gone_at - killed_at) * 1000, 1),
        "served_after_kill": after_kill,
        "down_detected_s": round(down_after, 1),
        "back_up_s": round(back, 1),
    }


def drill_web_drain() -> dict:
    """Planned maintenance, the graceful counterpart of web-kill under the same load: HAProxy stops
    sending the node new requests (`set server web/NODE state drain` on its admin socket); once the node
    has no request open, gunicorn gets SIGTERM (it finishes what it has and exits); the node stays out
    10 s (an upgrade), is started again, passes its health check and is put back (`state ready`).
    Counted: failed requests (0 expected), requests HAProxy sent the node while it was drained (0)."""
    node = WEB_PORTS[1]
    server = f"node{node}"
    with Load(OPERATOR_PATHS, threads=6) as load:
        time.sleep(8)
        open_at_drain = haproxy_figure(server, "scur")
        drained_at = time.monotonic()
        haproxy_admin(f"set server web/{server} state drain")
        sent_at_drain = haproxy_figure(server, "stot")
        idle_after = wait_until(lambda: haproxy_figure(server, "scur") == 0, 60, "no request open on the node")
        terminate(f"web{node}", signal.SIGTERM, timeout=30)
        stopped_after = time.monotonic() - drained_at
        time.sleep(10)
        start_web(_state(), node)
        wait_until(lambda: haproxy_servers().get(server) == "DRAIN", 60, "node passing its health check")
        sent_while_drained = haproxy_figure(server, "stot") - sent_at_drain
        haproxy_admin(f"set server web/{server} state ready")
        wait_until(lambda: haproxy_servers().get(server) == "UP", 30, "node UP")
        ready_at, sent_at_ready = time.monotonic(), haproxy_figure(server, "stot")
        time.sleep(5)
        sent_after_ready = haproxy_figure(server, "stot") - sent_at_ready
    return {
        "drill": "web-drain",
        **load.figures(),
        "open_on_node_at_drain_haproxy": open_at_drain,
        "node_idle_after_s": round(idle_after, 1),
        "node_stopped_after_s": round(stopped_after, 1),
        "sent_to_node_while_drained": sent_while_drained,
        "sent_to_node_5s_after_ready": sent_after_ready,
        "out_of_service_s": round(ready_at - drained_at, 1),
    }


def drill_replica_stop() -> dict:
    """Stop the replica while report pages are read; they must fall back to the primary with no
    failed request. Commits wait for a synchronous standby, so with the replica down the drill
    turns synchronous replication off (the documented degraded mode) and back on afterwards."""
    state = _state()
    primary, replica = state["primary"], state["replica"]
    with Load(REPORT_PATHS, threads=4, user="qa") as load:
        time.sleep(PIN_SECONDS + 8)
        on_replica_before = dict(load.sources)
        stopped_at = time.monotonic()
        pg_ctl(replica, "stop", "-m", "fast")
        set_synchronous(primary, on=False)
        time.sleep(12)
        during = {k: v - on_replica_before.get(k, 0) for k, v in load.sources.items()}
        pg_ctl(replica, "start")
        set_synchronous(primary, on=True)
        back = wait_until(lambda: replica_state(primary) == "streaming", 60, "replica streaming again")
        time.sleep(5)
    return {
        "drill": "replica-stop",
        **load.figures(),
        "read_from_before_stop": on_replica_before,
        "read_from_while_stopped": during,
        "replica_down_s": round(time.monotonic() - stopped_at, 1),
        "replica_streaming_again_s": round(back, 1),
    }


class Writers(Threads):
    """Audited writes through HAProxy: failed log-ins, each with its own user name (MARKER-thread-index)."""

    pause_after_ok, pause_after_error = 0.05, 0.5

    def __init__(self, marker: str, threads: int = 3) -> None:
        super().__init__(threads)
        self.marker = marker

    def label(self, number: int, index: int) -> str:
        return f"{self.marker}-{number}-{index}"

    def send(self, number: int, what: str) -> str:
        client = Client()
        token = client.csrf("/accounts/login/")
        form = {"csrfmiddlewaretoken": token, "username": what, "password": "x" * 12}
        status, _, _ = client.post("/accounts/login/", form)
        return "" if status == 200 else f"HTTP {status}"

    def acknowledged(self) -> list[str]:
        with self.lock:
            return [attempt.what for attempt in self.attempts if not attempt.error]

    def first_ok_started_after(self, moment: float) -> float | None:
        with self.lock:
            ends = [a.ended for a in self.attempts if a.started >= moment and not a.error]
        return min(ends, default=None)


def drill_failover() -> dict:
    """Audited writes through HAProxy with synchronous commit on; the primary is stopped with an immediate
    shutdown (as a crash) and the replica promoted. Nothing is restarted: the web nodes and Celery find
    the new primary through the multi-host DATABASE_URL. Measured: from the stop to the first write that
    was sent after it and acknowledged; the failed writes. Then every acknowledged write must be on the new
    primary and the audit chain must verify there; the old primary is rebuilt as the new one's standby."""
    state = _state()
    old_primary, new_primary = state["primary"], state["replica"]
    sync_before = psql(old_primary, "SHOW synchronous_standby_names") + " / " + replica_lag(old_primary)["sync_state"]
    with Writers(f"failover-{int(time.time())}") as writers:
        time.sleep(8)
        acknowledged_before = len(writers.acknowledged())
        stopped_at = time.monotonic()
        pg_ctl(old_primary, "stop", "-m", "immediate")
        _run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(_data_dir(new_primary)), "promote", "-w"]))
        # The promoted server has no standby of its own yet: commits must not wait for one.
        set_synchronous(new_primary, on=False)
        promoted = time.monotonic() - stopped_at
        state = {"primary": new_primary, "replica": None, "old_primary": old_primary}
        _save_state(state)
        wait_until(lambda: writers.first_ok_started_after(stopped_at) is not None, 60, "a write on the new primary")
        resumed = writers.first_ok_started_after(stopped_at) - stopped_at
        time.sleep(5)
    acknowledged = writers.acknowledged()
    failed = [error for _, _, _, error in writers.attempts if error]
    found = set(
        psql(
            new_primary,
            "SELECT username FROM audit_auditevent WHERE action = 'auth.login_failed' "
            f"AND username LIKE '{writers.marker}-%'",
            database=DATABASE,
        ).split()
    )
    lost = [name for name in acknowledged if name not in found]
    verified = subprocess.run(
        [sys.executable, "manage.py", "verify_audit_trail"],
        cwd=ROOT,
        env=app_env(state),
        capture_output=True,
        text=True,
    )
    print(f"  rebuilding the old primary ({old_primary}) as the standby of {new_primary}")
    pg_make_replica(new_primary, old_primary)
    _save_state({"primary": new_primary, "replica": old_primary})
    return {
        "drill": "failover",
        "restarted": "nothing (multi-host DATABASE_URL, target_session_attrs=read-write)",
        "synchronous_before_stop": sync_before,
        "acknowledged_before_stop": acknowledged_before,
        "acknowledged": len(acknowledged),
        "found_on_new_primary": len(found),
        "acknowledged_but_lost": len(lost),
        "failed_writes": len(failed),
        "failed_after_resuming": sum(1 for s, _, _, e in writers.attempts if e and s >= stopped_at + resumed),
        "failure_kinds": sorted(set(failed))[:5],
        "promoted_s": round(promoted, 1),
        "first_write_after_stop_s": round(resumed, 1),
        "audit_chain": verified.stdout.strip().splitlines()[-1:]
        if verified.returncode == 0
        else verified.stderr[-300:],
        "audit_chain_ok": verified.returncode == 0,
        "standby_again": replica_state(new_primary),
    }


def _failed_login(port: int, name: str, *, source: str, forged: str = "") -> int:
    """A failed log-in (an audited write) sent from `source` to `port`, with a forged header if given."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    connection.request("GET", "/accounts/login/")
    response = connection.getresponse()
    body, cookie = response.read(), response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": name, "password": "x" * 12})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookie,
        "Referer": f"http://127.0.0.1:{port}/",
    }
    if forged:
        headers["X-Forwarded-For"] = forged
    connection.request("POST", "/accounts/login/", body=form, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


def drill_client_address() -> dict:
    """The audit trail records the real client behind HAProxy, and believes no header from anyone else:
    through HAProxy from 127.0.0.5 (with a forged header) -> 127.0.0.5; straight to a node from
    127.0.0.1 with a forged header -> 127.0.0.1."""
    marker = f"addr-{int(time.time())}"
    via_lb = _failed_login(LB_PORT, f"{marker}-lb", source="127.0.0.5", forged="10.6.6.6")
    direct = _failed_login(WEB_PORTS[0], f"{marker}-direct", source="127.0.0.1", forged=PROXY_SOURCE + ", 10.6.6.6")
    rows = psql(
        _state()["primary"],
        f"SELECT username, ip_address FROM audit_auditevent WHERE username LIKE '{marker}-%' ORDER BY seq",
        database=DATABASE,
    )
    recorded = dict(line.split("|") for line in rows.splitlines())
    return {
        "drill": "client-address",
        "statuses": [via_lb, direct],
        "through_haproxy_from_127.0.0.5": recorded.get(f"{marker}-lb"),
        "direct_from_127.0.0.1_forged_header": recorded.get(f"{marker}-direct"),
        "ok": recorded.get(f"{marker}-lb") == "127.0.0.5" and recorded.get(f"{marker}-direct") == "127.0.0.1",
    }


DRILLS = {
    "client-address": drill_client_address,
    "web-kill": drill_web_kill,
    "web-drain": drill_web_drain,
    "replica-stop": drill_replica_stop,
    "failover": drill_failover,
}


def cmd_drill(args) -> int:
    result = DRILLS[args.name]()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    with open(VAR / "drills.jsonl", "a", encoding="utf-8") as out:
        out.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **result}) + "\n")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("start")
    commands.add_parser("status")
    stop = commands.add_parser("stop")
    stop.add_argument("--wipe", action="store_true", help="also delete the var dir")
    drill = commands.add_parser("drill")
    drill.add_argument("name", choices=sorted(DRILLS))
    args = parser.parse_args(argv)
    return {"start": cmd_start, "stop": cmd_stop, "status": cmd_status, "drill": cmd_drill}[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
