"""Thin views for reading: preview pages, full-text links, citations, saved lists."""
from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from jala.catalog.service import get_record
from jala.errors import NotFound, RuleViolation
from jala.reading import bp, citations, lists, previews, resolvers, saved_searches
from jala.reading.forms import (
    ConfirmForm,
    LinkResolverForm,
    ListForm,
    MoveForm,
    PreviewUploadForm,
    SaveForm,
)
from jala.reading.openurl import coins
from jala.web import EVERY_REFUSAL, NOT_FOR_A_FORM, attempt, is_htmx, require_form

EXTENSIONS = {"txt": "gbt7714", "ris": "ris", "bib": "bibtex", "json": "csl-json"}
EXT = "any(txt, ris, bib, json)"


def _htmx_step(step):
    """Run ``step``: ``(result, None)``, or under HTMX ``(None, message)`` of its refusal.

    The refused step keeps nothing. HTMX shows the message in the partial it swaps in; a
    plain post gets an error page, as does a refusal that is not found or not allowed.
    """
    result, refusal = attempt(step, reraise=NOT_FOR_A_FORM if is_htmx() else EVERY_REFUSAL)
    return result, refusal.message if refusal else None


def _download(records, fmt, stem):
    text = citations.export(records, fmt)
    _label, ext, mimetype = citations.FORMATS[fmt]
    return Response(text, content_type=mimetype,
                    headers={"Content-Disposition": f"attachment; filename={stem}.{ext}"})


# --- what the record page shows ------------------------------------------------------------

def preview_items(record):
    """The record's preview pages with what the templates need to show each one."""
    pages = previews.preview_pages(record.id)
    return [{"page": page, "number": number, "total": len(pages),
             "pdf": previews.is_pdf(page),
             "src": None if previews.is_pdf(page) else previews.preview_view_url(page),
             "file_url": url_for("reading.preview_file", record_id=record.id, page_id=page.id),
             "kind": previews.kind_label(page.kind)}
            for number, page in enumerate(pages, start=1)]


def _save_box(record, error=None):
    """What the save button needs: the user's lists and those that hold the record."""
    user = current_user
    signed_in = getattr(user, "is_authenticated", False)
    return {"record": record, "error": error,
            "lists": lists.my_lists(user) if signed_in else [],
            "saved_in": lists.lists_with_record(user, record.id) if signed_in else []}


def record_panel(record):
    """Everything the reading panel of a record page shows, computed once."""
    links = resolvers.resolver_links(current_user, record)
    home_id = getattr(current_user, "home_library_id", None)
    home = links[0] if links and home_id is not None and links[0][0].id == home_id else None
    return {
        "previews": preview_items(record),
        "home_link": home,
        "other_links": links[1:] if home else links,
        "doi": citations.clean_doi(record.doi),
        "gbt7714": citations.gbt7714(record),
        "coins": coins(record),
        "can_manage": previews.can_manage_previews(current_user, record),
        "save": _save_box(record),
    }


@bp.app_context_processor
def reading_helpers():
    """Helpers for the record page and search results (covers: one query per page)."""
    return {"cover_urls": previews.cover_urls, "reading_panel": record_panel,
            "preview_kind_label": previews.kind_label, "is_saved_search": _is_saved_search}


def _is_saved_search(query_string):
    return (current_user.is_authenticated
            and saved_searches.is_saved(current_user, query_string))


# --- previews: readers --------------------------------------------------------------------

@bp.get("/records/<record_id>/preview")
def preview(record_id):
    """Page through a record's preview at full width (swipe; pinch to zoom)."""
    record = get_record(record_id)
    return render_template("reading/preview.html", record=record, items=preview_items(record))


@bp.get("/records/<record_id>/preview/<id:page_id>/file")
def preview_file(record_id, page_id):
    """One preview file (a PDF, or an image at full size) through a fresh short-lived link."""
    record = get_record(record_id)
    page = previews.get_preview_page(record.id, page_id)
    return redirect(previews.preview_view_url(page), code=302)


# --- previews: staff ----------------------------------------------------------------------

def _manage_context(record, **extra):
    return dict(record=record, items=preview_items(record), move_form=MoveForm(),
                confirm_form=ConfirmForm(), **extra)


@bp.route("/records/<record_id>/previews", methods=["GET", "POST"])
@login_required
def manage_previews(record_id):
    """Staff upload a record's cover, front matter, contents and sample pages."""
    record = get_record(record_id)
    previews.require_preview_manager(current_user, record)
    form = PreviewUploadForm()
    status = 200
    if form.validate_on_submit():
        uploads = [f for f in form.files.data or [] if f and f.filename]
        if not uploads:
            form.files.errors.append(_("Choose at least one file."))
            status = 400
        else:  # all the files or none
            _pages, refusal = attempt(lambda: _add_previews(record, form.kind.data, uploads,
                                                            form.caption.data))
            if refusal is None:
                flash(_("%(n)d files added to the preview.", n=len(uploads)), "success")
                return redirect(url_for("reading.manage_previews", record_id=record.id),
                                code=303)
            form.files.errors.append(refusal.message)
            status = 400
    elif request.method == "POST":
        status = 400
    return render_template("reading/manage_previews.html", form=form,
                           **_manage_context(record)), status


