"""Thin views for loans: the reader's card, holds and loans; the library's desks and queues."""
import io

import segno
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from jala import clock
from jala.catalog.models import Holding
from jala.errors import NotFound
from jala.extensions import db
from jala.loans import bp, cards, holds, ill, reminders, union  # noqa: F401 (sweep tasks)
from jala.loans.forms import (
    ApplyCardForm,
    HoldForm,
    IllRequestForm,
    StepForm,
    UnionLendForm,
)
from jala.loans.models import ILL_OPEN, Hold, IllRequest
from jala.loans.services import (
    borrowing_problem,
    is_overdue,
    require_desk_of,
    staff_libraries,
)
from jala.membership import find_library, get_library, is_member, library_name
from jala.web import EVERY_REFUSAL, attempt, is_htmx, require_form

HOLD_STEPS = {"ready": holds.mark_ready, "collected": holds.mark_collected}


def _desk_library():
    """The library queue a step was taken from (hidden ``at`` field), if the user works there."""
    library = find_library(request.form.get("at", ""))
    if library is not None and library.id in {lib.id for lib in staff_libraries(current_user)}:
        return library
    return None


def _step(run, partial, back, done):
    """Run a step; HTMX gets ``partial(error)`` back (status 200, error shown), others a redirect.

    A refused step keeps nothing (its savepoint is rolled back). Without HTMX a refusal is an
    error page, as for any other form post; "not found" is never swallowed. ``done(result)``
    is the flash message of a step that worked.
    """
    result, refusal = attempt(run, reraise=(404,) if is_htmx() else EVERY_REFUSAL)
    if is_htmx():
        return partial(refusal.message if refusal else None)
    flash(done(result), "success")
    return redirect(back(result), code=303)


def _hold_done(hold):
    return _("Hold %(id)d: %(status)s.", id=hold.id, status=holds.hold_status_label(hold.status))


# --- the reader -------------------------------------------------------------------------------

@bp.get("/loans")
@login_required
def my_loans():
    """The reader's interlibrary card, holds, interlibrary loans and union loans."""
    return render_template(
        "loans/my_loans.html", card=cards.current_card(current_user),
        holds=holds.reader_holds(current_user), requests=ill.reader_requests(current_user),
        union_loans=union.reader_loans(current_user),
        problem=borrowing_problem(current_user))


def _qr_svg(url):
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False,
                                    svgns=True, title=_("Interlibrary card"))
    return Markup(buffer.getvalue().decode())


@bp.get("/loans/card")
@login_required
def my_card():
    """The reader's interlibrary card: its QR code for the desk, or the application."""
    card = cards.current_card(current_user)
    state = cards.card_state(card) if card else None
    qr = _qr_svg(cards.verification_url(card)) if state == "valid" else None
    return render_template("loans/card.html", card=card, state=state, qr=qr,
                           form=ApplyCardForm(), problem=borrowing_problem(current_user))


@bp.post("/loans/card")
@login_required
def apply_card():
    """Apply for an interlibrary card (or a new term of an expired one)."""
    require_form(ApplyCardForm())
    card, refusal = attempt(lambda: cards.apply_for_card(current_user), reraise=(404,))
    if refusal is not None:
        flash(refusal.message, "error")
    else:
        flash(_("Your application is with %(library)s. You will get an email when it is "
                "decided.", library=library_name(card.library)), "success")
    return redirect(url_for("loans.my_card"), code=303)


def _back_to_record(holding_id):
    holding = db.session.get(Holding, holding_id) if holding_id else None
    if holding is None:
        return url_for("loans.my_loans")
    return url_for("catalog.record", record_id=holding.record_id) + "#borrow"


@bp.post("/loans/holds")
@login_required
def place_hold():
    """Place a hold on a copy at the reader's home library (from the record page)."""
    form = require_form(HoldForm())
    hold, refusal = attempt(lambda: holds.place_hold(current_user, form.holding_id.data),
                            reraise=(404,))
    if refusal is not None:
        flash(refusal.message, "error")
        return redirect(_back_to_record(form.holding_id.data), code=303)
    flash(_("Your hold is placed. %(library)s will email you when the copy is ready.",
            library=library_name(hold.library)), "success")
    return redirect(url_for("loans.my_loans") + "#holds", code=303)


