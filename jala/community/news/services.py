"""News and notices (新闻公告): who writes, publishes, edits and sees them.

The alliance centre (``library_id`` None) is written for by the chair library's portal admins
(``is_center_admin``); a member library's news by its own staff (librarians and library
admins). Nobody writes for another library, and nobody changes another library's news: the
rule is checked here, on the row, whatever page asked. A news item is a draft until it is
published; unpublishing takes it off the public pages and feeds and makes it a draft again.
Drafts exist only for those who may edit them (404 to everyone else).
"""
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from jala import clock
from jala.accounts.models import Library
from jala.audit import record_audit
from jala.checks import typed_text
from jala.community.news.models import CATEGORIES, News, NewsAttachment
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.files import signed_view_url, store_upload
from jala.governance.center import is_center_admin
from jala.membership import is_member, member_libraries
from jala.permissions import can_staff_library
from jala.settings import declare, get_setting

TITLE_MAX = 200
BODY_MAX = 50_000
PAGE_SIZE = 10
ATTACHMENTS_MAX = 20
IMAGE_KINDS = ("png", "jpeg", "webp")
DOCUMENT_KINDS = ("pdf",)
IMAGE_SECONDS = 3600
CENTER = "center"  # the ``library`` filter value meaning the alliance centre

declare("news.max_attachment_mb", 10, 1, 50,
        _l("Maximum size of a news picture or attachment"), "MB")


def category_name(category):
    """The word for a category in the language in use."""
    return {
        "news": _("News"),
        "notice": _("Notice"),
        "decision": _("Committee decision"),
        "commendation": _("Commendation"),
    }.get(category, category)


# --- who may write ------------------------------------------------------------------------

