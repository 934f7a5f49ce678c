"""What every protocol hands back: one campus identity, or a refusal the reader can read.

The protocol modules (``oidc``, ``cas``, ``saml``) speak to the provider and return an
``Identity``; ``jala.signon.services`` alone decides what the portal does with it.
"""
import hmac
from dataclasses import dataclass, field

from flask_babel import gettext as _

from jala.errors import RuleViolation


@dataclass(frozen=True)
class Identity:
    """A person as the library's provider vouches for them."""

    subject: str                      # stable id at this provider (OIDC sub, CAS user, eppn)
    email: str | None = None
    name: str | None = None
    username: str | None = None       # campus account name (学号/工号): the card number if it fits
    affiliations: tuple = field(default_factory=tuple)   # "student", "faculty"… (scope dropped)
    mfa: bool = False                 # the provider says a second factor was used
    session_index: str | None = None  # what single logout needs (SAML SessionIndex, OIDC id_token)


class SignOnRefused(RuleViolation):
    """The sign-in cannot go on: the reader sees ``message`` on a 4xx page, nobody is signed in."""

    def __init__(self, message, status=400):
        super().__init__(message, status=status)


class ProviderUnavailable(RuleViolation):
    """The provider is down (502) or too slow (504): said in words, never a 500."""

    def __init__(self, message, status=502):
        super().__init__(message, status=status)


def bare_affiliations(values):
    """Affiliations as the rules read them, each once, in the order given.

    ("Student@ncu.edu.cn", "member") → ("student", "member")
    """
    bare = (str(value).partition("@")[0].strip().lower() for value in values)
    return tuple(dict.fromkeys(value for value in bare if value))


def check_state(given, expected):
    """Refuse a callback that does not carry this browser's ``state``.

    Compared in constant time; refused: another browser's sign-in, a finished one, none at all.
    """
    if not expected or not hmac.compare_digest(str(given or "").encode(), expected.encode()):
        raise not_this_browser()


def not_this_browser():
    return SignOnRefused(_("This sign-in was not started in this browser, or it has been "
                           "finished already. Please start the sign-in again."))
