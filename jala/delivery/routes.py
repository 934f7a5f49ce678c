"""Thin views for document delivery: the reader's requests, the library's queue, downloads."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from jala.delivery import (
    bp,
    coverage,
    kbart,
    quotas,
    timers,  # noqa: F401 (its sweep task registers on import)
)
from jala.delivery import services as delivery
from jala.delivery.forms import (
    AcceptForm,
    BulkForm,
    CoverageForm,
    CoverageUploadForm,
    FulfilForm,
    RejectForm,
    RequestForm,
)
from jala.delivery.lifecycle import status_label
from jala.delivery.models import DeliveryRequest
from jala.delivery.routing import find_record
from jala.delivery.stats import COLUMNS, monthly_stats
from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from jala.files import check_link, link_id_of, link_is_usable, link_token
from jala.jobs import OutboxEmail, retry_email
from jala.membership import get_library, library_name, member_libraries
from jala.permissions import require_staff_of, staff_library_ids
from jala.search.normalize import canonical_isbn
from jala.stats import bar_chart, csv_download, staff_filters
from jala.web import EVERY_REFUSAL, attempt, is_htmx, refusal_message, require_form

# --- readers ------------------------------------------------------------------------------------

def _prefill(form):
    """Fill a new request form from a record, an earlier request or a search that found nothing.

    ``?record=<id>``, ``?again=<request id>``, ``?q=<the words searched for>`` (or ``?title=``,
    the older name); an ISBN searched for fills the ISBN.
    """
    values = {}
    record_id = request.args.get("record", "")
    again = request.args.get("again", "")
    query = (request.args.get("q") or request.args.get("title") or "").strip()
    if record_id.isdecimal() and len(record_id) < 19:
        form.record_id.data = record_id
    elif again.isdecimal() and len(again) < 10:
        old = delivery.get_request_for_reader(current_user, int(again))
        values = {k: getattr(old, k) or "" for k in (
            "kind", "title", "authors", "container_title", "volume", "issue", "pages", "isbn",
            "issn", "doi")}
        values["year"] = old.year
        if old.record_id:
            form.record_id.data = str(old.record_id)
    elif query and canonical_isbn(query):
        values = {"kind": "book_part", "isbn": query[:40]}
    elif query:
        values = {"title": query[:1000]}
    for name, value in values.items():
        getattr(form, name).data = value


def _cite_record(form):
    """Fill the citation of a request about a catalogue record from the record, not the form.

    The reader then gives only what the record cannot: the pages of a book, a note.
    """
    record_id = form.record_id.data or ""
    if not (record_id.isdecimal() and len(record_id) < 19):
        return None
    record = find_record(int(record_id), None)
    cited = delivery.citation_from_record(record)
    pages = form.pages.data
    for name, value in cited.items():
        getattr(form, name).data = value
    if cited["kind"] != "article":  # the pages of a book are the reader's to choose
        form.pages.data = pages
    return cited


@bp.route("/delivery/new", methods=["GET", "POST"])
@login_required
def new_request():
    """Ask for a document: pre-filled from a record page, or a citation typed in."""
    form = RequestForm()
    blocked = refusal_message(lambda: quotas.check_can_request(current_user))
    if request.method == "GET":
        _prefill(form)
        cited = _cite_record(form)
    else:
        try:
            cited = _cite_record(form)
        except NotFound as gone:  # since the page was shown: the reader can type the citation
            form.record_id.data, cited = "", None
            form.form_errors.append(gone.message)
    if request.method == "POST" and blocked is None and form.validate_on_submit():
        record_id = form.record_id.data

        def submit():
            return delivery.submit_request(
                current_user, kind=form.kind.data, title=form.title.data,
                record_id=int(record_id) if record_id and record_id.isdecimal()
                and len(record_id) < 19 else None,
                authors=form.authors.data, container_title=form.container_title.data,
                year=form.year.data, volume=form.volume.data, issue=form.issue.data,
                pages=form.pages.data, isbn=form.isbn.data, issn=form.issn.data,
                doi=form.doi.data, note=form.note.data)
        # every refusal, a missing record's too, is shown on the form
        req, refusal = attempt(submit, form=form, reraise=())
        if refusal is None:
            flash(_("Request %(id)d is on its way to %(library)s.", id=req.id,
                    library=library_name(req.library)), "success")
            return redirect(url_for("delivery.request_detail", request_id=req.id), code=303)
    limit, used = quotas.daily_quota(current_user)
    status = 400 if request.method == "POST" else 200
    return render_template("delivery/new.html", form=form, blocked=blocked, limit=limit,
                           used=used, cited=cited), status


@bp.get("/delivery/requests")
@login_required
def my_requests():
    """The reader's requests with where each one stands."""
    return render_template("delivery/my_requests.html",
                           requests=delivery.my_requests(current_user))