def _add_previews(record, kind, uploads, caption):
    """Add each upload to the record's preview; with several, a refusal names its file."""
    for upload in uploads:
        try:
            previews.upload_preview(current_user, record.id, kind=kind, upload=upload,
                                   caption=caption)
        except RuleViolation as refusal:
            if len(uploads) == 1 or refusal.status in NOT_FOR_A_FORM:
                raise
            raise RuleViolation(f"{upload.filename}: {refusal.message}",
                                refusal.status) from refusal


def _preview_step(record_id, step):
    """Run a staff step on a preview page; HTMX gets the list back, with the error if any."""
    record = get_record(record_id)
    _result, error = _htmx_step(lambda: step(record))
    if is_htmx():
        return render_template("reading/_preview_admin_list.html",
                               **_manage_context(record, error=error))
    return redirect(url_for("reading.manage_previews", record_id=record.id), code=303)


@bp.post("/records/<record_id>/previews/<id:page_id>/move")
@login_required
def move_preview(record_id, page_id):
    """Move a preview page one place up or down."""
    def step(record):
        form = require_form(MoveForm())
        previews.move_preview(current_user, record.id, page_id, form.direction.data)
    return _preview_step(record_id, step)


@bp.post("/records/<record_id>/previews/<id:page_id>/delete")
@login_required
def delete_preview(record_id, page_id):
    """Take a page out of the preview."""
    def step(record):
        require_form(ConfirmForm())
        previews.delete_preview(current_user, record.id, page_id)
    return _preview_step(record_id, step)


# --- citations ------------------------------------------------------------------------------

@bp.get("/records/<record_id>/cite")
def cite(record_id):
    """The record's citation in GB/T 7714, RIS and BibTeX, each ready to copy."""
    record = get_record(record_id)
    texts = {fmt: citations.export([record], fmt) for fmt in citations.FORMATS}
    return render_template("reading/cite.html", record=record, texts=texts,
                           formats=citations.FORMATS)


@bp.get(f"/records/<record_id>/cite.<{EXT}:ext>")
def cite_download(record_id, ext):
    """The record's citation as a file (``.txt`` GB/T 7714, ``.ris``, ``.bib``, ``.json``)."""
    record = get_record(record_id)
    return _download([record], EXTENSIONS[ext], f"jala-record-{record.id}")


# --- link resolvers -----------------------------------------------------------------------

@bp.route("/libraries/<code>/link-resolver", methods=["GET", "POST"])
@login_required
def link_resolver(code):
    """A library admin sets the OpenURL resolver its readers are sent to for full text."""
    library, resolver = resolvers.link_resolver_of(current_user, code)
    form = LinkResolverForm(obj=resolver)
    status = 200
    if form.validate_on_submit():
        _resolver, refusal = attempt(lambda: resolvers.save_link_resolver(
            current_user, library.code, form.base_url.data, form.label.data))
        if refusal is None:
            flash(_("The link resolver is saved."), "success")
            return redirect(url_for("reading.link_resolver", code=library.code), code=303)
        form.base_url.errors.append(refusal.message)
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("reading/link_resolver.html", library=library, resolver=resolver,
                           form=form, confirm_form=ConfirmForm()), status


@bp.post("/libraries/<code>/link-resolver/delete")
@login_required
def delete_link_resolver(code):
    """Remove the library's link resolver."""
    require_form(ConfirmForm())
    library = resolvers.delete_link_resolver(current_user, code)
    if library is not None:
        flash(_("The link resolver is removed."), "success")
    return redirect(url_for("reading.link_resolver", code=code.upper()), code=303)


# --- saved lists: the owner -----------------------------------------------------------------

@bp.route("/lists", methods=["GET", "POST"])
@login_required
def my_lists():
    """The user's saved lists; a form starts a new one."""
    form = ListForm()
    status = 200
    if form.validate_on_submit():
        saved, refusal = attempt(lambda: lists.create_list(current_user, form.name.data),
                                 reraise=())
        if refusal is None:
            return redirect(url_for("reading.list_detail", list_id=saved.id), code=303)
        form.name.errors.append(refusal.message)
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("reading/lists.html", lists=lists.my_lists(current_user),
                           sizes=lists.list_sizes(current_user), form=form), status


def _list_context(saved, **extra):
    records = lists.list_records(saved)
    return dict(saved=saved, records=records, gbt7714=citations.export(records, "gbt7714"),
                rename_form=ListForm(obj=saved), confirm_form=ConfirmForm(), **extra)


@bp.get("/lists/<id:list_id>")
@login_required
def list_detail(list_id):
    """One of the user's lists: its records, citations, sharing."""
    saved = lists.get_own_list(current_user, list_id)
    return render_template("reading/list.html", **_list_context(saved))


