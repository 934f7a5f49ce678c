"""Thin views for portal admins; every one checks the role on the server."""
from datetime import datetime, time, timedelta
from email.utils import parsedate_to_datetime
from functools import partial
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from jala import clock
from jala.accounts.models import Library, User
from jala.admin import bp
from jala.admin.audit_words import KINDS, describe
from jala.audit import search_audit
from jala.embedded.mailsink import read_mail, stored_mails
from jala.errors import RuleViolation
from jala.extensions import db
from jala.jobs import OutboxEmail, retry_email
from jala.membership import current_chair_library
from jala.permissions import require_portal_admin
from jala.settings import all_settings, change_setting
from jala.web import attempt, is_htmx

AUDIT_PAGE = 50


@bp.before_request
@login_required
def only_portal_admins():
    """Every admin page is for portal admins only."""
    require_portal_admin(current_user)


def _parse_day(raw, field):
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
        if not 1900 <= day.year <= 9000:
            raise ValueError(raw)
    except ValueError as exc:
        raise RuleViolation(_("%(field)s: use the form YYYY-MM-DD.", field=field)) from exc
    return datetime.combine(day, time(0), tzinfo=clock.SHANGHAI)


@bp.get("/")
def dashboard():
    """What needs an admin's attention."""
    failed = db.session.scalar(
        select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status == "failed"))
    users = db.session.scalar(select(func.count()).select_from(User))
    return render_template("admin/dashboard.html", failed_emails=failed, users=users,
                           chair=current_chair_library())


@bp.get("/audit")
def audit():
    """The audit log, filterable; HTMX gets just the rows."""
    args = request.args
    until = _parse_day(args.get("until"), _("Until"))
    entries = search_audit(
        action=args.get("action"),
        actor_email=args.get("actor"),
        library_code=args.get("library"),
        since=_parse_day(args.get("since"), _("Since")),
        until=until + timedelta(days=1) if until else None,
        before_id=min(args.get("before", type=int) or 0, 2**62) or None,
        limit=AUDIT_PAGE,
    )
    more = len(entries) == AUDIT_PAGE
    template = "admin/_audit_rows.html" if is_htmx() else "admin/audit.html"
    return render_template(template, entries=describe(entries), more=more, args=args,
                           kinds=KINDS, libraries=db.session.execute(
                               select(Library).order_by(Library.code)).scalars().all())


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    """Quotas and time limits the portal admin may change."""
    errors = {}
    if request.method == "POST":
        for spec, value in all_settings():
            raw = request.form.get(spec.key)
            if raw is None or str(raw).strip() == str(value):
                continue
            _value, refusal = attempt(partial(change_setting, spec.key, raw, current_user),
                                      reraise=())
            if refusal is not None:
                errors[spec.key] = refusal.message
        if not errors:
            flash(_("Settings saved."), "success")
            return redirect(url_for("admin.settings"), code=303)
        db.session.rollback()  # all the changes or none
    return render_template("admin/settings.html", settings=all_settings(), errors=errors), (
        400 if errors else 200
    )


@bp.get("/outbox")
def outbox():
    """Emails that failed for good, and the latest ones sent."""
    failed = db.session.execute(
        select(OutboxEmail).where(OutboxEmail.status == "failed").order_by(OutboxEmail.id.desc())
        .limit(100)).scalars().all()
    recent = db.session.execute(
        select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(30)).scalars().all()
    return render_template("admin/outbox.html", failed=failed, recent=recent)


@bp.post("/outbox/<id:outbox_id>/retry")
def retry_outbox_email(outbox_id):
    """Send a failed email again."""
    retry_email(outbox_id, current_user)
    flash(_("The email is queued again."), "success")
    return redirect(url_for("admin.outbox"), code=303)


def _mail_dir():
    return Path(current_app.instance_path) / "mail"


@bp.get("/mail")
def mail_sink():
    """Messages caught by the development mail sink."""
    return render_template("admin/mail.html", mails=stored_mails(_mail_dir()), sent_at=sent_at)


@bp.get("/mail/<name>")
def mail_message(name):
    """One message from the development mail sink."""
    path = _mail_dir() / Path(name).name
    if not name.endswith(".eml") or not path.is_file():
        abort(404)
    message = read_mail(path)
    body = message.get_body(preferencelist=("plain", "html"))
    return render_template("admin/mail_message.html", name=name, message=message,
                           body=body.get_content() if body else "", sent_at=sent_at)


def sent_at(message):
    """When a message was sent (its Date header), or None: the pages show it in Beijing time."""
    try:
        return parsedate_to_datetime(message["Date"])
    except (TypeError, ValueError):
        return None