def _hold_partial(hold_id, library):
    def render(error):
        hold = holds.get_hold_for(current_user, hold_id)
        if library is not None:
            return render_template("loans/_hold_item.html", hold=hold, library=library,
                                   error=error)
        return render_template("loans/_my_hold.html", hold=hold, error=error)
    return render


def _hold_back(library):
    def back(hold):
        if library is not None:
            return url_for("loans.hold_queue", code=library.code)
        return url_for("loans.my_loans") + "#holds"
    return back


@bp.post("/loans/holds/<id:hold_id>/cancel")
@login_required
def cancel_hold(hold_id):
    """The reader (or the library's staff) cancels a hold."""
    library = _desk_library()
    require_form(StepForm())
    return _step(lambda: holds.cancel_hold(current_user, hold_id),
                 _hold_partial(hold_id, library), _hold_back(library), _hold_done)


@bp.post("/loans/holds/<id:hold_id>/<any(ready, collected):action>")
@login_required
def hold_step(hold_id, action):
    """Staff mark a hold ready to collect, or collected."""
    library = _desk_library()
    require_form(StepForm())
    return _step(lambda: HOLD_STEPS[action](current_user, hold_id),
                 _hold_partial(hold_id, library), _hold_back(library), _hold_done)


@bp.post("/loans/ill")
@login_required
def request_ill():
    """Ask for a copy of another member library, to pick it up at the home library."""
    form = require_form(IllRequestForm())
    req, refusal = attempt(lambda: ill.request_loan(current_user, form.holding_id.data,
                                                    form.note.data), reraise=(404,))
    if refusal is not None:
        flash(refusal.message, "error")
        return redirect(_back_to_record(form.holding_id.data), code=303)
    flash(_("Request %(id)d is with %(library)s.", id=req.id,
            library=library_name(req.lending_library)), "success")
    return redirect(url_for("loans.ill_detail", request_id=req.id), code=303)


@bp.get("/loans/ill/<id:request_id>")
@login_required
def ill_detail(request_id):
    """One interlibrary loan and its timeline (its reader, or staff of either library)."""
    req = ill.get_for(current_user, request_id)
    return render_template("loans/ill.html", req=req,
                           actions=ill.available_actions(req, current_user),
                           parties=ill.parties_of(current_user, req))


@bp.post("/loans/ill/<id:request_id>/<action>")
@login_required
def ill_step(request_id, action):
    """One step of an interlibrary loan, by the party the transition table names."""
    if action not in ill.ACTION_PARTY:
        raise NotFound(_("No such step."))
    library = _desk_library()

    def run():
        form = require_form(StepForm())
        return ill.step(current_user, request_id, action, form.note.data)

    def partial(error):
        req = ill.get_for(current_user, request_id)
        if library is not None:
            return render_template("loans/_ill_item.html", req=req, library=library,
                                   error=error)
        return render_template("loans/_my_ill.html", req=req, error=error)

    def back(req):
        if library is not None:
            return url_for("loans.ill_queue", code=library.code)
        return url_for("loans.ill_detail", request_id=request_id)

    return _step(run, partial, back, lambda req: _("Request %(id)d: %(status)s.", id=req.id,
                                                   status=ill.ill_status_label(req.status)))


@bp.post("/loans/union/<id:loan_id>/renew")
@login_required
def renew_union(loan_id):
    """The reader renews a union loan."""
    require_form(StepForm())

    def partial(error):
        loan = next((x for x in union.reader_loans(current_user) if x.id == loan_id), None)
        if loan is None:
            raise NotFound(_("No such union loan."))
        return render_template("loans/_my_union_loan.html", loan=loan, error=error)

    return _step(lambda: union.renew(current_user, loan_id), partial,
                 lambda loan: url_for("loans.my_loans") + "#union",
                 lambda loan: _("Renewed: now due on %(date)s.", date=loan.due_on.isoformat()))


# --- the library's staff ----------------------------------------------------------------------

def _staff_library(code):
    library = get_library(code)
    require_desk_of(current_user, library.id)
    return library


