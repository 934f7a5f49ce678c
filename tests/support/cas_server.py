"""A real CAS 3.0 server for the tests: django-cas-server on a loopback port, in a subprocess.

``running_cas_server(workdir)`` starts it and yields a ``CasServer``: ``add_user`` says who may
sign in and which attributes the server releases for them, ``sign_in`` plays the reader at its
login form. ``python -m tests.support.cas_server PORT_FILE`` is the server process itself.
"""
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import django
import requests
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
USERS_FILE_VARIABLE = "CAS_TEST_USERS_FILE"
# every portal the tests run: its callback URLs are built on PUBLIC_URL http://127.0.0.1:5000
LOOPBACK_SERVICES = r"^http://127\.0\.0\.1(:\d+)?/.*$"
START_SECONDS = 30


class CasServer:
    """The running server: its URL, its users, and a reader who signs in at its form."""

    def __init__(self, url, users_file):
        self.url = url
        self._users_file = users_file
        self._users = {}

    def add_user(self, username, password="campus-pass", **attributes):
        """Let ``username`` sign in with ``password``; services get ``attributes`` (values may
        be lists: multi-valued attributes)."""
        self._users[username] = {"password": password, "attributes": attributes}
        self._write_users()
        return username

    def sign_in(self, login_url, username, password="campus-pass"):
        """Follow ``login_url`` as a browser, fill in the form; the service URL with ?ticket=."""
        browser = requests.Session()
        page = browser.get(login_url, timeout=10)
        page.raise_for_status()
        fields = _login_form_fields(page.text)
        fields.update(username=username, password=password)
        answer = browser.post(page.url, data=fields, allow_redirects=False, timeout=10)
        if answer.status_code != 302:
            raise AssertionError(f"the CAS did not sign {username} in: {answer.status_code}")
        return answer.headers["Location"]

    def _write_users(self):
        draft = self._users_file.with_suffix(".draft")
        draft.write_text(json.dumps(self._users))
        draft.replace(self._users_file)


class ListedUser:
    """django-cas-server's CAS_AUTH_CLASS on the test server: the users ``add_user`` listed."""

    def __init__(self, username):
        self.username = username

    def _entry(self):
        users = json.loads(Path(os.environ[USERS_FILE_VARIABLE]).read_text())
        return users.get(self.username)

    def test_password(self, password):
        entry = self._entry()
        return entry is not None and entry["password"] == password

    def attributs(self):
        return (self._entry() or {}).get("attributes", {})


class _FormFields(HTMLParser):
    """The names and values of the inputs of the CAS login form."""

    def __init__(self):
        super().__init__()
        self.fields, self._in_form = {}, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "login_form":
            self._in_form = True
        elif tag == "input" and self._in_form and attrs.get("name"):
            if attrs.get("type") != "checkbox":
                self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False


def _login_form_fields(html):
    parser = _FormFields()
    parser.feed(html)
    if not parser.fields:
        raise AssertionError("no login form on the CAS page")
    return parser.fields


@contextmanager
def running_cas_server(workdir, ticket_validity=60):
    """Start django-cas-server (tickets valid ``ticket_validity`` s), yield it, stop it."""
    workdir = Path(workdir)
    users_file, port_file = workdir / "users.json", workdir / "port"
    users_file.write_text("{}")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.support.cas_django_settings",
           USERS_FILE_VARIABLE: str(users_file),
           "CAS_TEST_TICKET_VALIDITY": str(ticket_validity)}
    with open(workdir / "server.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.cas_server", str(port_file)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            port = _wait_for_port(process, port_file, workdir)
            yield CasServer(f"http://127.0.0.1:{port}", users_file)
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_port(process, port_file, workdir):
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (workdir / "server.log").read_text(errors="replace")
            raise RuntimeError(f"the CAS test server stopped at start:\n{log}")
        if port_file.exists():
            return int(port_file.read_text())
        time.sleep(0.05)
    raise RuntimeError(f"the CAS test server did not start within {START_SECONDS} s")


def _serve(port_file):
    django.setup()
    call_command("migrate", verbosity=0)
    _allow_loopback_services()
    server = make_server("127.0.0.1", 0, get_wsgi_application())
    draft = Path(port_file).with_suffix(".draft")
    draft.write_text(str(server.server_port))
    draft.replace(port_file)
    server.serve_forever()


def _allow_loopback_services():
    # the models can only be imported once django.setup() has run
    from cas_server.models import ReplaceAttributName, ServicePattern

    portal = ServicePattern.objects.create(name="JALA Portal under test",
                                           pattern=LOOPBACK_SERVICES)
    ReplaceAttributName.objects.create(name="*", service_pattern=portal)


if __name__ == "__main__":
    _serve(sys.argv[1])
