"""Link resolvers: each member library's OpenURL resolver, and a record's full-text links.

A resolver belongs to one member library and its admins; a record's page links to every
member library's resolver, the reader's own library first.
"""
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from jala import clock
from jala.accounts.models import Library
from jala.audit import record_audit
from jala.errors import NotAllowed, RuleViolation
from jala.extensions import db
from jala.membership import get_library, is_member, library_name
from jala.permissions import can_manage_library
from jala.reading.models import LinkResolver
from jala.reading.openurl import resolver_url


def _check_resolver_url(url):
    url = (url or "").strip()
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment
            or len(url) > 500 or any(ch.isspace() for ch in url)):
        raise RuleViolation(_("Give the resolver's full base address, starting with https:// "
                              "(for example https://sfx.example.edu.cn/sfx_local)."))
    return url



def _managed_library(actor, code):
    library = get_library(code)
    if not can_manage_library(actor, library.id):
        raise NotAllowed(_("Only this library's admins can change its link resolver."))
    return library



def link_resolver_of(actor, code):
    """``(library, its LinkResolver or None)`` for the library's admins."""
    library = _managed_library(actor, code)
    resolver = db.session.execute(
        select(LinkResolver).where(LinkResolver.library_id == library.id)
    ).scalar_one_or_none()
    return library, resolver



def save_link_resolver(actor, code, base_url, label=None):
    """Set the library's OpenURL resolver (its base address and the link's words)."""
    library = _managed_library(actor, code)
    if not is_member(library):
        raise RuleViolation(_("%(library)s has left the alliance: its readers no longer get "
                              "alliance services.", library=library_name(library)))
    base_url = _check_resolver_url(base_url)
    label = (label or "").strip()[:100] or None
    # the library row is the lock: two admins saving at once take turns
    db.session.execute(select(Library.id).where(Library.id == library.id)
                       .with_for_update(key_share=True))
    resolver = db.session.execute(
        select(LinkResolver).where(LinkResolver.library_id == library.id)
    ).scalar_one_or_none()
    before = {"base_url": resolver.base_url, "label": resolver.label} if resolver else None
    if resolver is None:
        resolver = LinkResolver(library_id=library.id)
        db.session.add(resolver)
    resolver.base_url, resolver.label = base_url, label
    resolver.updated_by_id, resolver.updated_at = actor.id, clock.now()
    db.session.flush()
    record_audit(actor, "reading.link_resolver_save", "link_resolver", resolver.id,
                 library_id=library.id,
                 details={"from": before, "to": {"base_url": base_url, "label": label}})
    return resolver



def delete_link_resolver(actor, code):
    """Remove the library's resolver (its readers then see only the record's own links)."""
    library = _managed_library(actor, code)
    resolver = db.session.execute(
        select(LinkResolver).where(LinkResolver.library_id == library.id).with_for_update()
    ).scalar_one_or_none()
    if resolver is None:
        return None
    record_audit(actor, "reading.link_resolver_delete", "link_resolver", resolver.id,
                 library_id=library.id,
                 details={"base_url": resolver.base_url, "label": resolver.label})
    db.session.delete(resolver)
    db.session.flush()
    return library



def resolver_links(user, record):
    """``[(library, label, url)]``: a link through each member library's resolver.

    The reader's home library comes first; the rest follow in join order.
    """
    today = clock.local_today()
    resolvers = db.session.execute(
        select(LinkResolver).join(Library, Library.id == LinkResolver.library_id)
        .options(contains_eager(LinkResolver.library))
        .order_by(Library.joined_on, Library.id)
    ).scalars().all()
    home = getattr(user, "home_library_id", None) if getattr(
        user, "is_authenticated", False) else None
    links = [(r.library, r.label, resolver_url(r.base_url, record)) for r in resolvers
             if is_member(r.library, today)]
    return sorted(links, key=lambda link: link[0].id != home)
