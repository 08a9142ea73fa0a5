"""One measuring round of bench_cpu: application CPU per request of the operator and office pages.

Run as its own process by bench/bench_cpu.py, once with this checkout's code and once with the
baseline's (its first argument is the source tree to import the application from), so both are
measured in the same run, against the same database, on the same (shared) machine. Prints one JSON
object: page name -> list of CPU milliseconds (time.process_time of this process around each
request through Django's test client, so the PostgreSQL and Redis servers' own CPU is not counted;
a signature's without the CPU its own password check took in that request).

Usage: cpu_worker.py SOURCE_TREE OPERATOR_INDEX STEPS
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

RECORD_FORM = re.compile(r'name="op" value="record"><input type="hidden" name="entry" value="(\d+)">')
PASSWORD = "Pharma-MES-2026!"


class _PasswordClock:
    """CPU spent checking passwords (Argon2id, deliberately slow: mes/hashers.py), so a signature is
    measured net of its own check, request by request."""

    spent = 0.0

    @classmethod
    def install(cls) -> None:
        """Time every password check: AbstractBaseUser.check_password calls base_user's module global
        (log-in, and signatures in the baseline code); signatures call hashers.check_password."""
        from django.contrib.auth import base_user, hashers

        original = hashers.check_password

        def timed_check(*args, **kwargs):
            started = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                cls.spent += time.process_time() - started

        base_user.check_password = hashers.check_password = timed_check


def _cpu_ms(fn, net_of_password: bool = False):
    """(fn's response, the CPU milliseconds it took)."""
    started, checking = time.process_time(), _PasswordClock.spent
    response = fn()
    spent = time.process_time() - started
    if net_of_password:
        spent -= _PasswordClock.spent - checking
    return response, spent * 1000


_WARMED: set[str] = set()


def _count(results: dict, name: str, spent: float) -> None:
    """Count a page's CPU, but for its first request in this process: that one also pays what a
    long-running web worker pays once (its templates compiled, modules imported on first use, statements
    prepared), 12 ms against 7 for a signature. A round verifies a step only every fifth step, so a
    round's first verification would otherwise be its only one, and the median a median of first requests."""
    if name in _WARMED:
        results.setdefault(name, []).append(spent)
    _WARMED.add(name)


def _timed(results: dict, name: str, fn, net_of_password: bool = False):
    response, spent = _cpu_ms(fn, net_of_password)
    _count(results, name, spent)
    return response


def _operator(results: dict, index: int, steps: int) -> None:
    from django.test import Client

    from bench.load.seed_load import batch_number, operator_name

    client, verifier = Client(), Client()
    client.force_login(_user(operator_name(index)))
    verifier.force_login(_user(operator_name(index + 1)))
    # A test client builds its request handler (the middleware, WhiteNoise's file scan) on its first
    # request: the verifier's is not one of the few verifications measured.
    assert verifier.get("/").status_code == 200
    batch = batch_number(index)
    for _ in range(5):
        assert _timed(results, "work queue (home)", lambda: client.get("/")).status_code == 200
    for n in range(1, steps + 1):
        url = f"/batches/{batch}/step/{n * 10}/"
        page = _timed(results, "step screen", lambda u=url: client.get(u))
        assert page.status_code == 200, (page.status_code, page.get("Location"))  # a 302: logged out
        scan = {"op": "start", "how": "scanned", "scan": f"{batch}-S{n * 10}"}
        assert _timed(results, "scan to start (POST)", lambda u=url, d=scan: client.post(u, d)).status_code == 302
        html = client.get(url).content.decode()
        for i, entry in enumerate(RECORD_FORM.findall(html)):
            data = {"op": "record", "entry": entry, "version": 0, "value": "50.5"}
            if i % 2:
                _record_seen(results, client, url, data)
                continue
            assert _timed(results, "record a value (POST)", lambda u=url, d=data: client.post(u, d)).status_code == 302
        sign = {"op": "sign", "signature_username": operator_name(index), "password": PASSWORD, "reason": ""}
        signed = _timed(results, "sign the step (POST)", lambda u=url, d=sign: client.post(u, d), net_of_password=True)
        assert signed.status_code == 302
        if 'data-testid="verify-form"' in client.get(url).content.decode():
            check = {"op": "verify", "verifier": operator_name(index + 1), "password": PASSWORD}
            verified = _timed(
                results, "second-person verify (POST)", lambda u=url, d=check: verifier.post(u, d), net_of_password=True
            )
            assert verified.status_code == 302
    for n in range(steps + 1, 2 * steps + 1):
        _step_as_the_tablet(results, client, verifier, batch, index, n)
    _password_cost(results, operator_name(index))


STEP_AS_TABLET = "a whole step as the tablet sends it (scan to signed or verified, until each answer is seen)"
STEP_REQUESTS = "requests of a whole step as the tablet sends it"
STEP_DATABASE = "PostgreSQL CPU of a whole step as the tablet sends it (the server process of its connection)"


def _backend_cpu() -> tuple[int, float] | None:
    """(pid, CPU seconds so far) of the PostgreSQL server process serving this worker's connection, from
    /proc (the benchmark runs beside its database), or None where that cannot be read."""
    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    try:
        with open(f"/proc/{pid}/schedstat", encoding="ascii") as stat:  # nanoseconds on a CPU
            return pid, int(stat.read().split()[0]) / 1e9
    except OSError:
        return None


def _database_ms(before: tuple[int, float] | None, after: tuple[int, float] | None) -> float | None:
    """The server process's CPU between two readings; a new connection counts from its start."""
    if before is None or after is None:
        return None
    return (after[1] - (before[1] if before[0] == after[0] else 0.0)) * 1000


def _step_as_the_tablet(results: dict, client, verifier, batch: str, index: int, n: int) -> None:
    """One step as the step screen sends it (htmx), every request counted until its answer is seen: code
    that answers in place takes one request per action; code that redirects takes the POST and the step
    screen it redirects to. Signatures net of their password checks; nothing may be refused."""
    from bench.load.seed_load import operator_name

    url, spent, requests, database = f"/batches/{batch}/step/{n * 10}/", 0.0, 0, 0.0

    def send(who, data=None, net_of_password=False) -> str:
        nonlocal spent, requests, database
        ask = (lambda: who.post(url, data, HTTP_HX_REQUEST="true")) if data else (lambda: who.get(url))
        server = _backend_cpu()
        answer, cpu = _cpu_ms(ask, net_of_password)
        served = _database_ms(server, _backend_cpu())
        spent, requests = spent + cpu, requests + 1
        database = database + served if served is not None and database is not None else None
        if answer.status_code == 302:
            return send(who)
        html = answer.content.decode()
        assert answer.status_code == 200 and 'class="msg msg-error" role="status"' not in html, html[-2000:]
        return html

    send(client)
    html = send(client, {"op": "start", "how": "scanned", "scan": f"{batch}-S{n * 10}"})
    for entry in RECORD_FORM.findall(html):
        send(client, {"op": "record", "entry": entry, "version": 0, "value": "50.5"})
    sign = {"op": "sign", "signature_username": operator_name(index), "password": PASSWORD, "reason": ""}
    if 'data-testid="verify-form"' in send(client, sign, net_of_password=True):
        check = {"op": "verify", "verifier": operator_name(index + 1), "password": PASSWORD}
        send(verifier, check, net_of_password=True)
    results.setdefault(STEP_AS_TABLET, []).append(spent)
    results.setdefault(STEP_REQUESTS, []).append(requests)
    if database is not None:
        results.setdefault(STEP_DATABASE, []).append(database)


def _record_seen(results: dict, client, url: str, data: dict) -> None:
    """A value recorded from the step screen until the operator sees it stored: the code that answers
    htmx with the value's block takes one request; code that redirects takes the POST and the step
    screen it redirects to, both counted."""
    name = "record a value and see it (POST; htmx block, or redirect + step screen)"
    answer, spent = _cpu_ms(lambda: client.post(url, data, HTTP_HX_REQUEST="true"))
    if answer.status_code == 302:
        page, shown = _cpu_ms(lambda: client.get(url))
        assert page.status_code == 200
        spent += shown
    else:
        assert answer.status_code == 200 and f'id="entry-{data["entry"]}"'.encode() in answer.content
    _count(results, name, spent)


def _password_cost(results: dict, username: str) -> None:
    """The signature's deliberate cost (Argon2id, mes/hashers.py), measured alone to be taken out."""
    user = _user(username)
    for _ in range(5):
        _timed(results, "password check alone", lambda: user.check_password(PASSWORD))


def _office(results: dict) -> None:
    from django.test import Client

    from bench.load.seed_load import office_name

    pages = {
        "office: order list": (0, "/orders/"),
        "office: lot list": (0, "/materials/"),
        "office: batches under review": (0, "/batches/?status=under_review"),
        "office: audit trail": (1, "/audit/"),
        "office: reports dashboard": (2, "/reports/"),
    }
    clients = {}
    for name, (who, url) in pages.items():
        if who not in clients:
            clients[who] = Client()
            clients[who].force_login(_user(office_name(who)))
        assert clients[who].get(url).status_code == 200, url
        for _ in range(10):
            _timed(results, name, lambda c=clients[who], u=url: c.get(u))


def _user(username: str):
    """The person, their password stored with the hasher parameters of the code measured (the two codes
    share one database; the baseline's signature re-hashes a hash of other parameters and saves it, which
    would end the session the bench logged in)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import get_hasher

    user = get_user_model().objects.get(username=username)
    if get_hasher().must_update(user.password):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return user


def main(source: str, index: int, steps: int) -> None:
    sys.path.insert(0, source)
    os.chdir(source)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    _PasswordClock.install()
    results: dict[str, list[float]] = {}
    from django.test import Client

    warm = Client()
    warm.force_login(_user("loadoff01"))
    warm.get("/")  # imports and template compilation are not what is measured
    _operator(results, index, steps)
    _office(results)
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