@bp.post("/lists/<id:list_id>/rename")
@login_required
def rename_list(list_id):
    """Rename a list."""
    saved = lists.get_own_list(current_user, list_id)
    form = ListForm()
    if form.validate_on_submit():
        _saved, refusal = attempt(
            lambda: lists.rename_list(current_user, list_id, form.name.data), reraise=())
        if refusal is None:
            return redirect(url_for("reading.list_detail", list_id=list_id), code=303)
        form.name.errors.append(refusal.message)
    context = _list_context(saved)
    context["rename_form"] = form
    return render_template("reading/list.html", **context), 400


@bp.post("/lists/<id:list_id>/delete")
@login_required
def delete_list(list_id):
    """Delete a list."""
    require_form(ConfirmForm())
    lists.delete_list(current_user, list_id)
    flash(_("The list is deleted."), "success")
    return redirect(url_for("reading.my_lists"), code=303)


def _share_step(list_id, service):
    require_form(ConfirmForm())
    saved = service(current_user, list_id)
    if is_htmx():
        return render_template("reading/_share_box.html", saved=saved,
                               confirm_form=ConfirmForm())
    return redirect(url_for("reading.list_detail", list_id=list_id), code=303)


@bp.post("/lists/<id:list_id>/share")
@login_required
def share_list(list_id):
    """Make a read-only link to the list."""
    return _share_step(list_id, lists.share_list)


@bp.post("/lists/<id:list_id>/unshare")
@login_required
def stop_sharing(list_id):
    """Stop sharing the list: its link stops working."""
    return _share_step(list_id, lists.stop_sharing)


@bp.get(f"/lists/<id:list_id>/export.<{EXT}:ext>")
@login_required
def export_list(list_id, ext):
    """The list's citations as a file."""
    saved = lists.get_own_list(current_user, list_id)
    return _download(lists.list_records(saved), EXTENSIONS[ext], f"jala-list-{saved.id}")


# --- saving from a record page --------------------------------------------------------------

def _parse_id(value, limit=18):
    value = (value or "").strip()
    return int(value) if value.isdecimal() and len(value) <= limit else None


@bp.post("/lists/save")
@login_required
def save_record():
    """Save a record to a list; HTMX gets the save box back (with the error if any)."""
    form = SaveForm()
    record = get_record(request.form.get("record_id", ""))

    def save():
        require_form(form)
        saved, _item = lists.save_record(current_user, record.id,
                                           _parse_id(form.list_id.data, 10))
        return saved

    saved, error = _htmx_step(save)
    if is_htmx():
        return render_template("reading/_save_box.html", **_save_box(record, error))
    flash(_("Saved in “%(name)s”.", name=saved.name), "success")
    return redirect(url_for("catalog.record", record_id=record.id), code=303)


@bp.post("/lists/<id:list_id>/records/<record_id>/remove")
@login_required
def remove_record(list_id, record_id):
    """Take a record out of a list (from the list page, or the record page's save box)."""
    require_form(ConfirmForm())
    record_id = _parse_id(record_id)
    if record_id is None:
        raise NotFound(_("No such record."))
    lists.remove_record(current_user, list_id, record_id)
    if is_htmx():
        if request.headers.get("HX-Target", "").startswith("save-"):
            return render_template("reading/_save_box.html",
                                   **_save_box(get_record(record_id)))
        return ""
    if request.form.get("back") == "record":
        return redirect(url_for("catalog.record", record_id=record_id), code=303)
    return redirect(url_for("reading.list_detail", list_id=list_id), code=303)


# --- a shared list: anyone with the link --------------------------------------------------

@bp.get("/shared/lists/<token>")
def shared_list(token):
    """A shared list, read-only, for anyone who has its link."""
    saved = lists.shared_list(token)
    records = lists.list_records(saved)
    response = Response(render_template(
        "reading/shared_list.html", saved=saved, records=records, token=token,
        gbt7714=citations.export(records, "gbt7714")))
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get(f"/shared/lists/<token>/export.<{EXT}:ext>")
def export_shared_list(token, ext):
    """A shared list's citations as a file."""
    saved = lists.shared_list(token)
    return _download(lists.list_records(saved), EXTENSIONS[ext], f"jala-list-{saved.id}")


# --- saved searches ---------------------------------------------------------------------------

@bp.post("/searches")
@login_required
def save_search():
    """Keep the search whose query string the results page sent; back to its results."""
    require_form(ConfirmForm())
    query = request.form.get("query", "")
    saved, refusal = attempt(lambda: saved_searches.save_search(current_user, query), reraise=())
    if refusal is not None:
        flash(refusal.message, "error")
        return redirect(url_for("search.results") + "?" + saved_searches.normalised(query),
                        code=303)
    flash(_("The search is saved: find it under “Mine”."), "success")
    return redirect(url_for("search.results") + "?" + saved.query_string, code=303)


@bp.post("/searches/<id:search_id>/delete")
@login_required
def delete_search(search_id):
    """Forget a saved search."""
    require_form(ConfirmForm())
    saved_searches.delete_saved_search(current_user, search_id)
    flash(_("The saved search is deleted."), "success")
    return redirect(url_for("mine.home") + "#searches", code=303)
