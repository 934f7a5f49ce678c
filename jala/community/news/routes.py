"""Thin views of news: the public list, article and feeds; the staff's writing pages."""
from flask import Response, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from jala.community import bp
from jala.community.markup import render_markdown
from jala.community.news import services as news
from jala.community.news.feeds import FEED_TYPES, feed_title, news_feed_xml, publisher_name
from jala.community.news.forms import CENTRE_CHOICE, AttachmentForm, NewsForm
from jala.community.news.models import CATEGORIES
from jala.errors import NotAllowed, NotFound
from jala.extensions import db
from jala.membership import get_library, library_name, member_libraries
from jala.reading.forms import ConfirmForm
from jala.settings import get_setting
from jala.web import attempt, is_htmx, require_form

FEED_CACHE = "public, max-age=600"


# --- reading ------------------------------------------------------------------------------

def _filters():
    """``(library or CENTER or None, category or None)`` from the query string (404 if unknown)."""
    code = request.args.get("library", "").strip()
    library = None
    if code == news.CENTER:
        library = news.CENTER
    elif code:
        library = get_library(code)
    category = request.args.get("category", "").strip() or None
    if category is not None and category not in CATEGORIES:
        raise NotFound(_("There is no such category of news."))
    return library, category


def _library_id(library):
    return library if library == news.CENTER else (library.id if library else None)


def _page():
    raw = request.args.get("page", "")
    return int(raw) if raw.isdecimal() and 0 < len(raw) < 5 and int(raw) > 0 else 1


def _filter_args(library, category):
    values = {}
    if library == news.CENTER:
        values["library"] = news.CENTER
    elif library is not None:
        values["library"] = library.code
    if category:
        values["category"] = category
    return values


def _feed_links(library, category):
    title = feed_title(library, category)
    return [(FEED_TYPES[kind], f"{title} ({kind.upper()})",
             url_for("community.news_feed", kind=kind, **_filter_args(library, category)))
            for kind in FEED_TYPES]


@bp.context_processor
def news_helpers():
    """Words for news pages: the category and publisher names."""
    return {"news_category_name": news.category_name, "news_publisher": publisher_name}


@bp.app_context_processor
def news_for_other_pages():
    """For a library's page: its newest published news."""
    def library_news(library, limit=3):
        return news.latest_news(limit, library_id=library.id)
    return {"library_news": library_news}


@bp.get("/news")
def news_list():
    """News and notices, pinned first then newest (``?library=CODE|center``, ``?category=``)."""
    library, category = _filters()
    page = _page()
    items, more = news.list_news(library_id=_library_id(library), category=category, page=page)
    context = {"items": items, "more": more, "page": page, "library": library,
               "category": category, "categories": CATEGORIES,
               "libraries": member_libraries(), "center": news.CENTER,
               "feeds": _feed_links(library, category),
               "filter_args": _filter_args(library, category),
               "can_write": current_user.is_authenticated and news.can_write_news(current_user)}
    if is_htmx():
        return render_template("community/news/_list.html", **context)
    return render_template("community/news/list.html", **context)


@bp.get("/news/<id:news_id>")
def news_article(news_id):
    """One news item: title, date, publisher, category, text, pictures and attachments."""
    item = news.get_news(current_user, news_id)
    return render_template("community/news/article.html", item=item,
                           pictures=news.pictures_outside_body(item),
                           body=render_markdown(news.body_with_pictures(item)),
                           file_url=news.file_url,
                           can_edit=news.can_edit(current_user, item),
                           feeds=_feed_links(None, None))


@bp.get("/news/feed.<any(atom, rss):kind>")
def news_feed(kind):
    """News as an Atom or RSS feed (``?library=CODE|center``, ``?category=``)."""
    library, category = _filters()
    response = Response(news_feed_xml(kind, library=library, category=category),
                        mimetype=FEED_TYPES[kind])
    response.headers["Cache-Control"] = FEED_CACHE
    return response


# --- writing ------------------------------------------------------------------------------

def _library_choices():
    return [(CENTRE_CHOICE if library_id is None else str(library_id),
             _("Alliance management centre") if library is None else library_name(library))
            for library_id, library in news.writable_libraries(current_user)]


