"""Live availability: what a library's own system says of a holding now, asked over SIP2.

An answer is kept in Redis for a minute, so a busy record page asks the library's server at
most once a minute per holding. A server that is slow (over a second), down or refuses us is
remembered for the same minute, for all the library's holdings, and the reader sees the
imported status, with no error.
"""
import json
import logging
from dataclasses import dataclass
from datetime import date

import redis
from flask import current_app

from jala.catalog.models import SourceRecord
from jala.extensions import db
from jala.jobs import redis_connection, redis_key
from jala.protocols.sip2 import Sip2Error, items_information
from jala.protocols.sip2_config import endpoint_of, server_of

log = logging.getLogger(__name__)

CACHE_SECONDS = 60
TIMEOUT_SECONDS = 1.0
# SIP2 circulation status → the portal's holding status; any other code (on order, in
# process, claimed returned, lost, missing, other) is ``unknown``
PORTAL_STATUS = {
    "03": "available",  # available
    "09": "available",  # waiting to be re-shelved: back in the library
    "04": "on_loan",    # charged
    "05": "on_loan",    # charged, not to be recalled until the earliest recall date
    "07": "on_loan",    # recalled: still with a reader
    "08": "on_loan",    # waiting on the hold shelf for another reader
    "10": "in_transit",  # in transit between library locations
}
# the best of several copies first
STATUS_ORDER = ("available", "in_transit", "on_loan", "unknown")


@dataclass(frozen=True)
class HoldingStatus:
    """A holding's status as shown: live from the library, or as imported (``live`` False)."""

    status: str
    due_date: date | None = None
    live: bool = False


def portal_status(circulation_status):
    """The portal's status for a SIP2 circulation status code."""
    return PORTAL_STATUS.get(circulation_status, "unknown")


def due_date_of(text):
    """The date of a SIP2 due date (``YYYYMMDDZZZZHHMMSS``, or just ``YYYYMMDD``), or None."""
    digits = (text or "").strip()[:8]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None  # some systems send free text here


def item_identifiers(holding):
    """What to ask the library's system about: the copies' barcodes the import kept.

    A holding in JSON Lines may name them (``barcode`` or ``barcodes``); without any, the call
    number is the best identifier there is.
    """
    source = holding.source_record_id and db.session.get(SourceRecord, holding.source_record_id)
    kept_holdings = source.raw.get("holdings") if source and isinstance(source.raw, dict) else None
    barcodes = []
    for kept in kept_holdings if isinstance(kept_holdings, list) else []:
        if isinstance(kept, dict) and _same_holding(kept, holding):
            barcodes += _barcodes(kept)
    if barcodes:
        return list(dict.fromkeys(barcodes))
    return [holding.call_number] if holding.call_number else []


def _same_holding(kept, holding):
    code = str(kept.get("library") or "").strip().upper()
    return ((not code or code == holding.library.code)
            and (kept.get("call_number") or None) == holding.call_number)


def _barcodes(kept):
    values = kept.get("barcodes") or [kept.get("barcode")]
    return [str(v).strip() for v in values if isinstance(v, (str, int)) and str(v).strip()]


def combined_status(answers):
    """One status for a holding's copies: the best of them, the earliest due date if out."""
    found = [(portal_status(a.circulation_status), due_date_of(a.due_date)) for a in answers
             if a.title or a.circulation_status != "01"]  # 01 with no title: not known there
    if not found:
        return None
    best = min(found, key=lambda pair: STATUS_ORDER.index(pair[0]))[0]
    dues = [due for status, due in found if status == best and due]
    return HoldingStatus(best, min(dues) if best == "on_loan" and dues else None, live=True)


def _cache_key(holding):
    return redis_key("sip2", "holding", holding.id)


def _cached(key):
    try:
        raw = redis_connection().get(key)
    except redis.RedisError:
        return None
    if raw is None:
        return None
    value = json.loads(raw)
    if not value:
        return False  # the server failed a moment ago
    due = value.get("due")
    return HoldingStatus(value["status"], date.fromisoformat(due) if due else None, live=True)


def _remember(key, found):
    value = found and {"status": found.status,
                       "due": found.due_date.isoformat() if found.due_date else None}
    try:
        redis_connection().set(key, json.dumps(value or {}), ex=CACHE_SECONDS)
    except redis.RedisError:
        pass  # without the cache the next view asks the server again


def _down_key(endpoint):
    # the address is in the key: an admin who corrects it needs no minute's wait
    return redis_key("sip2", "down", endpoint.library_id, endpoint.host, endpoint.port)


def _is_down(endpoint):
    try:
        return bool(redis_connection().exists(_down_key(endpoint)))
    except redis.RedisError:
        return False


def _mark_down(endpoint):
    try:
        redis_connection().set(_down_key(endpoint), "1", ex=CACHE_SECONDS)
    except redis.RedisError:
        pass


def holding_status(holding):
    """The holding's live status, or its imported one when live cannot be had within 1 s."""
    imported = HoldingStatus(holding.status)
    endpoint = endpoint_of(holding.library)
    identifiers = item_identifiers(holding)
    if endpoint is None or not identifiers:
        return imported
    key = _cache_key(holding)
    cached = _cached(key)
    if cached is not None:
        return cached or imported
    if _is_down(endpoint):
        return imported
    found = _ask(endpoint, identifiers)
    _remember(key, found)
    return found or imported


def _ask(endpoint, identifiers):
    """The live status, or None; a server that failed is let alone for a minute."""
    config = current_app.config
    server = server_of(endpoint, refuse_local=config["JALA_PRODUCTION"],
                       allow_private=config["SIP2_ALLOW_PRIVATE_NETWORKS"])
    if server is None:
        log.warning("SIP2 password of library %s cannot be unsealed", endpoint.library_id)
        return None
    try:
        return combined_status(items_information(server, identifiers, TIMEOUT_SECONDS))
    except Sip2Error as exc:
        log.info("SIP2 server of library %s: %s", endpoint.library_id, exc)
    except Exception:  # a reader's page never fails for a library's server
        log.exception("SIP2 server of library %s", endpoint.library_id)
    _mark_down(endpoint)
    return None