@bp.get("/libraries/<code>/ill")
@login_required
def ill_queue(code):
    """Interlibrary loans at the library: its turn, lending, borrowing, finished (HTMX tabs)."""
    library = _staff_library(code)
    view = request.args.get("view", "todo")
    if view not in ill.QUEUE_VIEWS:
        view = "todo"
    context = dict(library=library, view=view,
                   requests=ill.library_queue(current_user, library, view))
    if is_htmx() and request.headers.get("HX-Target") == "ill-list":
        return render_template("loans/_ill_list.html", **context)
    return render_template("loans/ill_queue.html", **context)


@bp.get("/libraries/<code>/holds")
@login_required
def hold_queue(code):
    """Holds at the library: placed and ready ones, or finished ones."""
    library = _staff_library(code)
    view = "done" if request.args.get("view") == "done" else "live"
    return render_template("loans/hold_queue.html", library=library, view=view,
                           holds=holds.library_holds(current_user, library, view))


@bp.get("/libraries/<code>/cards")
@login_required
def card_queue(code):
    """Interlibrary card applications of the library's readers, and its approved cards."""
    library = _staff_library(code)
    view = request.args.get("view", "requested")
    if view not in ("requested", "approved", "done"):
        view = "requested"
    return render_template("loans/card_queue.html", library=library, view=view,
                           cards=cards.library_cards(current_user, library, view))


@bp.post("/loans/cards/<id:card_id>/<any(approve, refuse, revoke):action>")
@login_required
def card_step(card_id, action):
    """The home library approves or refuses an application, or withdraws a card."""
    library = _desk_library()

    def run():
        form = require_form(StepForm())
        if action == "approve":
            return cards.approve_card(current_user, card_id)
        if action == "refuse":
            return cards.refuse_card(current_user, card_id, form.note.data)
        return cards.revoke_card(current_user, card_id, form.note.data)

    def partial(error):
        return render_template("loans/_card_item.html",
                               card=cards.get_card_for_staff(current_user, card_id),
                               error=error)

    def back(card):
        code = library.code if library else cards.get_card_for_staff(current_user,
                                                                     card_id).library.code
        return url_for("loans.card_queue", code=code)

    return _step(run, partial, back, lambda card: _(
        "Card %(id)d: %(status)s.", id=card.id,
        status=cards.card_status_label(cards.card_state(card))))


def _desk_context(library, form):
    barcode = request.args.get("barcode", "").strip()[:60]
    found = union.find_open_by_barcode(current_user, barcode) if barcode else None
    return dict(library=library, form=form, barcode=barcode, found=found,
                **union.library_desk(current_user, library))


@bp.get("/libraries/<code>/union")
@login_required
def union_desk(code):
    """The union borrowing desk: lend to a card holder, take returns, confirm arrivals."""
    library = _staff_library(code)
    form = UnionLendForm()
    if request.args.get("card"):
        form.card_code.data = request.args["card"][:40]
    return render_template("loans/union_desk.html", **_desk_context(library, form))


@bp.post("/libraries/<code>/union/lend")
@login_required
def union_lend(code):
    """Record a union loan to an interlibrary card holder."""
    library = _staff_library(code)
    form = UnionLendForm()
    if form.validate_on_submit():
        loan, refusal = attempt(lambda: union.lend(
            current_user, library.id, card_code=form.card_code.data,
            item_barcode=form.item_barcode.data, record_ref=form.record.data),
            form=form, reraise=(403,))
        if refusal is None:
            flash(_("Item %(barcode)s is lent to %(name)s until %(date)s.",
                    barcode=loan.item_barcode, name=loan.reader.display_name,
                    date=loan.due_on.isoformat()), "success")
            return redirect(url_for("loans.union_desk", code=library.code), code=303)
    return render_template("loans/union_desk.html", **_desk_context(library, form)), 400


def _union_step(library, loan_id, run):
    return _step(run, lambda error: render_template(
        "loans/_union_item.html", loan=union.get_for_staff(current_user, loan_id),
        library=library, error=error),
        lambda loan: url_for("loans.union_desk", code=library.code),
        lambda loan: _("Union loan %(id)d: %(status)s.", id=loan.id,
                       status=union.union_status_label(loan.status)))


