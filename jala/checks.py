"""Checks of what a person typed, shared by every domain's rules.

Each gives the tidied value or raises a RuleViolation that says what to change.
"""
from flask_babel import gettext as _

from jala.errors import RuleViolation


def typed_text(value, limit, *, missing=None, one_line=False):
    """``value`` tidied: every line break one LF, ends stripped (``one_line``: spaces collapsed).

    Empty: refused with ``missing`` when given, else ``""``. Over ``limit`` characters: refused.
    """
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if one_line:
        value = " ".join(value.split())
    if not value:
        if missing:
            raise RuleViolation(missing)
        return ""
    if len(value) > limit:
        raise RuleViolation(_("At most %(n)d characters, please (it has %(has)d).",
                              n=limit, has=len(value)))
    return value