def can_write_for(actor, library_id):
    """Whether ``actor`` may write news for ``library_id`` (None: the alliance centre)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if library_id is None:
        return is_center_admin(actor)
    return can_staff_library(actor, library_id)


def writable_libraries(actor):
    """``[(library_id or None, Library or None)]`` that ``actor`` may publish for."""
    choices = [(None, None)] if can_write_for(actor, None) else []
    choices += [(library.id, library) for library in member_libraries()
                if can_write_for(actor, library.id)]
    return choices


def can_write_news(actor):
    """Whether ``actor`` may write news for anyone (shows the staff links)."""
    return bool(writable_libraries(actor))


def _require_writer(actor, library_id):
    if not can_write_for(actor, library_id):
        if library_id is None:
            raise NotAllowed(_("Only the alliance centre can publish news for the alliance."))
        raise NotAllowed(_("You can only publish news for your own library."))


def can_edit(actor, news):
    """Whether ``actor`` may change ``news`` (staff of its library, or the centre's admins)."""
    return actor is not None and can_write_for(actor, news.library_id)


# --- checking what was written -------------------------------------------------------------



def _category(category):
    if category not in CATEGORIES:
        raise RuleViolation(_("Choose a category."))
    return category


def _library(library_id):
    if library_id is None:
        return None
    library = db.session.get(Library, library_id)
    if library is None or not is_member(library):
        raise RuleViolation(_("Choose a member library."))
    return library


# --- writing, publishing, unpublishing ----------------------------------------------------

def create_news(actor, *, title, body, category, library_id=None, pinned=False, publish=False):
    """Write a news item for ``library_id`` (None: the centre), as a draft or published."""
    _require_writer(actor, library_id)
    library = _library(library_id)
    now = clock.now()
    news = News(library_id=library.id if library else None, category=_category(category),
                title=typed_text(title, TITLE_MAX, missing=_("Give the news a title.")),
                body=typed_text(body, BODY_MAX, missing=_("Write the text of the news.")),
                pinned=bool(pinned), author_id=actor.id if actor else None,
                updated_by_id=actor.id if actor else None, created_at=now, updated_at=now,
                published_at=now if publish else None)
    db.session.add(news)
    db.session.flush()
    record_audit(actor, "news.publish" if publish else "news.create", "news", news.id,
                 library_id=news.library_id,
                 details={"category": news.category, "title": news.title[:100],
                          "pinned": news.pinned})
    return news


def publish_news(actor, *, title, body, category, library_id=None):
    """Write and publish a news item at once (body in Markdown; library_id None: the centre)."""
    return create_news(actor, title=title, body=body, category=category,
                       library_id=library_id, publish=True)


def _lock_for_editor(actor, news_id):
    news = db.session.execute(
        select(News).where(News.id == news_id).with_for_update()
    ).scalar_one_or_none()
    if news is None or (not news.is_published and not can_edit(actor, news)):
        raise NotFound(_("No such news."))
    if not can_edit(actor, news):
        raise NotAllowed(_("Only staff of the library that wrote it can change this news."))
    return news


def update_news(actor, news_id, *, title, body, category, pinned=False):
    """Change the text, category or pinning of a news item (its library stays)."""
    news = _lock_for_editor(actor, news_id)
    news.title = typed_text(title, TITLE_MAX, missing=_("Give the news a title."))
    news.body = typed_text(body, BODY_MAX, missing=_("Write the text of the news."))
    news.category = _category(category)
    news.pinned = bool(pinned)
    news.updated_at = clock.now()
    news.updated_by_id = actor.id if actor else None
    db.session.flush()
    record_audit(actor, "news.update", "news", news.id, library_id=news.library_id,
                 details={"category": news.category, "title": news.title[:100],
                          "pinned": news.pinned, "published": news.is_published})
    return news


def publish(actor, news_id):
    """Publish a draft: readers and feeds see it from now."""
    news = _lock_for_editor(actor, news_id)
    if news.is_published:
        raise RuleViolation(_("This news is already published."), status=409)
    news.published_at = clock.now()
    db.session.flush()
    record_audit(actor, "news.publish", "news", news.id, library_id=news.library_id,
                 details={"category": news.category, "title": news.title[:100]})
    return news


def unpublish(actor, news_id):
    """Take a news item off the public pages and feeds (it becomes a draft again)."""
    news = _lock_for_editor(actor, news_id)
    if not news.is_published:
        raise RuleViolation(_("This news is not published."), status=409)
    news.published_at = None
    db.session.flush()
    record_audit(actor, "news.unpublish", "news", news.id, library_id=news.library_id,
                 details={"title": news.title[:100]})
    return news


# --- pictures and attachments -------------------------------------------------------------

def add_attachment(actor, news_id, upload):
    """Attach a picture (PNG, JPEG, WebP) or a PDF, checked by content and size."""
    news = _lock_for_editor(actor, news_id)
    if upload is None or not getattr(upload, "filename", ""):
        raise RuleViolation(_("Choose a file to upload."))
    if len(news.attachments) >= ATTACHMENTS_MAX:
        raise RuleViolation(_("A news item can have at most %(n)d files.", n=ATTACHMENTS_MAX))
    mb = get_setting("news.max_attachment_mb")
    stored = store_upload(upload.stream, upload.filename, allowed_kinds=IMAGE_KINDS
                          + DOCUMENT_KINDS, max_bytes=mb * 1024 * 1024, owner=actor)
    attachment = NewsAttachment(news_id=news.id, file_id=stored.id,
                                is_image=stored.content_type.startswith("image/"),
                                created_at=clock.now())
    db.session.add(attachment)
    db.session.flush()
    db.session.refresh(news, ["attachments"])
    record_audit(actor, "news.attach", "news", news.id, library_id=news.library_id,
                 details={"attachment_id": attachment.id, "name": stored.original_name,
                          "size": stored.size})
    return attachment


def remove_attachment(actor, news_id, attachment_id):
    """Take a picture or attachment off a news item."""
    news = _lock_for_editor(actor, news_id)
    attachment = db.session.get(NewsAttachment, attachment_id)
    if attachment is None or attachment.news_id != news.id:
        raise NotFound(_("No such attachment."))
    details = {"attachment_id": attachment.id, "name": attachment.file.original_name}
    attachment.file.delete_after = clock.now()  # the file sweeper removes it from the disk
    db.session.delete(attachment)
    db.session.flush()
    db.session.refresh(news, ["attachments"])
    record_audit(actor, "news.detach", "news", news.id, library_id=news.library_id,
                 details=details)
    return news


_ATTACHMENT_REF = re.compile(r"\(attachment:(\d+)\)")


def body_with_pictures(news, body=None):
    """The Markdown body with ``(attachment:ID)`` of its own pictures as signed links."""
    urls = {a.id: signed_view_url(a.file, IMAGE_SECONDS) for a in news.images}

    def swap(match):
        url = urls.get(int(match.group(1)))
        return f"({url})" if url else "()"
    return _ATTACHMENT_REF.sub(swap, news.body if body is None else body)


def pictures_in_body(news):
    """The ids of the news item's own attachments its body shows (``(attachment:ID)``)."""
    return {int(number) for number in _ATTACHMENT_REF.findall(news.body or "")}


def pictures_outside_body(news):
    """The news item's pictures its body does not show already (shown below the text)."""
    shown = pictures_in_body(news)
    return [picture for picture in news.images if picture.id not in shown]


def file_url(attachment):
    """A short-lived signed link showing the attachment (picture or PDF)."""
    return signed_view_url(attachment.file, IMAGE_SECONDS)


# --- reading ------------------------------------------------------------------------------

def get_news(viewer, news_id):
    """A published news item, or a draft its editors see; to anyone else it does not exist."""
    news = db.session.get(News, news_id)
    if news is None or (not news.is_published and not can_edit(viewer, news)):
        raise NotFound(_("No such news."))
    return news


def _published(library_id=None, category=None):
    query = select(News).where(News.published_at.is_not(None))
    if library_id == CENTER:
        query = query.where(News.library_id.is_(None))
    elif library_id is not None:
        query = query.where(News.library_id == library_id)
    if category is not None:
        query = query.where(News.category == category)
    return query


def list_news(*, library_id=None, category=None, page=1, pinned_first=True):
    """``(news on the page, whether there are more)``: pinned first, then newest first.

    ``library_id`` is a library's id, ``CENTER`` for the centre's own, or None for all.
    """
    page = max(1, int(page or 1))
    order = [News.pinned.desc()] if pinned_first else []
    rows = db.session.execute(
        _published(library_id, category)
        .order_by(*order, News.published_at.desc(), News.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    ).scalars().all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def latest_news(limit=5, library_id=None):
    """The newest published news (pinned first), for the home page or a library's page."""
    return db.session.execute(
        _published(library_id).order_by(News.pinned.desc(), News.published_at.desc(),
                                        News.id.desc()).limit(limit)
    ).scalars().all()


def feed_news(*, library_id=None, category=None, limit=50):
    """The newest published news for a feed, newest first (no pinning in a feed)."""
    return db.session.execute(
        _published(library_id, category)
        .order_by(News.published_at.desc(), News.id.desc()).limit(limit)
    ).scalars().all()


def news_to_manage(actor):
    """Drafts and published news of the libraries ``actor`` writes for, newest first."""
    ids = [library_id for library_id, _library in writable_libraries(actor)]
    if not ids:
        return []
    conditions = [News.library_id.in_([i for i in ids if i is not None])]
    if None in ids:
        conditions.append(News.library_id.is_(None))
    return db.session.execute(
        select(News).where(db.or_(*conditions))
        .order_by(News.published_at.is_not(None), func.coalesce(News.published_at,
                                                                News.updated_at).desc())
        .limit(200)
    ).scalars().all()