def _require_writer():
    if not news.can_write_news(current_user):
        raise NotAllowed(_("Only the alliance centre and library staff write news."))


def _preview(form, item=None):
    body = form.body.data or ""
    return render_markdown(news.body_with_pictures(item, body) if item else body)


def _values(form):
    return {"title": form.title.data, "body": form.body.data, "category": form.category.data,
            "pinned": form.pinned.data}


def _chosen_file(form):
    """The file picked in the form's upload field, or None."""
    upload = form.file.data
    return upload if getattr(upload, "filename", "") else None


def _save_with_file(form, action, save):
    """Save the text (``save()``), then attach the chosen file: one step, kept or refused whole.

    A refusal about the file is shown under the upload field; the typed text stays in the form
    (the writing page: Upload saves a draft with the file, so nothing typed is lost).
    """
    upload = _chosen_file(form)
    phase = {"file": False}

    def step():
        require_form(form)
        item = save()
        if upload is not None or action == "upload":
            phase["file"] = True
            news.add_attachment(current_user, item.id, upload)
        return item
    item, refusal = attempt(step)
    if refusal is not None:
        (form.file.errors if phase["file"] else form.form_errors).append(refusal.message)
    return item, refusal, upload is not None


@bp.route("/news/write", methods=["GET", "POST"])
@login_required
def news_write():
    """Write a news item: preview it, save it as a draft or publish it, with a file if chosen.

    Upload saves the text as a draft and attaches the file (the editing page follows).
    """
    _require_writer()
    form = NewsForm(libraries=_library_choices())
    action = request.form.get("action", "draft")
    preview = None
    if request.method == "POST" and action == "preview":
        preview = _preview(form)
        if is_htmx():
            return render_template("community/news/_preview.html", preview=preview)
    elif request.method == "POST":
        def save():
            chosen = form.library.data
            return news.create_news(current_user, library_id=None if chosen == CENTRE_CHOICE
                                    else int(chosen), publish=action == "publish",
                                    **_values(form))
        item, refusal, attached = _save_with_file(form, action, save)
        if refusal is None:
            return _after_save(item, action, attached)
    status = 400 if request.method == "POST" and action != "preview" else 200
    return render_template("community/news/write.html", form=form, item=None,
                           preview=preview, max_mb=get_setting("news.max_attachment_mb")), status


def _after_save(item, action, attached=False):
    if action == "publish":
        flash(_("The news is published."), "success")
        return redirect(url_for("community.news_article", news_id=item.id), code=303)
    if attached:
        flash(_("The news is saved as a draft and the file is attached. Put pictures into "
                "the text with the button beside them, then publish."), "success")
        return redirect(url_for("community.news_edit", news_id=item.id) + "#files", code=303)
    flash(_("Saved. Add pictures or attachments below, then publish it."), "success")
    return redirect(url_for("community.news_edit", news_id=item.id), code=303)


def _editable(news_id):
    item = news.get_news(current_user, news_id)
    if not news.can_edit(current_user, item):
        raise NotAllowed(_("Only staff of the library that wrote it can change this news."))
    return item


def _edit_page(item, form, preview=None, upload_form=None, status=200):
    return render_template("community/news/write.html", form=form, preview=preview,
                           **_files_context(item, upload_form)), status


def _files_context(item, upload_form=None, done=None):
    return {"item": item, "upload_form": upload_form or AttachmentForm(formdata=None),
            "action_form": ConfirmForm(formdata=None), "file_url": news.file_url,
            "max_mb": get_setting("news.max_attachment_mb"), "done": done}


def _edit_form(item=None):
    """The text form of the editing page (files are uploaded by their own form there)."""
    form = NewsForm(obj=item, formdata=None) if item else NewsForm()
    del form.file
    return form


