"""Thin views for login, registration, passwords, the second factor and staff work."""
import io
import secrets

import segno
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from jala import clock
from jala.accounts import bp, roles, throttle
from jala.accounts import services as accounts
from jala.accounts.forms import (
    ChangePasswordForm,
    CodeForm,
    ForgotForm,
    GrantForm,
    LoginForm,
    RegisterForm,
    ResetForm,
)
from jala.accounts.models import ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN, STAFF_ROLES, User
from jala.accounts.sessions import (
    check_totp,
    disable_totp,
    enable_totp,
    end_session,
    new_totp_secret,
    start_session,
    totp_required,
    totp_uri,
)
from jala.audit import record_audit
from jala.errors import RuleViolation
from jala.extensions import db, limiter
from jala.membership import find_library, library_name, member_libraries
from jala.urls import safe_next
from jala.web import attempt, is_htmx

PENDING_LOGIN_SECONDS = 300


def _login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


def _login_ip_limit():
    return current_app.config["RATELIMIT_LOGIN_IP"]


def _login_account_key():
    # the account *and* the address: a guesser elsewhere never locks the owner out
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"login-account:{email}:{request.remote_addr}"


def _pending_account_key():
    pending = session.get("pending_login") or {}
    return f"login-code:{pending.get('uid', request.remote_addr)}"


def finish_login(user, next_url, method="password"):
    """Sign ``user`` in (every factor passed): a fresh session that knows how they came in."""
    lang = session.get("lang")
    signon_logout = session.get("signon_logout") if method == "signon" else None
    session.clear()  # a fresh session: nothing from before the login survives
    if lang or user.locale:
        session["lang"] = lang or user.locale
    session["login_method"] = method
    if signon_logout:
        session["signon_logout"] = signon_logout
    start_session(user, request.remote_addr, request.headers.get("User-Agent"))
    login_user(user)
    session.permanent = True
    flash(_("Welcome, %(name)s.", name=user.display_name), "success")
    return redirect(safe_next(next_url), code=303)


def ask_second_factor(user, next_url, method="password"):
    """Hold the login until the code (or a new authenticator) is given."""
    session.pop("totp_enrol_secret", None)
    session["pending_login"] = {"uid": user.id, "at": clock.now().timestamp(),
                                "next": next_url, "id": secrets.token_urlsafe(16),
                                "method": method}
    if user.totp_enabled_at is None:
        return redirect(url_for("accounts.enrol_second_factor"), code=303)
    return redirect(url_for("accounts.second_factor"), code=303)


def _pending_user():
    pending = session.get("pending_login")
    if (not pending or "id" not in pending
            or clock.now().timestamp() - pending["at"] > PENDING_LOGIN_SECONDS
            or throttle.codes_used_up(pending["id"])):
        session.pop("pending_login", None)
        return None, None, None
    return (db.session.get(User, pending["uid"]), pending.get("next"),
            pending.get("method", "password"))


def _count_code_failure():
    """Too many wrong codes end the pending login: the password must be given again.

    The count is kept on the server under the pending login's id, so a cookie sent back from
    before the wrong codes does not start it again.
    """
    pending = session.get("pending_login")
    if not pending or not throttle.code_failed(pending["id"]):
        return False
    session.pop("pending_login", None)
    session.pop("totp_enrol_secret", None)
    return True


def _password_wait_page(form, seconds):
    form.password.errors.append(ngettext(
        "Too many wrong passwords. Try again in %(num)d second.",
        "Too many wrong passwords. Try again in %(num)d seconds.", seconds))
    return (render_template("accounts/login.html", form=form), 429,
            {"Retry-After": str(seconds)})


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_ip_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_account_key)
def login():
    """Email and password; staff (and readers who opted in) go on to the second factor."""
    form = LoginForm(next=request.args.get("next"))
    if form.validate_on_submit():
        address = request.remote_addr
        wait = throttle.password_wait(form.email.data, address)
        if wait:
            return _password_wait_page(form, wait)
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except RuleViolation as exc:
            db.session.commit()  # keep the audit entry of the failed attempt
            if exc.status == 401:
                throttle.password_failed(form.email.data, address)
            form.password.errors.append(exc.message)
            return render_template("accounts/login.html", form=form), exc.status
        throttle.password_succeeded(form.email.data, address)
        if totp_required(user):
            return ask_second_factor(user, form.next.data)
        return finish_login(user, form.next.data)
    status = 400 if form.errors else 200
    return render_template("accounts/login.html", form=form), status


