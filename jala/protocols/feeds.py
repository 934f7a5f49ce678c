"""New acquisitions of a member library as an Atom or RSS feed (feedgen).

A record is new at a library from the day the library's catalogue first sent it: the import
keeps when each source record arrived, and a holding has no date of its own.
"""
from datetime import timedelta

from feedgen.feed import FeedGenerator
from flask_babel import gettext as _
from sqlalchemy import exists, func, select

from jala import clock
from jala.catalog.models import Holding, Record, SourceRecord
from jala.catalog.vocabulary import value_name
from jala.extensions import db
from jala.membership import library_name
from jala.protocols.xml_text import xml_text
from jala.urls import external_url

DEFAULT_DAYS = 30
MAX_DAYS = 365
MAX_ENTRIES = 100


def new_acquisitions(library, days=DEFAULT_DAYS, limit=MAX_ENTRIES):
    """``[(record, first seen)]`` held by the library and new in the last ``days``, newest first."""
    since = clock.now() - timedelta(days=days)
    first_seen = (select(SourceRecord.record_id, func.min(SourceRecord.imported_at).label("at"))
                  .where(SourceRecord.library_id == library.id, SourceRecord.imported_at >= since)
                  .group_by(SourceRecord.record_id).subquery())
    held_here = exists().where(Holding.record_id == Record.id,
                               Holding.library_id == library.id)
    rows = db.session.execute(
        select(Record, first_seen.c.at).join(first_seen, first_seen.c.record_id == Record.id)
        .where(held_here).order_by(first_seen.c.at.desc(), Record.id.desc()).limit(limit))
    return rows.all()


def _summary(record):
    parts = ["; ".join(record.authors), record.publisher, record.year and str(record.year)]
    return xml_text(" · ".join(part for part in parts if part) or record.title)


def acquisitions_feed(library, days, kind):
    """The feed as bytes: ``kind`` is ``atom`` or ``rss``."""
    feed = FeedGenerator()
    self_url = external_url("protocols.new_acquisitions_feed", code=library.code, kind=kind)
    feed.id(self_url)
    feed.title(_("New at %(library)s", library=library_name(library)))
    feed.subtitle(_("Records the library added to the union catalogue in the last %(days)d "
                    "days.", days=days))
    feed.author({"name": library_name(library)})
    feed.link(href=external_url("core.library", code=library.code), rel="alternate")
    feed.link(href=self_url, rel="self")
    entries = new_acquisitions(library, days)
    feed.updated(entries[0][1] if entries else clock.now())
    for record, seen in entries:
        url = external_url("catalog.record", record_id=record.public_id)
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        # imported records may hold control characters, which feedgen's lxml refuses
        entry.title(xml_text(record.title))
        entry.link(href=url)
        entry.published(seen)
        entry.updated(seen)
        entry.summary(_summary(record))
        for author in filter(None, map(xml_text, record.authors[:10])):
            entry.author({"name": author})
        if record.type:
            entry.category(term=record.type, label=value_name(record.type, "type"))
    return feed.atom_str(pretty=True) if kind == "atom" else feed.rss_str(pretty=True)