@bp.route("/news/<id:news_id>/edit", methods=["GET", "POST"])
@login_required
def news_edit(news_id):
    """Change a news item's text (staff of its library), with a preview."""
    item = _editable(news_id)
    form = _edit_form(item if request.method == "GET" else None)
    action = request.form.get("action", "save")
    if request.method == "POST" and action == "preview":
        preview = _preview(form, item)
        if is_htmx():
            return render_template("community/news/_preview.html", preview=preview)
        return _edit_page(item, form, preview)
    if request.method == "POST":
        saved, refusal = attempt(lambda: news.update_news(current_user, item.id,
                                                          **_values(require_form(form))),
                                 form=form)
        if refusal is None:
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("community.news_edit", news_id=saved.id), code=303)
        return _edit_page(item, form, status=refusal.status)
    return _edit_page(item, form)


def _step(news_id, step, done, endpoint="community.news_edit"):
    """Run a publishing or file step; a refusal comes back on the edit page."""
    _result, refusal = attempt(lambda: step(require_form(ConfirmForm())))
    if refusal is not None:
        item = _editable(news_id)
        form = _edit_form(item)
        form.form_errors.append(refusal.message)
        page, _status = _edit_page(item, form)
        return page, refusal.status
    flash(done, "success")
    return redirect(url_for(endpoint, news_id=news_id), code=303)


@bp.post("/news/<id:news_id>/publish")
@login_required
def news_publish(news_id):
    """Publish a draft."""
    return _step(news_id, lambda _form: news.publish(current_user, news_id),
                 _("The news is published."), "community.news_article")


@bp.post("/news/<id:news_id>/unpublish")
@login_required
def news_unpublish(news_id):
    """Take a news item off the public pages (it becomes a draft)."""
    return _step(news_id, lambda _form: news.unpublish(current_user, news_id),
                 _("The news is no longer published; it is a draft again."))


def _files_part(news_id, upload_form=None, done=None):
    """The editing page's files section alone, for HTMX (the typed text stays on the page)."""
    item = _editable(news_id)
    db.session.refresh(item, ["attachments"])
    return render_template("community/news/_files.html", **_files_context(item, upload_form,
                                                                          done))


@bp.post("/news/<id:news_id>/files")
@login_required
def news_attach(news_id):
    """Attach a picture or a PDF (checked by content; too large or wrong kind: a message).

    With HTMX only the files section comes back, so what is typed in the text stays; a refusal
    is shown in that section (HTMX swaps only 2xx answers).
    """
    form = AttachmentForm()
    upload = form.file.data if getattr(form.file.data, "filename", "") else None
    _result, refusal = attempt(lambda: news.add_attachment(current_user, news_id,
                                                           upload if require_form(form) else None))
    if refusal is not None:
        form.file.errors = [refusal.message]
        if is_htmx():
            return _files_part(news_id, upload_form=form)
        item = _editable(news_id)
        page, _status = _edit_page(item, _edit_form(item), upload_form=form)
        return page, refusal.status
    if is_htmx():
        response = make_response(_files_part(news_id, done=_("The file is attached.")))
        response.headers["HX-Replace-Url"] = url_for("community.news_edit",
                                                     news_id=news_id) + "#files"
        return response
    flash(_("The file is attached."), "success")
    return redirect(url_for("community.news_edit", news_id=news_id) + "#files", code=303)


@bp.post("/news/<id:news_id>/files/<id:attachment_id>/remove")
@login_required
def news_detach(news_id, attachment_id):
    """Take a picture or attachment off a news item (HTMX: the files section comes back)."""
    if is_htmx():
        _result, refusal = attempt(lambda: news.remove_attachment(
            current_user, news_id, attachment_id) if require_form(ConfirmForm()) else None)
        form = AttachmentForm(formdata=None)
        if refusal is not None:
            form.file.errors = [refusal.message]
        return _files_part(news_id, upload_form=form,
                           done=None if refusal else _("The file is removed."))
    return _step(news_id,
                 lambda _form: news.remove_attachment(current_user, news_id, attachment_id),
                 _("The file is removed."))


@bp.get("/news/mine")
@login_required
def news_manage():
    """The drafts and published news of the libraries the user writes for."""
    _require_writer()
    names = [_("Alliance management centre") if library is None else library_name(library)
             for _id, library in news.writable_libraries(current_user)]
    return render_template("community/news/manage.html",
                           items=news.news_to_manage(current_user), publishers="、".join(names))
