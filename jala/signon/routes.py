"""Thin views of campus sign-on: choose the library, go to its provider, come back signed in."""
import json
import secrets
from importlib import import_module
from urllib.parse import urlsplit

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from jala import clock
from jala.accounts.passwords import password_matches
from jala.accounts.routes import ask_second_factor, finish_login
from jala.errors import RuleViolation
from jala.extensions import csrf, db, limiter
from jala.jobs import redis_connection, redis_key
from jala.membership import find_library, get_library, library_name
from jala.permissions import can_manage_library
from jala.signon import bp
from jala.signon import providers as registry
from jala.signon import services as signon
from jala.signon.forms import ProviderForm
from jala.signon.identity import Identity, not_this_browser
from jala.urls import external_url, safe_next
from jala.web import attempt

FLOW_SECONDS = 600          # a reader has ten minutes at the provider
FINISH_SECONDS = 120        # between the SAML post and the page that signs in
LAST_CHOICE_COOKIE = "jala_campus"


def _protocol(kind):
    """The module that speaks ``kind`` (oidc, cas, saml), imported on first use.

    pysaml2 and Authlib would otherwise cost every web and CLI process 0.4 s at start.
    """
    return import_module(f"jala.signon.{kind}")


def _refused(exc, library=None):
    """A refused sign-in: its own page, the flow forgotten, nobody signed in."""
    db.session.rollback()
    session.pop("signon_flow", None)
    return render_template("signon/refused.html", message=exc.message, library=library,
                           status=exc.status), exc.status


@bp.get("/login/campus")
def choose():
    """The member libraries that offer campus sign-on, the last one chosen first."""
    choices, last = chooser_choices()
    return render_template("signon/choose.html", choices=choices, last=last,
                           next=request.args.get("next"))


@bp.get("/login/sso/<code>")
def start(code):
    """Send the browser to the library's provider, remembering the flow in this browser."""
    library = find_library(code)
    if library is None:
        abort(404)
    try:
        provider = registry.provider_for_sign_in(code)
        return _go_to_provider(provider, next_url=request.args.get("next"), linking=False)
    except RuleViolation as exc:
        return _refused(exc, library)


