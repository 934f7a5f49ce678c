"""News as Atom and RSS feeds (feedgen).

Links are absolute on PUBLIC_URL, like the library feeds of new acquisitions
(``jala.protocols.feeds``).
"""
from feedgen.feed import FeedGenerator
from flask_babel import gettext as _
from markupsafe import escape

from jala import clock
from jala.community.markup import plain_text
from jala.community.news.services import CENTER, category_name, feed_news
from jala.membership import library_name, library_or_centre_name
from jala.protocols.xml_text import xml_text
from jala.urls import external_url

FEED_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
SUMMARY_CHARS = 300


def publisher_name(news):
    """Who published ``news``: its library's name, or the alliance centre."""
    return library_or_centre_name(news.library)


def feed_title(library=None, category=None):
    """"News of the alliance", "News of 南昌大学图书馆", with the category if one is chosen."""
    if library == CENTER:
        title = _("News of the alliance centre")
    elif library is not None:
        title = _("News of %(library)s", library=library_name(library))
    else:
        title = _("News of the alliance")
    return f"{title} · {category_name(category)}" if category else title


def _filters(library, category):
    values = {}
    if library == CENTER:
        values["library"] = CENTER
    elif library is not None:
        values["library"] = library.code
    if category:
        values["category"] = category
    return values


def news_feed_xml(kind, *, library=None, category=None):
    """The feed as bytes: ``kind`` is ``atom`` or ``rss``; ``library`` a Library, CENTER or None."""
    filters = _filters(library, category)
    feed = FeedGenerator()
    self_url = external_url("community.news_feed", kind=kind, **filters)
    feed.id(self_url)
    feed.title(feed_title(library, category))
    feed.subtitle(_("News and notices of the Jiangxi Academic Library Alliance and its member "
                    "libraries."))
    feed.author({"name": _("Jiangxi Academic Library Alliance")})
    feed.link(href=external_url("community.news_list", **filters), rel="alternate")
    feed.link(href=self_url, rel="self")
    feed.language("zh-CN")
    library_id = CENTER if library == CENTER else (library.id if library else None)
    items = feed_news(library_id=library_id, category=category)
    feed.updated(max((n.updated_at for n in items), default=clock.now()))
    for news in items:
        url = external_url("community.news_article", news_id=news.id)
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(xml_text(news.title))
        entry.link(href=url)
        entry.published(news.published_at)
        entry.updated(max(news.updated_at, news.published_at))
        summary = xml_text(plain_text(news.body, SUMMARY_CHARS)) or xml_text(news.title)
        # Atom says its summary is text; RSS readers take a description as HTML, so what
        # was typed as "<script>" must reach them escaped, as words
        entry.summary(summary if kind == "atom" else str(escape(summary)))
        entry.author({"name": publisher_name(news)})
        entry.category(term=news.category, label=category_name(news.category))
    return feed.atom_str(pretty=True) if kind == "atom" else feed.rss_str(pretty=True)
