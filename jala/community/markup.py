"""Text that staff write (news, event descriptions, contest questions, book-list notes).

Markdown is rendered to HTML and then cleaned by nh3, so a script or a style never reaches a
reader's page whatever was typed. Pictures come only from the portal itself (an attachment's
signed link, a relative address): the pages' Content-Security-Policy allows no other, and a
picture from elsewhere would tell its server who read the page.
"""
import html

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")

_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "b", "i", "u", "s", "del", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "code", "pre",
}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"},
               "td": {"align"}}


def _portal_pictures_only(tag, attribute, value):
    """nh3's attribute filter: a picture's address must be the portal's own (``/…``)."""
    if tag == "img" and attribute == "src":
        return value if value.startswith("/") and not value.startswith(("//", "/\\")) else None
    return value


def clean_html(html):
    """``html`` with everything but plain formatting, links and the portal's pictures removed."""
    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https"},
                     link_rel="noopener noreferrer nofollow",
                     attribute_filter=_portal_pictures_only)


def render_markdown(text):
    """Markdown (raw HTML in it is shown as text) as safe HTML for a template."""
    return Markup(clean_html(_markdown.render(text or "")))


def plain_text(text, limit=None):
    """The words of Markdown ``text`` without markup (feeds, summaries, emails)."""
    words = " ".join(html.unescape(nh3.clean(_markdown.render(text or ""), tags=set())).split())
    if limit and len(words) > limit:
        return words[: limit - 1].rstrip() + "…"
    return words
