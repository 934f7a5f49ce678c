"""Campus sign-on: how long the portal's part of a sign-in takes, with a real CAS server.

Starts django-cas-server on loopback (tests/support/cas_server.py) and the portal on a scratch
database, then signs N students in, each in a fresh browser session (requests): the portal's
redirect to the CAS (`/login/sso/NCU`), the CAS's own form (not counted), and the callback in
which the portal validates the ticket server to server and makes (first time) or finds the
account. Prints p50/p95 of the portal's two steps for first sign-ins and for returning ones.

Usage:  .venv/bin/python bench/signon.py [--readers 50]
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from _common import p50_p95_ms, scratch_portal  # noqa: E402

from jala.extensions import db  # noqa: E402
from jala.signon.providers import set_provider  # noqa: E402
from tests.support.browser import serving  # noqa: E402
from tests.support.cas_server import running_cas_server  # noqa: E402


def sign_in(base, cas, username):
    """One sign-in; the seconds the portal took (redirect + callback)."""
    browser = requests.Session()
    started = time.perf_counter()
    to_cas = browser.get(base + "/login/sso/NCU", allow_redirects=False, timeout=30)
    portal = time.perf_counter() - started
    callback = cas.sign_in(to_cas.headers["Location"], username)
    started = time.perf_counter()
    back = browser.get(callback, allow_redirects=False, timeout=30)
    portal += time.perf_counter() - started
    assert back.status_code == 303, back.status_code
    return portal


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--readers", type=int, default=50)
    args = parser.parse_args()
    with scratch_portal("jala_bench_signon") as (app, workdir):
        app.config["RATELIMIT_ENABLED"] = False
        (workdir / "cas").mkdir()
        with running_cas_server(workdir / "cas") as cas, serving(app) as base:
            app.config["PUBLIC_URL"] = base
            with app.app_context():
                set_provider(None, "NCU", "cas", url=cas.url)
                db.session.commit()
            students = [cas.add_user(f"2026{n:04d}", mail=f"s{n}@ncu.example.edu.cn",
                                     cn=f"学生{n}", eduPersonAffiliation="student")
                        for n in range(args.readers)]
            first = [sign_in(base, cas, s) for s in students]
            again = [sign_in(base, cas, s) for s in students]
        for label, seconds in (("first sign-in (account made)", first),
                               ("returning sign-in", again)):
            p50, p95 = p50_p95_ms(seconds)
            print(f"{label:30} n={len(seconds):4}  portal p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")

if __name__ == "__main__":
    main()
