"""Thin views of book lists (书单): the public lists, and the librarians' editor.

The commendations' views are in ``commendation_routes`` (registered from here).
"""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from jala.community import bp
from jala.community.recognition import book_lists as lists
from jala.community.recognition import commendation_routes  # noqa: F401 (registers its views)
from jala.community.recognition.forms import BookListForm, EntryForm, NoteForm
from jala.community.recognition.models import BookListEntry
from jala.errors import NotAllowed
from jala.membership import library_name
from jala.web import attempt, is_htmx, require_form

# --- reading ------------------------------------------------------------------------------------

@bp.get("/booklists")
def book_lists():
    """Published book lists, newest first; a librarian also sees their library's drafts."""
    page = max(1, request.args.get("page", 1, type=int))
    rows, pages = lists.published_book_lists(page)
    mine = lists.lists_to_edit(current_user) if current_user.is_authenticated else []
    return render_template("community/recognition/book_lists.html", lists=rows, page=page,
                           pages=pages, mine=mine,
                           can_create=bool(lists.editable_libraries(current_user)))


@bp.get("/booklists/<id:list_id>")
def book_list(list_id):
    """One book list: each book with its authors, the note and which libraries hold it."""
    found = lists.get_book_list(current_user, list_id)
    return render_template("community/recognition/book_list.html", book_list=found,
                           records=lists.records_of(found),
                           can_edit=lists.can_edit_book_list(current_user, found))


# --- the editor ---------------------------------------------------------------------------------

def _library_choices(form):
    form.library_id.choices = [SelectChoice(library.id, library_name(library))
                               for library in lists.editable_libraries(current_user)]
    if not form.library_id.choices:
        raise NotAllowed(_("Book lists are made by the librarians of member libraries."))


@bp.route("/booklists/new", methods=["GET", "POST"])
@login_required
def book_list_new():
    """Start a book list (a draft until it is published)."""
    form = BookListForm()
    _library_choices(form)
    del form.cover_record_id
    status = 200
    if request.method == "POST":
        created, refusal = attempt(lambda: lists.create_book_list(
            current_user, library_id=require_form(form).library_id.data, title=form.title.data,
            theme=form.theme.data, introduction=form.introduction.data), form=form)
        if refusal is None:  # the editor says it is a draft while the list is empty
            return redirect(url_for("community.book_list_edit", list_id=created.id), code=303)
        status = refusal.status
    return render_template("community/recognition/book_list_new.html", form=form), status


def _edit_form(book_list, records, formdata=None):
    """The details form, its cover a choice among the list's books."""
    form = BookListForm(formdata=formdata, obj=book_list)
    del form.library_id
    form.cover_record_id.choices = [SelectChoice("", _("No cover"))] + [
        SelectChoice(str(entry.record_id), records[entry.record_id].title[:60])
        for entry in book_list.entries if entry.record_id in records]
    if formdata is None:
        form.cover_record_id.data = str(book_list.cover_record_id or "")
    return form


@bp.route("/booklists/<id:list_id>/edit", methods=["GET", "POST"])
@login_required
def book_list_edit(list_id):
    """The editor: the list's details, its books in order, and the catalogue search to add."""
    found = lists.get_book_list(current_user, list_id)
    if not lists.can_edit_book_list(current_user, found):
        raise NotAllowed(_("Only librarians of the list's library can change it."))
    records = lists.records_of(found)
    q = request.args.get("q", "").strip()[:500]
    hits = lists.find_records(current_user, list_id, q)[1] if q else None
    form, status = _edit_form(found, records), 200
    if request.method == "POST":
        form = _edit_form(found, records, request.form)
        _changed, refusal = attempt(lambda: lists.update_book_list(
            current_user, list_id, title=require_form(form).title.data, theme=form.theme.data,
            introduction=form.introduction.data, cover_record_id=form.cover_record_id.data),
            form=form)
        if refusal is None:
            flash(_("The book list is saved."), "success")
            return redirect(url_for("community.book_list_edit", list_id=list_id), code=303)
        status = refusal.status
    return render_template("community/recognition/book_list_edit.html", book_list=found,
                           form=form, q=q, hits=hits, records=records,
                           entry_form=EntryForm(formdata=None)), status


