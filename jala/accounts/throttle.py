"""Holding back guessers: wrong passwords by account and address, wrong second-factor codes.

Counts live in Redis under ``REDIS_KEY_PREFIX``, never in the session cookie a client can send
back as it was. Wrong passwords are counted per account *and* client address, with a delay
that doubles after each failure past the first few: the guesser's address waits longer and
longer, while the owner on another network logs in at once.
"""
import hashlib
import logging
import math

import redis

from jala import clock
from jala.jobs import redis_connection, redis_key

log = logging.getLogger(__name__)

FREE_FAILURES = 4  # typing slips: no delay yet
MAX_DELAY_SECONDS = 15 * 60
FAILURES_KEPT_SECONDS = 24 * 3600
CODE_FAILURE_LIMIT = 5


def _password_key(email, address):
    account = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:32]
    return redis_key("login-failures", account, address or "-")


def delay_after(failures):
    """Seconds to wait after ``failures`` wrong passwords in a row (doubling, capped)."""
    if failures <= FREE_FAILURES:
        return 0
    return min(2 ** (failures - FREE_FAILURES), MAX_DELAY_SECONDS)


def password_wait(email, address):
    """Seconds this address must still wait before trying this account's password again."""
    try:
        stored = redis_connection().hmget(_password_key(email, address), "n", "at")
    except redis.RedisError as exc:  # the per-address rate limit still holds
        log.warning("login throttle unavailable: %s", exc)
        return 0
    if stored[0] is None:
        return 0
    until = float(stored[1]) + delay_after(int(stored[0]))
    return max(0, math.ceil(until - clock.now().timestamp()))


def password_failed(email, address):
    """Count a wrong password for this account from this address."""
    key = _password_key(email, address)
    try:
        pipe = redis_connection().pipeline()
        pipe.hincrby(key, "n", 1)
        pipe.hset(key, "at", clock.now().timestamp())
        pipe.expire(key, FAILURES_KEPT_SECONDS)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("login throttle unavailable: %s", exc)


def password_succeeded(email, address):
    """The right password: this address starts again from no failures."""
    try:
        redis_connection().delete(_password_key(email, address))
    except redis.RedisError as exc:
        log.warning("login throttle unavailable: %s", exc)


def code_failed(pending_id):
    """Count a wrong code of a pending login; whether it has now had too many."""
    key = redis_key("code-failures", pending_id)
    try:
        pipe = redis_connection().pipeline()
        pipe.incr(key)
        pipe.expire(key, FAILURES_KEPT_SECONDS)
        failures = pipe.execute()[0]
    except redis.RedisError as exc:  # cannot count: the password must be given again
        log.warning("second-factor throttle unavailable: %s", exc)
        return True
    return failures >= CODE_FAILURE_LIMIT


def codes_used_up(pending_id):
    """Whether a pending login has had too many wrong codes (whatever its cookie says)."""
    try:
        failures = redis_connection().get(redis_key("code-failures", pending_id))
    except redis.RedisError as exc:  # the next wrong code ends it (``code_failed``)
        log.warning("second-factor throttle unavailable: %s", exc)
        return False
    return failures is not None and int(failures) >= CODE_FAILURE_LIMIT