def _go_to_provider(provider, next_url, linking):
    protocol = _protocol(provider.kind)
    if provider.kind == "saml":
        url, flow = protocol.begin(provider, external_url("signon.assertion_consumer"))
        # the answer comes back by a cross-site POST that carries no session cookie
        redis_connection().set(redis_key("signon", "relay", flow["relay_state"]),
                               json.dumps({"code": provider.library.code, "flow": flow}),
                               ex=FLOW_SECONDS)
    else:
        url, flow = protocol.begin(provider, _callback_url(provider))
    session["signon_flow"] = {"code": provider.library.code, "kind": provider.kind,
                              "flow": flow, "next": safe_next(next_url),
                              "link": current_user.id if linking else None,
                              "at": clock.now().timestamp()}
    response = redirect(url, code=303)
    response.set_cookie(LAST_CHOICE_COOKIE, provider.library.code, max_age=365 * 86400,
                        samesite="Lax", httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _callback_url(provider):
    return external_url("signon.callback", code=provider.library.code)


def _current_flow(code):
    """The flow this browser started for ``code``, or raise (another browser's, or too old)."""
    flow = session.get("signon_flow")
    if (not flow or flow["code"] != code.upper()
            or clock.now().timestamp() - flow["at"] > FLOW_SECONDS):
        raise not_this_browser()
    return flow


@bp.get("/login/sso/<code>/callback")
def callback(code):
    """The reader is back from an OIDC or CAS provider."""
    library = find_library(code)
    if library is None:
        abort(404)
    try:
        provider = registry.provider_for_sign_in(code)
        flow = _current_flow(code)
        if provider.kind != flow["kind"] or provider.kind == "saml":
            raise not_this_browser()
        identity = _protocol(provider.kind).complete(provider, request.args, flow["flow"],
                                                     _callback_url(provider))
        return _signed_in(provider, identity, flow)
    except RuleViolation as exc:
        return _refused(exc, library)


@bp.post("/saml/acs")
@csrf.exempt
def assertion_consumer():
    """The IdP's answer, a cross-site POST: checked here, signed in on the next page.

    The browser opens that page with its session cookie, so it can tell whether this browser
    started the sign-in.
    """
    relay_state = request.form.get("RelayState", "")
    stored = (redis_connection().getdel(redis_key("signon", "relay", relay_state))
              if relay_state else None)
    code = None
    try:
        if stored is None:
            raise RuleViolation(_("This sign-in is unknown or was already used. Please start "
                                  "again."))
        stored = json.loads(stored)
        code = stored["code"]
        provider = registry.provider_for_sign_in(code)
        if provider.kind != "saml":
            raise RuleViolation(_("This sign-in is unknown or was already used. Please start "
                                  "again."))
        identity = _protocol("saml").read_response(provider, request.form, stored["flow"])
    except RuleViolation as exc:
        db.session.rollback()
        outcome = {"code": code, "refused": exc.message, "status": exc.status}
    else:
        outcome = {"code": code, "relay_state": relay_state, "identity": identity.__dict__}
    ticket = secrets.token_urlsafe(24)
    redis_connection().set(redis_key("signon", "done", ticket), json.dumps(outcome),
                           ex=FINISH_SECONDS)
    return redirect(url_for("signon.finish", ticket=ticket), code=303)


@bp.get("/login/sso/finish/<ticket>")
def finish(ticket):
    """Sign in the SAML identity the ACS accepted, if this browser started that sign-in."""
    stored = redis_connection().getdel(redis_key("signon", "done", ticket))
    if stored is None:
        return _refused(RuleViolation(_("This sign-in is unknown or was already used. Please "
                                        "start again.")))
    stored = json.loads(stored)
    library = find_library(stored["code"]) if stored["code"] else None
    if "refused" in stored:
        return _refused(RuleViolation(stored["refused"], status=stored["status"]), library)
    try:
        flow = _current_flow(stored["code"])
        if flow["flow"].get("relay_state") != stored["relay_state"]:
            raise not_this_browser()
        provider = registry.provider_for_sign_in(stored["code"])
        identity = Identity(**{**stored["identity"],
                               "affiliations": tuple(stored["identity"]["affiliations"])})
        return _signed_in(provider, identity, flow)
    except RuleViolation as exc:
        return _refused(exc, library)


def _signed_in(provider, identity, flow):
    """The provider vouched for ``identity``: link it, or sign its account in."""
    session.pop("signon_flow", None)
    if flow.get("link"):
        if not current_user.is_authenticated or current_user.id != flow["link"]:
            raise RuleViolation(_("Log in with your password again, then link your campus "
                                  "account."), status=403)
        signon.link(current_user, provider, identity)
        flash(_("Your campus account of %(library)s is linked: next time you can sign in "
                "with it.", library=library_name(provider.library)), "success")
        return redirect(url_for("accounts.account"), code=303)
    user, created = signon.sign_in(provider, identity)
    session["signon_logout"] = {"code": provider.library.code, "kind": provider.kind,
                                "session_index": identity.session_index}
    next_url = flow.get("next")
    if signon.needs_portal_second_factor(user, provider, identity):
        response = ask_second_factor(user, next_url, method="signon")
    else:
        response = finish_login(user, next_url, method="signon")
    if created:  # said after the login, which starts a fresh session
        _tell_new_account(user, provider.library)
    return response


def _tell_new_account(user, library):
    if user.home_library_id is None:
        flash(_("%(library)s's sign-on service says you are not a current student or member of "
                "staff, so your account is a public user's: you can search and ask, but not "
                "borrow through the alliance.", library=library_name(library)), "info")
    else:
        flash(_("Your reader account of %(library)s is ready: your interlibrary card works "
                "now.", library=library_name(library)), "success")


@bp.get("/logout/campus")
def signed_out():
    """After logging out of the portal: the offer to end the campus session too."""
    campus = session.pop("signon_logout", None)
    if not campus:
        return redirect(url_for("core.home"))
    library = find_library(campus["code"])
    provider = registry.provider_of(library) if library else None
    logout_url = None
    if provider is not None and provider.kind == campus["kind"]:
        try:
            logout_url = _provider_logout_url(provider, campus.get("session_index"))
        except RuleViolation:
            logout_url = None  # the provider is unreachable: the portal session is over anyway
    if logout_url is None or urlsplit(logout_url).scheme not in ("https", "http"):
        return redirect(url_for("core.home"))
    return render_template("signon/signed_out.html", library=library, logout_url=logout_url)


def _provider_logout_url(provider, session_index):
    return _protocol(provider.kind).logout_url(provider, session_index, external_url("core.home"))


@bp.get("/saml/logout")
def saml_logged_out():
    """The IdP's answer to single logout: back to the portal page the logout started from."""
    return redirect(_protocol("saml").finish_logout(request.args), code=303)


@bp.get("/saml/metadata")
def sp_metadata():
    """The portal's SAML service provider metadata, for CARSI and the libraries' IdPs."""
    return Response(_protocol("saml").sp_metadata(), mimetype="application/samlmetadata+xml")


# --- linking a password account ------------------------------------------------------------

@bp.post("/account/campus/link")
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"],
               key_func=lambda: f"campus-link:{current_user.id}")
