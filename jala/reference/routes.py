"""Thin views for the reference desk: asking, the thread, the group's desk, the FAQ, statistics."""
from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from jala.files import create_link, link_token, signed_view_url
from jala.membership import member_libraries
from jala.reference import (
    bp,
    escalation,  # noqa: F401 (its sweep task registers on import)
    faq,
)
from jala.reference import services as reference
from jala.reference.forms import AskForm, FaqForm, MessageForm
from jala.reference.group import (
    is_reference_lead,
    is_reference_librarian,
    require_reference_librarian,
)
from jala.reference.stats import ALL, COLUMNS, monthly_stats
from jala.stats import bar_chart, csv_download, staff_filters
from jala.web import attempt, is_htmx, refusal_message, require_form

IMAGE_VIEW_SECONDS = 600
PDF_LINK_MINUTES = 10


def _upload(form):
    data = form.attachment.data
    return data if data is not None and getattr(data, "filename", "") else None


# --- asking ---------------------------------------------------------------------------------

@bp.route("/reference/ask", methods=["GET", "POST"])
@login_required
def ask():
    """Ask the librarians of the whole alliance a question (with a PDF or a picture)."""
    form = AskForm()
    blocked = refusal_message(lambda: reference.check_can_ask(current_user))
    if request.method == "POST" and blocked is None and form.validate_on_submit():
        # every refusal is shown on the form
        question, refusal = attempt(lambda: reference.ask_question(
            current_user, subject=form.subject.data, body=form.body.data, upload=_upload(form)),
            form=form, reraise=())
        if refusal is None:
            flash(_("Your question is on the reference desk. We email you when a librarian "
                    "answers."), "success")
            return redirect(url_for("reference.question", question_id=question.id), code=303)
    limit, used = reference.daily_quota(current_user)
    status = 400 if request.method == "POST" else 200
    return render_template("reference/ask.html", form=form, blocked=blocked, limit=limit,
                           used=used), status


@bp.get("/reference/questions")
@login_required
def my_questions():
    """The user's own questions and where each stands."""
    return render_template("reference/my_questions.html",
                           questions=reference.my_questions(current_user))


# --- the thread -----------------------------------------------------------------------------

def _question_context(question, error=None, form=None):
    return {"question": question, "can": reference.can_do(current_user, question),
            "error": error, "form": form or MessageForm(formdata=None)}


@bp.get("/reference/questions/<id:question_id>")
@login_required
def question(question_id):
    """One question and its thread (its asker and the reference group only)."""
    found = reference.get_question(current_user, question_id)
    return render_template("reference/question.html", **_question_context(found))


def _step(question_id, step, done, form=None):
    """Run a step on a question; HTMX gets the question (or its desk card) back.

    A refused step keeps nothing, and comes back with its error message.
    """
    found, refusal = attempt(step)
    error = refusal.message if refusal else None
    if refusal is not None:
        found = reference.get_question(current_user, question_id)
        if not is_htmx():
            return render_template("reference/question.html",
                                   **_question_context(found, error, form)), refusal.status
    if is_htmx():
        if request.headers.get("HX-Target", "").startswith("q-"):
            return render_template("reference/_desk_item.html", question=found, error=error,
                                   is_lead=is_reference_lead(current_user))
        return render_template("reference/_question.html",
                               **_question_context(found, error, form if error else None))
    flash(done(found), "success")
    return redirect(url_for("reference.question", question_id=found.id), code=303)


def _message_step(question_id, write, done):
    """Write a message in the thread (``write`` is the service), through ``_step``."""
    form = MessageForm()

    def step():
        require_form(form)
        return write(current_user, question_id, form.body.data, upload=_upload(form))
    return _step(question_id, step, done, form)


@bp.post("/reference/questions/<id:question_id>/reply")
@login_required
def reply(question_id):
    """The asker writes in the thread."""
    return _message_step(question_id, reference.reply_to_question,
                         lambda q: _("Your message was sent."))


@bp.post("/reference/questions/<id:question_id>/answer")
@login_required
def answer(question_id):
    """The claimant answers; the reader is emailed."""
    return _message_step(question_id, reference.answer_question,
                         lambda q: _("Your answer was sent to the reader."))


@bp.post("/reference/questions/<id:question_id>/claim")
@login_required
def claim(question_id):
    """A member of the reference group takes the question on."""
    return _step(question_id, lambda: reference.claim_question(current_user, question_id),
                 lambda q: _("Question %(id)d is yours to answer.", id=q.id))


@bp.post("/reference/questions/<id:question_id>/release")
@login_required
def release(question_id):
    """Give the question back to the whole group."""
    return _step(question_id, lambda: reference.release_question(current_user, question_id),
                 lambda q: _("Question %(id)d is back on the desk.", id=q.id))


