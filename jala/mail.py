"""Emails from templates, in the recipient's language, through the outbox.

``notify()`` renders ``templates/email/<name>.txt`` and writes the email to the outbox in the
caller's transaction.

A template has two blocks, ``subject`` and ``body``. The HTML alternative part is
``templates/email/<name>.html`` when it exists, else the body's paragraphs laid out by
``templates/email/_layout.html`` (links made clickable).
"""
import re

from flask import current_app, has_request_context
from flask_babel import force_locale, get_locale
from flask_login import current_user
from jinja2 import TemplateNotFound
from markupsafe import Markup, escape

from jala.accounts.models import User
from jala.jobs import queue_email

LINK_RE = re.compile(r"https?://[^\s<>\"']+")


def user_locale(user):
    """The language to write to a user in.

    Their choice; else, when they are the one asking now, the language of the page they use;
    else Chinese (never the language of the librarian who acts on their request).
    """
    if user.locale:
        return user.locale
    if has_request_context() and getattr(current_user, "id", None) == user.id:
        return str(get_locale() or "zh_Hans")
    return "zh_Hans"


def _render_block(template, name, context):
    return "".join(template.blocks[name](template.new_context(context))).strip()


def _linked(paragraph):
    parts, last = [], 0
    for match in LINK_RE.finditer(paragraph):
        parts.append(escape(paragraph[last:match.start()]))
        parts.append(Markup('<a href="{0}">{0}</a>').format(match.group(0)))
        last = match.end()
    parts.append(escape(paragraph[last:]))
    return Markup("<br>\n").join(Markup("").join(parts).split("\n"))


def render_email(name, **context):
    """``(subject, text, html)`` of ``templates/email/<name>.txt`` in the language in use.

    Templates name libraries with the app's ``library_name`` (jala/web.py), in that language.
    """
    env = current_app.jinja_env
    template = env.get_template(f"email/{name}.txt")
    subject = " ".join(_render_block(template, "subject", context).split())
    text = _render_block(template, "body", context) + "\n"
    try:
        html = env.get_template(f"email/{name}.html").render(context)
    except TemplateNotFound:
        paragraphs = [_linked(p.strip()) for p in re.split(r"\n\s*\n", text) if p.strip()]
        lang = "en" if str(get_locale() or "zh_Hans").startswith("en") else "zh-Hans"
        html = env.get_template("email/_layout.html").render(subject=subject, lang=lang,
                                                              paragraphs=paragraphs)
    return subject, text, html


def notify(to, name, *, kind, address=None, related=None, library_id=None, **context):
    """Write the email ``name`` to ``to`` (a User, or an address) into the outbox.

    A user gets it in their language (``user_locale``), at ``address`` when given (the address
    a reader gave with a request) else at their account's; a bare address gets it in the
    language of the page in use. The row is part of the caller's transaction and is relayed
    after commit.
    """
    if isinstance(to, User):
        with force_locale(user_locale(to)):
            subject, text, html = render_email(name, recipient=to, **context)
        address = address or to.email
    else:
        subject, text, html = render_email(name, **context)
        address = to
    return queue_email(address, subject, text, body_html=html, kind=kind, related=related,
                       library_id=library_id)
