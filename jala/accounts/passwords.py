"""Passwords: argon2id hashes and the policy a new password must meet."""
import gzip
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

from jala.errors import RuleViolation

PASSWORD_MIN, PASSWORD_MAX = 8, 128


def _hasher():
    if current_app.config.get("PASSWORD_HASH_FAST"):
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def hash_password(password):
    """Hash a password with argon2id."""
    return _hasher().hash(password)


def password_matches(password_hash, password):
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _common_passwords():
    data = resources.files("jala.accounts").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def check_password_policy(password, email=""):
    """Refuse short, overlong, common or e-mail-derived passwords."""
    if len(password) < PASSWORD_MIN:
        raise RuleViolation(_("The password needs at least %(n)d characters.", n=PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        raise RuleViolation(_("The password may have at most %(n)d characters.", n=PASSWORD_MAX))
    lowered = password.lower()
    local_part = email.split("@")[0].lower()
    if lowered in _common_passwords() or (len(local_part) >= 4 and local_part in lowered):
        raise RuleViolation(_("This password is too common or too easy to guess."))