def start_link():
    """A reader proves the campus account is theirs too: the password now, then the provider."""
    if not current_user.has_password or not password_matches(
            current_user.password_hash, request.form.get("password", "")):
        db.session.rollback()
        flash(_("Give your portal password to link a campus account."), "error")
        return redirect(url_for("accounts.account"), code=303)
    code = request.form.get("library", "")
    try:
        provider = registry.provider_for_sign_in(code)
        return _go_to_provider(provider, next_url=None, linking=True)
    except RuleViolation as exc:
        return _refused(exc, find_library(code))


@bp.post("/account/campus/<id:identity_id>/unlink")
@login_required
def unlink(identity_id):
    """Remove a linked campus account from one's own account."""
    signon.unlink(current_user, identity_id)
    flash(_("The campus account is no longer linked."), "success")
    return redirect(url_for("accounts.account"), code=303)


def linkable_libraries(user):
    """Libraries whose provider ``user`` could link: their own, or any for a public user."""
    linked = {row.library_id for row in signon.identities_of(user)}
    return [(library, provider) for library, provider in registry.providers_for_chooser()
            if library.id not in linked
            and user.home_library_id in (None, library.id)]


def chooser_choices():
    """``(library, provider)`` of the libraries offering campus sign-on, the last used first."""
    choices = registry.providers_for_chooser()
    last = request.cookies.get(LAST_CHOICE_COOKIE)
    choices.sort(key=lambda pair: pair[0].code != last)
    return choices, last


@bp.app_context_processor
def _campus_helpers():
    def campus_accounts(user):
        return signon.identities_of(user), linkable_libraries(user)

    return {"campus_accounts": campus_accounts, "campus_sign_on_choices": chooser_choices}


# --- the library admin's page --------------------------------------------------------------

@bp.route("/libraries/<code>/campus-sign-on", methods=["GET", "POST"])
@login_required
def library_provider(code):
    """A library admin sets up (or removes) the library's campus sign-on."""
    library = get_library(code)
    if not can_manage_library(current_user, library.id):
        abort(403)
    provider = registry.provider_of(library)
    form = ProviderForm(obj=provider)
    if form.validate_on_submit():
        _saved, refusal = attempt(lambda: _save_provider(library, form), form=form)
        if refusal is None:
            flash(_("Campus sign-on of %(library)s is saved: readers can use it now.",
                    library=library_name(library)), "success")
            return redirect(url_for("signon.library_provider", code=library.code), code=303)
    return render_template(
        "signon/library_provider.html", library=library, provider=provider, form=form,
        callback_url=_callback_url_for(library),
        metadata_url=external_url("signon.sp_metadata"),
        acs_url=external_url("signon.assertion_consumer"),
    ), 400 if form.errors else 200


def _callback_url_for(library):
    return external_url("signon.callback", code=library.code)


def _save_provider(library, form):
    kind = form.kind.data
    metadata = None
    if kind == "saml":
        metadata = (form.saml_metadata.data or "").strip() or _protocol("saml").fetch_metadata(
            registry.check_provider_url(form.url.data))
    return registry.set_provider(
        current_user, library.code, kind, url=form.url.data or None,
        client_id=form.client_id.data, client_secret=form.client_secret.data or None,
        saml_metadata=metadata, trust_provider_mfa=form.trust_provider_mfa.data)


@bp.post("/libraries/<code>/campus-sign-on/remove")
@login_required
def remove_library_provider(code):
    """Stop the library's campus sign-on."""
    library = get_library(code)
    if not can_manage_library(current_user, library.id):
        abort(403)
    registry.remove_provider(current_user, library.code)
    flash(_("Campus sign-on of %(library)s is removed.", library=library_name(library)), "info")
    return redirect(url_for("signon.library_provider", code=library.code), code=303)