@bp.get("/booklists/<id:list_id>/find")
@login_required
def book_list_find(list_id):
    """Catalogue records to add (an HTMX fragment; without JS, the editor with the hits)."""
    q = request.args.get("q", "").strip()[:500]
    if not is_htmx():
        return redirect(url_for("community.book_list_edit", list_id=list_id, q=q or None,
                                _anchor="find"))
    found, hits = lists.find_records(current_user, list_id, q)
    return render_template("community/recognition/_find_results.html", book_list=found,
                           q=q, hits=hits if q else None, entry_form=EntryForm(formdata=None))


def _entries_step(list_id, step, done):
    """Run a step on the list's books: HTMX gets the books back, else the editor (303).

    An added book also comes back as its search hit, marked as on the list (out of band).
    """
    result, refusal = attempt(step)
    if is_htmx():
        found = lists.get_book_list(current_user, list_id)
        records = lists.records_of(found)
        html = render_template(
            "community/recognition/_entries.html", book_list=found, records=records,
            error=refusal.message if refusal else None, done=None if refusal else done)
        if isinstance(result, BookListEntry) and result.record_id in records:
            html += render_template("community/recognition/_found_item.html", book_list=found,
                                    record=records[result.record_id], on_list=True, oob=True)
        return html  # a refusal is shown in the swapped part (HTMX swaps only 2xx)
    if refusal is not None:
        flash(refusal.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("community.book_list_edit", list_id=list_id, _anchor="entries"),
                    code=303)


@bp.post("/booklists/<id:list_id>/entries")
@login_required
def book_list_add_entry(list_id):
    """Add a record to the list, with the librarian's note."""
    form = EntryForm()
    return _entries_step(list_id, lambda: lists.add_entry(
        current_user, list_id, require_form(form).record_id.data, form.note.data),
        _("The book is added to the list."))


def _entry_list_id(entry_id):
    entry = lists.get_entry(current_user, entry_id)
    return entry.book_list_id


@bp.post("/booklists/entries/<id:entry_id>/note")
@login_required
def book_list_entry_note(entry_id):
    """Change the note on one book of the list."""
    form = NoteForm()
    return _entries_step(_entry_list_id(entry_id), lambda: lists.update_entry_note(
        current_user, entry_id, require_form(form).note.data), _("The note is saved."))


@bp.post("/booklists/entries/<id:entry_id>/move")
@login_required
def book_list_entry_move(entry_id):
    """Move one book up or down the list."""
    direction = request.form.get("direction", "")
    return _entries_step(_entry_list_id(entry_id), lambda: lists.move_entry(
        current_user, entry_id, direction), _("The order is saved."))


@bp.post("/booklists/entries/<id:entry_id>/remove")
@login_required
def book_list_entry_remove(entry_id):
    """Take one book off the list."""
    return _entries_step(_entry_list_id(entry_id), lambda: lists.remove_entry(
        current_user, entry_id), _("The book is taken off the list."))


def _list_step(list_id, step, done, to=None):
    """Run a step on the whole list; back to the editor (or ``to``) with a message."""
    _result, refusal = attempt(step)
    flash(refusal.message if refusal else done, "error" if refusal else "success")
    if refusal is not None or to is None:
        return redirect(url_for("community.book_list_edit", list_id=list_id), code=303)
    return redirect(to, code=303)


@bp.post("/booklists/<id:list_id>/publish")
@login_required
def book_list_publish(list_id):
    """Publish the list: everyone sees it."""
    return _list_step(list_id, lambda: lists.publish_book_list(current_user, list_id),
                      _("The book list is published."),
                      to=url_for("community.book_list", list_id=list_id))


@bp.post("/booklists/<id:list_id>/unpublish")
@login_required
def book_list_unpublish(list_id):
    """Take the list off the public pages."""
    return _list_step(list_id, lambda: lists.unpublish_book_list(current_user, list_id),
                      _("The book list is a draft again."))


@bp.post("/booklists/<id:list_id>/delete")
@login_required
def book_list_delete(list_id):
    """Delete the list."""
    return _list_step(list_id, lambda: lists.delete_book_list(current_user, list_id),
                      _("The book list is deleted."), to=url_for("community.book_lists"))
