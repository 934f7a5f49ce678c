"""Secrets the portal must use but never show (an OIDC client secret, a SIP2 password).

Sealed with Fernet under a key derived from SECRET_KEY and the secret's purpose, so one sealed
value cannot be unsealed as another kind. A changed SECRET_KEY makes every sealed value
unreadable: ``unseal`` then answers None and the admin gives the secret again.
"""
import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet(purpose):
    key = hashlib.sha256(f"jala-{purpose}:".encode() + current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key.digest()))


def seal(secret, purpose):
    """``secret`` sealed for ``purpose`` (a short label such as ``sip2-password``)."""
    return _fernet(purpose).encrypt(secret.encode()).decode()


def unseal(sealed, purpose):
    """The secret, or None when it was sealed under another SECRET_KEY or purpose."""
    try:
        return _fernet(purpose).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None