@bp.post("/libraries/<code>/union/<id:loan_id>/return")
@login_required
def union_return(code, loan_id):
    """The item was returned at this library's desk."""
    library = _staff_library(code)
    require_form(StepForm())
    return _union_step(library, loan_id,
                       lambda: union.take_return(current_user, library.id, loan_id))


@bp.post("/libraries/<code>/union/<id:loan_id>/arrived")
@login_required
def union_arrived(code, loan_id):
    """The item returned elsewhere is back at its own library."""
    library = _staff_library(code)
    require_form(StepForm())
    return _union_step(library, loan_id, lambda: union.confirm_arrival(current_user, loan_id))


@bp.get("/loans/verify")
@login_required
def verify_form():
    """Staff of a member library type in the code of a card shown at their desk."""
    cards.require_desk_staff(current_user)
    code = request.args.get("code", "")
    if code.strip():
        value = cards.normalise_code(code)
        if value:
            return redirect(url_for("loans.verify_card", code=value), code=303)
        return render_template("loans/verify.html", check=None, code=code[:40],
                               error=_("A card code has 16 letters and digits.")), 400
    return render_template("loans/verify.html", check=None, code="", error=None)


@bp.get("/loans/verify/<code>")
@login_required
def verify_card(code):
    """What the card's QR code opens: the reader's name, library, validity and open loans."""
    check = cards.verify_card(current_user, code)
    desks = [lib for lib in staff_libraries(current_user)
             if is_member(lib) and lib.id != check.library_id]
    return render_template("loans/verify.html", check=check, code=cards.normalise_code(code),
                           error=None, desks=desks)


# --- the record page ------------------------------------------------------------------------

def record_panel(record):
    """What the record page offers the user for each copy: a hold, an ILL request, or why not."""
    user = current_user
    if not user.is_authenticated:
        return {"anonymous": True, "rows": []}
    today = clock.local_today()
    holding_ids = [h.id for h in record.holdings]
    mine = {}
    taken = set()
    if holding_ids:
        for req in db.session.execute(select(IllRequest).where(
                IllRequest.holding_id.in_(holding_ids),
                IllRequest.status.in_(ILL_OPEN))).scalars():
            if req.reader_id == user.id:
                mine[req.holding_id] = req
            else:
                taken.add(req.holding_id)
    hold = db.session.execute(select(Hold).where(
        Hold.reader_id == user.id, Hold.record_id == record.id,
        Hold.status.in_(holds.LIVE))).scalars().first()
    rows = []
    for holding in record.holdings:
        at_home = holding.library_id == user.home_library_id
        rows.append({
            "holding": holding,
            "kind": "hold" if at_home else "ill",
            "mine": (hold if hold is not None and hold.holding_id == holding.id else None)
            if at_home else mine.get(holding.id),
            "held_elsewhere": at_home and hold is not None and hold.holding_id != holding.id,
            "taken": holding.id in taken,
            "lender_gone": not is_member(holding.library, today),
        })
    return {"anonymous": False, "problem": borrowing_problem(user), "rows": one_per_library(rows)}


def one_per_library(rows):
    """One row per library, with ``copies``: the reader asks a library, not a copy.

    The row kept is the copy the reader has a request or hold on, else one on the shelf that
    nobody asked for, else the first.
    """
    def rank(row):
        return (row["mine"] is None, row["taken"], row["holding"].status != "available")

    kept = {}
    for row in rows:
        library_id = row["holding"].library_id
        copies = kept[library_id]["copies"] + 1 if library_id in kept else 1
        if library_id not in kept or rank(row) < rank(kept[library_id]):
            kept[library_id] = row
        kept[library_id]["copies"] = copies
    return list(kept.values())


@bp.app_context_processor
def loans_helpers():
    return {"loans_record_panel": record_panel,
            "ill_status_label": ill.ill_status_label,
            "ill_action_label": ill.action_label,
            "ill_available_actions": ill.available_actions,
            "hold_status_label": holds.hold_status_label,
            "card_status_label": cards.card_status_label,
            "card_state": cards.card_state,
            "format_card_code": cards.format_code,
            "union_status_label": union.union_status_label,
            "loan_is_overdue": is_overdue}