@bp.get("/delivery/requests/<id:request_id>")
@login_required
def request_detail(request_id):
    """One request and its timeline (its reader, or staff of a library it went to)."""
    try:
        req = delivery.get_request_for_reader(current_user, request_id)
        staff_view = False
    except NotFound:
        req = delivery.get_request_for_staff(current_user, request_id)
        staff_view = True
    return render_template("delivery/request.html", req=req, staff_view=staff_view,
                           **_staff_forms())


@bp.post("/delivery/requests/<id:request_id>/cancel")
@login_required
def cancel_request(request_id):
    """The reader cancels a request no library has accepted yet."""
    req = delivery.cancel_request(current_user, request_id)
    if is_htmx():
        return render_template("delivery/_my_request.html", req=req)
    flash(_("Request %(id)d is cancelled.", id=req.id), "success")
    return redirect(url_for("delivery.my_requests"), code=303)


@bp.get("/delivery/download/<token>")
def download_page(token):
    """What a delivery email links to: the file, its expiry and the downloads left."""
    try:
        link = check_link(token)
    except RuleViolation as exc:
        link_id = link_id_of(token)
        req = link_id and db.session.execute(
            select(DeliveryRequest).where(DeliveryRequest.link_id == link_id)
        ).scalar_one_or_none()
        return render_template("delivery/download_gone.html", message=exc.message,
                               req=req), exc.status
    req = db.session.execute(
        select(DeliveryRequest).where(DeliveryRequest.link_id == link.id)
    ).scalar_one_or_none()
    if req is None:
        abort(404)
    remaining = link.max_downloads - link.downloads
    return render_template("delivery/download.html", req=req, link=link, token=token,
                           remaining=remaining)


# --- librarians ------------------------------------------------------------------------------

def _staff_forms():
    return {"accept_form": AcceptForm(), "reject_form": RejectForm(),
            "fulfil_form": FulfilForm()}


def _queue_library(code):
    library = get_library(code)
    require_staff_of(current_user, library.id)
    return library


@bp.get("/libraries/<code>/delivery")
@login_required
def library_queue(code):
    """The library's delivery queue; HTMX swaps the list when the filter changes."""
    library = _queue_library(code)
    status = request.args.get("status", "open")
    if status not in ("open", "pending", "accepted", "fulfilled", "unfilled", "refused", "all"):
        status = "open"
    requests = delivery.library_queue(current_user, library, status)
    failed = db.session.execute(
        select(OutboxEmail).where(OutboxEmail.library_id == library.id,
                                  OutboxEmail.status == "failed")
        .order_by(OutboxEmail.id.desc()).limit(50)).scalars().all()
    context = dict(library=library, requests=requests, status=status, failed_emails=failed,
                   bulk_form=BulkForm(), **_staff_forms())
    if is_htmx() and request.headers.get("HX-Target") == "queue-list":
        return render_template("delivery/_queue_list.html", **context)
    return render_template("delivery/queue.html", **context)


def _staff_step(request_id, step):
    """Run a librarian's step; HTMX gets the request's card back, with the error if any.

    Without HTMX a refusal is an error page; with it, only a request not found is.
    """
    req, refusal = attempt(step, reraise=(404,) if is_htmx() else EVERY_REFUSAL)
    if refusal is not None:
        req = delivery.get_request_for_staff(current_user, request_id)
    if is_htmx():
        return render_template("delivery/_queue_item.html", req=req,
                               error=refusal.message if refusal else None, **_staff_forms())
    flash(_("Request %(id)d: %(status)s.", id=req.id, status=status_label(req.status)),
          "success")
    return redirect(url_for("delivery.library_queue", code=req.library.code), code=303)


@bp.post("/delivery/requests/<id:request_id>/accept")
@login_required
def accept_request(request_id):
    """A librarian takes the request on."""
    def step():
        form = require_form(AcceptForm())
        return delivery.accept_request(current_user, request_id, page_count=form.page_count.data)
    return _staff_step(request_id, step)


@bp.post("/delivery/requests/<id:request_id>/reject")
@login_required
def reject_request(request_id):
    """Pass the request to the next library, or decline it for good."""
    def step():
        form = require_form(RejectForm())
        return delivery.reject_request(current_user, request_id, form.reason.data,
                                       final=form.final.data)
    return _staff_step(request_id, step)


@bp.post("/delivery/requests/<id:request_id>/fulfil")
@login_required
def fulfil_request(request_id):
    """Send the document: a PDF upload or a URL."""
    def step():
        form = require_form(FulfilForm())
        upload = form.file.data if form.file.data and form.file.data.filename else None
        return delivery.fulfil_request(current_user, request_id, upload=upload,
                                       url=form.url.data)
    return _staff_step(request_id, step)


