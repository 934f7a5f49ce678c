"""Thin views for purchase suggestions: the reader's form and list, the library's queue."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from jala.membership import get_library, library_name
from jala.permissions import require_staff_of
from jala.procurement import bp, lifecycle
from jala.procurement import services as procurement
from jala.procurement.forms import DecisionForm, SuggestForm
from jala.procurement.stats import COLUMNS, monthly_stats
from jala.stats import bar_chart, csv_download, window
from jala.web import EVERY_REFUSAL, attempt, is_htmx, refusal_message, require_form

# --- readers ------------------------------------------------------------------------------------

@bp.route("/purchase/suggest", methods=["GET", "POST"])
@login_required
def suggest():
    """Suggest that the reader's library buy a title (pre-filled from ``?title=…``)."""
    form = SuggestForm()
    blocked = refusal_message(lambda: procurement.check_can_suggest(current_user))
    if request.method == "GET":
        form.prefill(request.args)
    elif blocked is None and form.validate_on_submit():
        # every refusal is shown on the form
        suggestion, refusal = attempt(lambda: procurement.suggest_purchase(
            current_user, title=form.title.data, authors=form.authors.data,
            publisher=form.publisher.data, year=form.year.data, isbn=form.isbn.data,
            note=form.note.data), form=form, reraise=())
        if refusal is None:
            flash(_("Your suggestion has gone to %(library)s. We email you when it decides.",
                    library=library_name(suggestion.library)), "success")
            if suggestion.record_id:
                flash(_("The union catalogue already has a record with this ISBN: see it "
                        "under your suggestion."), "info")
            return redirect(url_for("procurement.my_suggestions"), code=303)
    limit, used = procurement.daily_quota(current_user)
    status = 400 if request.method == "POST" else 200
    return render_template("procurement/suggest.html", form=form, blocked=blocked, limit=limit,
                           used=used), status


@bp.get("/purchase/suggestions")
@login_required
def my_suggestions():
    """The reader's suggestions and where each stands."""
    return render_template("procurement/my_suggestions.html",
                           suggestions=procurement.my_suggestions(current_user))


# --- the library's queue ------------------------------------------------------------------------

def _staff_library(code):
    library = get_library(code)
    require_staff_of(current_user, library.id)
    return library


@bp.get("/libraries/<code>/purchase")
@login_required
def library_queue(code):
    """The library's suggestions; HTMX swaps the list when the tab changes."""
    library = _staff_library(code)
    tab = request.args.get("status", "open")
    if tab not in procurement.QUEUE_TABS:
        tab = "open"
    context = {"library": library, "tab": tab,
               "suggestions": procurement.library_queue(current_user, library, tab)}
    if is_htmx() and request.headers.get("HX-Target") == "queue-list":
        return render_template("procurement/_queue_list.html", **context)
    return render_template("procurement/queue.html", **context)


@bp.post("/purchase/suggestions/<id:suggestion_id>/<action>")
@login_required
def decide(suggestion_id, action):
    """A librarian's decision (a step of ``lifecycle.TRANSITIONS``); HTMX gets the card back.

    Without HTMX a refusal is an error page; with it, only a suggestion not found is.
    """
    def step():
        form = require_form(DecisionForm())
        return lifecycle.step(current_user, suggestion_id, action, reason=form.reason.data,
                              record_id=form.record_id.data)
    suggestion, refusal = attempt(step, reraise=(404,) if is_htmx() else EVERY_REFUSAL)
    if refusal is not None:
        suggestion = procurement.get_for_staff(current_user, suggestion_id)
    if is_htmx():
        return render_template("procurement/_queue_item.html", suggestion=suggestion,
                               error=refusal.message if refusal else None)
    flash(_("Suggestion %(id)d: %(status)s.", id=suggestion.id,
            status=lifecycle.status_label(suggestion.status)), "success")
    return redirect(url_for("procurement.library_queue", code=suggestion.library.code),
                    code=303)


# --- statistics -------------------------------------------------------------------------------

def _stats_rows(code):
    library = _staff_library(code)
    span = window(request.args.get("months"))
    return monthly_stats(library.id, span.since, span.until), library, span


@bp.get("/libraries/<code>/purchase/stats")
@login_required
def stats(code):
    """Suggestions made, ordered, declined and made available per month at one library."""
    rows, library, span = _stats_rows(code)
    chart = bar_chart(span, ((r["month"], r["suggested"], r["available"]) for r in rows))
    return render_template("procurement/stats.html", rows=rows, library=library,
                           months=span.months, chart=chart)


@bp.get("/libraries/<code>/purchase/stats.csv")
@login_required
def stats_download(code):
    """The same counts as a CSV file."""
    rows, library, _span = _stats_rows(code)
    return csv_download(rows, COLUMNS, f"purchase-suggestions-{library.code}.csv")


@bp.app_context_processor
def procurement_helpers():
    """Template helpers: a suggestion's status words and the steps open to the user."""
    return {"suggestion_status_label": lifecycle.status_label,
            "suggestion_actions": lambda s: lifecycle.available_actions(current_user, s)}
