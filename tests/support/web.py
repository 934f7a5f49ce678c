"""Driving the portal through the Flask test client: CSRF tokens, forms, logging in."""
import re
from html import unescape

from tests.support.factories import PASSWORD, current_code

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')
HTMX = {"HX-Request": "true"}  # the header HTMX sends: the view answers with a fragment


def csrf_token(client, path="/"):
    """The CSRF token of the client's current session (from a rendered page)."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on " + path
    return match.group(1) or match.group(2)


def post_form(client, path, data, *, token_from="/", **kwargs):
    """POST a form the way a browser does: with the session's CSRF token."""
    data = dict(data)
    data.setdefault("csrf_token", csrf_token(client, token_from))
    return client.post(path, data=data, **kwargs)


def login(client, user, password=PASSWORD, code=True):
    """Log in through the form, with the authenticator code if the user has one."""
    response = post_form(client, "/login", {"email": user.email, "password": password},
                         token_from="/login")
    if code and user.totp_enabled_at and response.status_code == 303:
        response = post_form(client, "/login/code", {"code": current_code(user)},
                             token_from="/login/code")
    return response


def as_user(client, user):
    """The client with the UI in English and ``user`` logged in."""
    post_form(client, "/language", {"lang": "en"})
    assert login(client, user).status_code == 303
    return client


def other_client(client, user):
    """A second browser (a fresh client of the same app) with ``user`` logged in, in English."""
    return as_user(client.application.test_client(), user)


LIBRARY_CODES = re.compile(r"\b(JXUFE|ECJTU|JXAU|NCHU|ECUT|JXUTCM|JXSTNU|NCU|JJU|NIT|SRNU|JDZU|YCU|"
                           r"JXEMC|JCU)\b")


def visible_text(page):
    """What a reader reads: the page without its tags, scripts, styles and attributes."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", page))


def main_of(page):
    """The page's ``<main>`` (without the header and footer every page shares)."""
    return re.search(r"<main\b.*?</main>", page, re.S).group(0)