@bp.post("/libraries/<code>/delivery/bulk")
@login_required
def bulk_action(code):
    """Accept or pass on the ticked requests; each one that cannot be done is listed."""
    library = _queue_library(code)
    form = require_form(BulkForm())
    ids = [int(v) for v in request.form.getlist("ids") if v.isdecimal() and len(v) < 10]
    done, failed = delivery.bulk_action(current_user, form.action.data, ids,
                                        reason=form.reason.data, final=form.final.data)
    if done:
        flash(_("%(n)d requests done.", n=len(done)), "success")
    for request_id, message in failed:
        flash(message if str(request_id) in message else f"#{request_id}: {message}", "error")
    return redirect(url_for("delivery.library_queue", code=library.code), code=303)


@bp.post("/libraries/<code>/delivery/emails/<id:email_id>/retry")
@login_required
def retry_failed_email(code, email_id):
    """The retry button next to an email that failed for good."""
    library = _queue_library(code)
    row = db.session.get(OutboxEmail, email_id)
    if row is None or row.library_id != library.id:
        raise NotFound(_("No such email."))
    retry_email(email_id, current_user)
    flash(_("The email to %(to)s will be sent again.", to=row.to_addr), "success")
    return redirect(url_for("delivery.library_queue", code=library.code), code=303)


@bp.route("/libraries/<code>/journals", methods=["GET", "POST"])
@login_required
def journals(code):
    """The journals a library holds or subscribes to: add one, or load a CSV file."""
    form, upload = CoverageForm(prefix="one"), CoverageUploadForm(prefix="csv")
    report = None
    status = 200
    by_file = "csv-file" in request.files
    if request.method == "POST" and not (upload if by_file else form).validate_on_submit():
        status = 400
    elif request.method == "POST":
        # a refusal is shown at the field it concerns; 403 and 404 are error pages
        if by_file:
            raw = upload.file.data.read(coverage.CSV_LIMIT + 1)
            load = kbart.import_kbart if kbart.looks_like_kbart(raw) else \
                coverage.import_coverage_csv
            result, refusal = attempt(lambda: load(current_user, code, raw))
        else:
            result, refusal = attempt(lambda: coverage.save_coverage(
                current_user, code, issn=form.issn.data, title=form.title.data,
                year_from=form.year_from.data, year_to=form.year_to.data))
        if refusal is not None:
            (upload.file if by_file else form.issn).errors.append(refusal.message)
            status = 400
        elif by_file:
            saved, errors = result
            report = {"saved": saved, "errors": errors}
        else:
            flash(_("%(issn)s is on the list.", issn=result["issn"]), "success")
            return redirect(url_for("delivery.journals", code=code), code=303)
    library, rows = coverage.coverage_of(current_user, code)
    return render_template("delivery/journals.html", library=library, rows=rows, form=form,
                           upload=upload, report=report,
                           embargo_words=coverage.embargo_words), status


@bp.get("/libraries/<code>/journals.kbart.txt")
@login_required
def journals_kbart(code):
    """The library's journal list as a KBART file."""
    name, text = kbart.export_kbart(current_user, code)
    return Response(text, mimetype="text/tab-separated-values",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/libraries/<code>/journals/<id:coverage_id>/delete")
@login_required
def delete_journal(code, coverage_id):
    """Take a journal off the list."""
    coverage.delete_coverage(current_user, code, coverage_id)
    if is_htmx():
        return ""
    return redirect(url_for("delivery.journals", code=code), code=303)


# --- statistics -----------------------------------------------------------------------------

def _stats_rows():
    library, span = staff_filters(current_user, request.args,
                                  _("Delivery statistics are for library staff."))
    rows = monthly_stats(span.since, span.until, library.id if library else None)
    return rows, library, span


@bp.get("/delivery/stats")
@login_required
def stats():
    """Requests received and fulfilled, fill rate and turnaround, per library and month."""
    rows, library, span = _stats_rows()
    chart = bar_chart(span, ((r["month"], r["received"], r["fulfilled"]) for r in rows))
    return render_template("delivery/stats.html", rows=rows, library=library, months=span.months,
                           chart=chart, libraries=member_libraries(include_former=True))


@bp.get("/delivery/stats.csv")
@login_required
def stats_download():
    """The same statistics as a CSV file."""
    return csv_download(_stats_rows()[0], COLUMNS, "delivery-stats.csv")


@bp.app_context_processor
def delivery_helpers():
    return {"status_label": status_label, "link_token": link_token,
            "link_is_usable": link_is_usable,
            "staff_library_ids": staff_library_ids}
