"""Which library answers live availability through SIP2: setting, reading and removing its server.

The login password is kept sealed (``jala.sealing``, under a purpose of its own)
and never shown back; a changed SECRET_KEY means the admin gives it again.
"""
import ipaddress

from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.membership import get_library
from jala.permissions import can_manage_library
from jala.protocols.models import ENCODINGS, Sip2Endpoint
from jala.protocols.sip2 import Sip2Server
from jala.sealing import seal, unseal

MAX_FIELD = 64


PASSWORD_PURPOSE = "sip2-password"


def _check_manager(actor, library):
    if actor is not None and not can_manage_library(actor, library.id):
        raise NotAllowed(_("Only the library's admin may change its SIP2 server."))


def endpoint_of(library):
    """The library's SIP2 endpoint, or None."""
    return db.session.get(Sip2Endpoint, library.id)


def endpoint_for(actor, code):
    """``(library, endpoint or None)`` for the library's admin (or the command line)."""
    library = get_library(code)
    _check_manager(actor, library)
    return library, endpoint_of(library)


def _text(value, label, required=False):
    value = (value or "").strip()
    if required and not value:
        raise RuleViolation(_("Give the %(field)s.", field=label))
    if len(value) > MAX_FIELD or "|" in value or any(ord(ch) < 32 for ch in value):
        raise RuleViolation(_("The %(field)s is too long or has characters SIP2 cannot carry.",
                              field=label))
    return value or None


def _port(value):
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = 0
    if not 1 <= port <= 65535:
        raise RuleViolation(_("The port is a number from 1 to 65535."))
    return port


def _host(value):
    host = (value or "").strip().lower().strip("[]")
    if ":" in host:  # only an IPv6 address has colons
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            host = ""
    if not host or len(host) > 253 or any(ch.isspace() or ch in "/@?#" for ch in host):
        raise RuleViolation(_("Give the server's host name or IP address (no http://)."))
    return host


def set_endpoint(actor, code, *, host, port, institution_id="", login_user=None, password=None,
                 location_code=None, encoding="utf-8"):
    """Give a library its SIP2 server (replacing any it had). A blank password keeps the old."""
    library = get_library(code)
    _check_manager(actor, library)
    if encoding not in ENCODINGS:
        raise RuleViolation(_("Choose one of the encodings offered."))
    endpoint = endpoint_of(library) or Sip2Endpoint(library_id=library.id)
    endpoint.host, endpoint.port = _host(host), _port(port)
    endpoint.institution_id = _text(institution_id, _("institution id")) or ""
    endpoint.login_user = _text(login_user, _("login user"))
    endpoint.location_code = _text(location_code, _("location code"))
    endpoint.encoding = encoding
    if password:
        endpoint.password_sealed = seal(_text(password, _("password")), PASSWORD_PURPOSE)
    if not endpoint.login_user:
        endpoint.password_sealed = None
    elif not endpoint.password_sealed:
        raise RuleViolation(_("A login user needs its password."))
    endpoint.updated_at, endpoint.updated_by_id = clock.now(), actor.id if actor else None
    db.session.add(endpoint)
    db.session.flush()
    record_audit(actor, "sip2.endpoint_set", "library", library.code, library_id=library.id,
                 details={"host": endpoint.host, "port": endpoint.port})
    return endpoint


def remove_endpoint(actor, code):
    """Stop asking the library's SIP2 server; its holdings show the imported status again."""
    library = get_library(code)
    _check_manager(actor, library)
    endpoint = endpoint_of(library)
    if endpoint is None:
        raise NotFound(_("This library has no SIP2 server set up."))
    db.session.delete(endpoint)
    record_audit(actor, "sip2.endpoint_removed", "library", library.code,
                 library_id=library.id, details={"host": endpoint.host})


def live_library_ids():
    """Ids of the libraries whose holdings get a live status."""
    return set(db.session.execute(select(Sip2Endpoint.library_id)).scalars())


def server_of(endpoint, refuse_local=False, allow_private=True):
    """What the SIP2 client needs, the password unsealed; None if it cannot be unsealed."""
    sealed = endpoint.password_sealed
    password = unseal(sealed, PASSWORD_PURPOSE) if sealed else None
    if endpoint.login_user and password is None:
        return None
    return Sip2Server(host=endpoint.host, port=endpoint.port,
                      institution_id=endpoint.institution_id, login_user=endpoint.login_user,
                      login_password=password, location_code=endpoint.location_code,
                      encoding=endpoint.encoding, refuse_local=refuse_local,
                      allow_private=allow_private)
