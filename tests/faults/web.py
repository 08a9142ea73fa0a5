"""A logged-in HTTP user of a gunicorn under test, and the copy of the test database into a private
PostgreSQL cluster (schema, triggers and the rows the test created, in seconds instead of a migrate)."""

from __future__ import annotations

import re
import subprocess

import requests

from tests.faults.servers import PG_BIN

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class WebUser:
    """One browser-like session: logs in through the log-in form, posts forms with their CSRF token."""

    def __init__(self, base: str, username: str, password: str, language: str = "en") -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Accept-Language"] = language
        self.session.cookies.set("django_language", language)
        page = self.session.get(f"{base}/accounts/login/", timeout=30)
        form = {"username": username, "password": password, "csrfmiddlewaretoken": _token(page.text)}
        done = self.session.post(f"{base}/accounts/login/", data=form, timeout=30, allow_redirects=False)
        assert done.status_code == 302, f"log-in of {username} failed: {done.status_code}"

    def get(self, path: str, **kw) -> requests.Response:
        return self.session.get(f"{self.base}{path}", timeout=30, **kw)

    def post_form(self, path: str, data: dict) -> requests.Response:
        """Post a form as the browser does: the CSRF token of the session, no redirect followed."""
        token = self.session.cookies.get("csrftoken", "")
        headers = {"Referer": f"{self.base}{path}"}
        return self.session.post(
            f"{self.base}{path}",
            data={**data, "csrfmiddlewaretoken": token},
            headers=headers,
            timeout=30,
            allow_redirects=False,
        )


def _token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the log-in page"
    return match.group(1)


def copy_database(settings_dict: dict, *, port: int, name: str) -> None:
    """Copy the current test database (committed rows) into database `name` on a private cluster."""
    source = [str(PG_BIN / "pg_dump"), "--no-owner", "--no-privileges", "-h", settings_dict.get("HOST") or "127.0.0.1"]
    source += ["-p", str(settings_dict.get("PORT") or 5432), "-U", settings_dict.get("USER") or "postgres"]
    dump = subprocess.run([*source, settings_dict["NAME"]], check=True, capture_output=True)
    target = [str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port)]
    subprocess.run([*target, "-U", "postgres", "-d", name], input=dump.stdout, check=True, capture_output=True)