def _code_failed(form, exc, template, **context):
    db.session.commit()  # keep the audit entry of the failed attempt
    if _count_code_failure():
        flash(_("Too many wrong codes. Please log in again."), "error")
        return redirect(url_for("accounts.login"), code=303)
    form.code.errors.append(exc.message)
    return render_template(template, form=form, **context), exc.status


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_ip_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_account_key)
def second_factor():
    """The six-digit code of a user who passed the password step."""
    user, next_url, method = _pending_user()
    if user is None:
        flash(_("Please log in again."), "info")
        return redirect(url_for("accounts.login"))
    if user.totp_enabled_at is None:
        return redirect(url_for("accounts.enrol_second_factor"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            check_totp(user, form.code.data)
        except RuleViolation as exc:
            return _code_failed(form, exc, "accounts/second_factor.html")
        return finish_login(user, next_url, method)
    return render_template("accounts/second_factor.html", form=form)


def _qr_svg(uri):
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False,
                                     svgns=True, title="TOTP")
    return Markup(buffer.getvalue().decode())


def _enrolment(user, done):
    # the new secret lives in the session until a code proves the app has it
    secret = session.get("totp_enrol_secret")
    if not secret:
        secret = session["totp_enrol_secret"] = new_totp_secret()
    form = CodeForm()
    context = {"qr": _qr_svg(totp_uri(user, secret)), "secret": secret}
    if form.validate_on_submit():
        try:
            enable_totp(user, secret, form.code.data)
        except RuleViolation as exc:
            return _code_failed(form, exc, "accounts/enrol.html", **context)
        session.pop("totp_enrol_secret", None)
        return done()
    return (render_template("accounts/enrol.html", form=form, **context),
            400 if form.errors else 200, {"Cache-Control": "no-store"})


@bp.route("/login/enrol", methods=["GET", "POST"])
@limiter.limit(_login_ip_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_account_key)
def enrol_second_factor():
    """Staff without an authenticator set one up before their first login completes."""
    user, next_url, method = _pending_user()
    if user is None:
        flash(_("Please log in again."), "info")
        return redirect(url_for("accounts.login"))
    if user.totp_enabled_at is not None:
        return redirect(url_for("accounts.second_factor"))  # never replace a working factor
    return _enrolment(user, lambda: finish_login(user, next_url, method))


@bp.route("/account/second-factor", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"], key_func=lambda: f"code:{current_user.id}")
def account_second_factor():
    """A logged-in reader turns on the optional second factor."""
    if current_user.totp_enabled_at is not None:
        return redirect(url_for("accounts.account"))

    def done():
        flash(_("The second factor is on."), "success")
        return redirect(url_for("accounts.account"), code=303)

    return _enrolment(current_user, done)


@bp.post("/account/second-factor/off")
@login_required
@limiter.limit(_login_limit, key_func=lambda: f"code:{current_user.id}")
def turn_off_second_factor():
    """A reader turns the second factor off (with a current code)."""
    form = CodeForm()
    if not form.validate_on_submit():
        flash(_("Enter the current code to turn the second factor off."), "error")
        return redirect(url_for("accounts.account"), code=303)
    try:
        disable_totp(current_user, form.code.data)
    except RuleViolation as exc:
        db.session.commit()  # keep the audit entry of the failed attempt
        flash(exc.message, "error")
        return redirect(url_for("accounts.account"), code=303)
    flash(_("The second factor is off."), "success")
    return redirect(url_for("accounts.account"), code=303)


@bp.post("/logout")
def logout():
    """End the session on the server and in the browser."""
    if current_user.is_authenticated:
        end_session(current_user.get_id())
        record_audit(current_user, "user.logout", "user", current_user.id)
    logout_user()
    lang = session.get("lang")
    campus = session.get("signon_logout")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    if campus:
        # the campus provider's own session may live on: offer to end it too
        session["signon_logout"] = campus
        return redirect(url_for("signon.signed_out"), code=303)
    return redirect(url_for("core.home"), code=303)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def register():
    """Create an account: a reader of a member library, or a public user."""
    form = RegisterForm()
    form.library.choices = [SelectChoice("", _("Choose your library"))] + [
        SelectChoice(lib.code, library_name(lib)) for lib in member_libraries()
    ]
    if form.validate_on_submit():
        is_reader = form.kind.data == "reader"
        if is_reader and not form.library.data:
            form.library.errors.append(_("Choose your library, or register as a member of the "
                                         "public."))
            return render_template("accounts/register.html", form=form), 400
        # an address or card already registered answers alike: its owner learns by email
        _user, refusal = attempt(lambda: accounts.register_user(
            email=form.email.data,
            password=form.password.data,
            display_name=form.display_name.data,
            library_code=form.library.data if is_reader else None,
            card_number=form.card_number.data if is_reader else None,
        ), form=form, reraise=())
        if refusal is not None:
            return render_template("accounts/register.html", form=form), 400
        # what happens next is told once, on the next page (the session, not the URL, carries it)
        session["registered"] = {"email": accounts.normalise_email(form.email.data),
                                 "library": form.library.data if is_reader else None}
        return redirect(url_for("accounts.registered"), code=303)
    status = 400 if form.errors else 200
    return render_template("accounts/register.html", form=form), status


@bp.get("/register/done")
def registered():
    """What happens after registering: the confirmation email, then the card check."""
    done = session.get("registered")
    if not done:
        return redirect(url_for("accounts.register"))
    library = find_library(done.get("library"))
    return render_template("accounts/registered.html", email=done["email"], library=library)


@bp.get("/confirm/<token>")
def confirm_email(token):
    """Confirm an email address from the link in the welcome email."""
    accounts.confirm_email(token)
    flash(_("Thank you: your email address is confirmed."), "success")
    return redirect(url_for("accounts.account" if current_user.is_authenticated
                            else "accounts.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    """Ask for a password reset link (the answer never says whether the address exists)."""
    form = ForgotForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        flash(_("If an account uses this address, a reset link is on its way."), "info")
        return redirect(url_for("accounts.login"), code=303)
    return render_template("accounts/forgot.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset_password(token):
    """Choose a new password through an emailed single-use link."""
    form = ResetForm()
    if form.validate_on_submit():
        # a link not valid (404) or no longer (410) is an error page; a weak password is not
        _user, refusal = attempt(lambda: accounts.reset_password(token, form.password.data),
                                 reraise=(404, 410))
        if refusal is not None:
            form.password.errors.append(refusal.message)
            return render_template("accounts/reset.html", form=form), 400
        flash(_("Your password is changed. Please log in."), "success")
        return redirect(url_for("accounts.login"), code=303)
    return render_template("accounts/reset.html", form=form), 400 if form.errors else 200


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """The user's own page: status, password, second factor."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        _none, refusal = attempt(lambda: accounts.change_password(
            current_user, form.current_password.data, form.password.data), reraise=())
        if refusal is None:
            flash(_("Your password is changed."), "success")
            return redirect(url_for("accounts.account"), code=303)
        form.password.errors.append(refusal.message)
    return render_template("accounts/account.html", form=form, code_form=CodeForm()), (
        400 if form.errors else 200
    )


# --- staff -------------------------------------------------------------------------------

@bp.get("/staff/readers")
@login_required
def verification_queue():
    """Readers of my libraries waiting for their card to be verified."""
    readers = accounts.readers_awaiting_verification(current_user)
    return render_template("accounts/verification_queue.html", readers=readers)


@bp.post("/staff/readers/<id:reader_id>/verify")
@login_required
def verify_reader(reader_id):
    """Confirm a reader's card number (HTMX swaps in the updated row)."""
    reader = accounts.verify_reader(reader_id, current_user)
    if is_htmx():
        return render_template("accounts/_reader_row.html", reader=reader)
    flash(_("%(name)s is verified.", name=reader.display_name), "success")
    return redirect(url_for("accounts.verification_queue"), code=303)


def _grantable_roles(library):
    roles = [ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN]
    if current_user.is_portal_admin:
        roles = list(STAFF_ROLES)
    return roles


@bp.get("/libraries/<code>/people")
@login_required
def library_people(code):
    """A library's accounts and their roles, for that library's admins."""
    library, users = roles.library_people(current_user, code)
    return render_template("accounts/library_people.html", library=library, users=users,
                           roles=_grantable_roles(library), form=GrantForm())


@bp.post("/libraries/<code>/people/roles")
@login_required
def grant_role(code):
    """Give a role to one of the library's accounts."""
    form = GrantForm()
    form.role.choices = [SelectChoice(r) for r in STAFF_ROLES]
    if not form.validate_on_submit():
        raise RuleViolation(_("Choose a person and a role."))
    roles.grant_role(current_user, form.user_id.data, form.role.data, code)
    flash(_("The role is granted."), "success")
    return redirect(url_for("accounts.library_people", code=code), code=303)


@bp.post("/roles/<id:grant_id>/revoke")
@login_required
def revoke_role(grant_id):
    """End a role grant."""
    grant = roles.revoke_role(current_user, grant_id)
    flash(_("The role is revoked."), "success")
    return redirect(url_for("accounts.library_people", code=grant.library.code), code=303)