@bp.post("/reference/questions/<id:question_id>/close")
@login_required
def close(question_id):
    """The asker or the claimant closes the question."""
    return _step(question_id, lambda: reference.close_question(current_user, question_id),
                 lambda q: _("Question %(id)d is closed.", id=q.id))


@bp.get("/reference/questions/<id:question_id>/attachments/<id:message_id>")
@login_required
def attachment(question_id, message_id):
    """An attachment, through a fresh short-lived signed link (participants and group only)."""
    stored = reference.attachment_of(current_user, question_id, message_id)
    if stored.content_type in reference.IMAGE_TYPES:
        return redirect(signed_view_url(stored, IMAGE_VIEW_SECONDS))
    link, _url = create_link(stored, valid_for=timedelta(minutes=PDF_LINK_MINUTES),
                             max_downloads=3)
    return redirect(url_for("core.download_file", token=link_token(link)))


# --- the group's desk ---------------------------------------------------------------------

@bp.get("/reference/desk")
@login_required
def desk():
    """Every question of the alliance, by tab; HTMX swaps the list when the tab changes."""
    tab = request.args.get("tab", "unclaimed")
    if tab not in reference.DESK_TABS:
        tab = "unclaimed"
    context = {"questions": reference.desk_questions(current_user, tab), "tab": tab,
               "is_lead": is_reference_lead(current_user)}
    if is_htmx() and request.headers.get("HX-Target") == "desk-list":
        return render_template("reference/_desk_list.html", **context)
    return render_template("reference/desk.html", **context)


# --- the FAQ ----------------------------------------------------------------------------------

@bp.route("/reference/questions/<id:question_id>/faq", methods=["GET", "POST"])
@login_required
def faq_edit(question_id):
    """Write the anonymised question and answer, and publish them in the FAQ."""
    found = reference.get_question(current_user, question_id)
    require_reference_librarian(current_user)
    form = FaqForm()
    status = 200
    if request.method == "GET":
        form.faq_question.data, form.faq_answer.data = faq.draft(current_user, found.id)
    elif form.validate_on_submit():
        _entry, refusal = attempt(lambda: faq.publish(current_user, found.id,
                                                      form.faq_question.data,
                                                      form.faq_answer.data), form=form)
        if refusal is not None:
            status = refusal.status
        else:
            flash(_("Published in the FAQ."), "success")
            return redirect(url_for("reference.faq_entry", question_id=found.id), code=303)
    else:
        status = 400
    return render_template("reference/faq_edit.html", question=found, form=form), status


@bp.post("/reference/questions/<id:question_id>/faq/unpublish")
@login_required
def faq_unpublish(question_id):
    """Take the entry out of the FAQ."""
    reference.get_question(current_user, question_id)
    faq.unpublish(current_user, question_id)
    flash(_("Taken out of the FAQ."), "success")
    return redirect(url_for("reference.question", question_id=question_id), code=303)


@bp.get("/reference/faq")
def faq_search():
    """The public FAQ with a search box; HTMX (typing) gets just the results."""
    page = request.args.get("page", "1")
    results = faq.search(request.args.get("q", "")[:500],
                         int(page) if page.isdecimal() and len(page) < 4 else 1)
    if is_htmx():
        return render_template("reference/_faq_results.html", results=results)
    return render_template("reference/faq.html", results=results)


@bp.get("/reference/faq/<id:question_id>")
def faq_entry(question_id):
    """One published FAQ entry."""
    entry = faq.get_entry(question_id)
    return render_template("reference/faq_entry.html", entry=entry,
                           library=faq.answering_library(entry))


# --- statistics -----------------------------------------------------------------------------

def _stats_rows():
    library, span = staff_filters(current_user, request.args,
                                  _("Reference statistics are for library staff."))
    rows = monthly_stats(span.since, span.until, library.code if library else None)
    return rows, library, span


@bp.get("/reference/stats")
@login_required
def stats():
    """Questions per month, answers, escalations and median first-response time, per library."""
    rows, library, span = _stats_rows()
    shown = library.code if library else ALL
    chart = bar_chart(span, ((r["month"], r["questions"], r["answered"]) for r in rows
                                   if r["library"] == shown))
    return render_template("reference/stats.html", rows=rows, library=library,
                           months=span.months, chart=chart,
                           libraries=member_libraries(include_former=True), ALL=ALL)


@bp.get("/reference/stats.csv")
@login_required
def stats_download():
    """The same statistics as a CSV file."""
    return csv_download(_stats_rows()[0], COLUMNS, "reference-stats.csv")


@bp.app_context_processor
def reference_helpers():
    """Template helpers: the question's status words, image previews, group membership."""
    def image_url(stored):
        if stored is None or stored.content_type not in reference.IMAGE_TYPES:
            return None
        return signed_view_url(stored, IMAGE_VIEW_SECONDS)

    return {"question_status_label": reference.status_label,
            "attachment_image_url": image_url,
            "is_reference_librarian": is_reference_librarian}
