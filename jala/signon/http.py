"""Server-to-server calls to a provider: a bounded wait, and failures said in words.

One sign-in may call its provider several times (discovery, token, keys, user info); all of
them share one deadline, so a slow provider is told to the reader well within 30 seconds,
however it is slow (no answer, or an answer trickling in byte by byte).
"""
import time

import requests
from flask import current_app, g, has_request_context
from flask_babel import gettext as _

from jala.signon.identity import ProviderUnavailable

# the most one request (a sign-in page) spends waiting for providers, all calls together
REQUEST_BUDGET_SECONDS = 25


def _seconds_left():
    """What this call may wait: the per-call timeout, within the request's budget."""
    per_call = current_app.config.get("SIGNON_TIMEOUT_SECONDS", 10)
    if not has_request_context():
        return per_call
    if "signon_deadline" not in g:
        g.signon_deadline = time.monotonic() + REQUEST_BUDGET_SECONDS
    return min(per_call, g.signon_deadline - time.monotonic())


def _too_slow():
    return ProviderUnavailable(
        _("The sign-in service of the library did not answer in time. Please try again "
          "later."), status=504)


def _body_before(response, until):
    """The whole body, read as it arrives, unless that takes past ``until``."""
    body = bytearray()
    while chunk := response.raw.read1(65536, decode_content=True):
        body += chunk
        if time.monotonic() > until:
            response.close()
            raise _too_slow()
    return bytes(body)


def provider_request(method, url, **kwargs):
    """``requests.request`` within the sign-on's time; a provider that fails raises 502/504."""
    wait = _seconds_left()
    if wait <= 0:
        raise _too_slow()
    until = time.monotonic() + wait
    kwargs.update(timeout=wait, stream=True)
    kwargs.setdefault("allow_redirects", False)
    try:
        response = requests.request(method, url, **kwargs)
        response._content = _body_before(response, until)
    except requests.Timeout as exc:
        raise _too_slow() from exc
    except requests.RequestException as exc:
        raise ProviderUnavailable(
            _("The sign-in service of the library cannot be reached. Please try again "
              "later.")) from exc
    if response.status_code >= 500:
        raise ProviderUnavailable(
            _("The sign-in service of the library has a problem (it answered %(status)d). "
              "Please try again later.", status=response.status_code))
    return response
