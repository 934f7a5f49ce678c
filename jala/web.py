"""Request plumbing shared by every blueprint: login, commits, errors, headers, refusals.

``attempt`` and ``require_form`` are how views run a service step and turn a refusal into a
message; ``<id:…>`` is how URLs carry row ids.
"""
import logging
import re
import time
from urllib.parse import urlsplit

from flask import (
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from jala.accounts.sessions import load_session_user
from jala.errors import RuleViolation
from jala.extensions import db, login_manager
from jala.files import discard_written_since, forget_written, written_mark
from jala.logs import configure_logging, request_id_from, reset_request_id, set_request_id
from jala.membership import library_name, library_or_centre_name, library_short_name, member_count
from jala.metrics import observe_request
from jala.replicas import init_app as init_replicas
from jala.replicas import remember_commit

log = logging.getLogger(__name__)
request_log = logging.getLogger("jala.request")

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
EXEMPT_FROM_HTTPS = ("/healthz",)
# Refusals with these statuses are never shown inside a form: the page is an error page.
NOT_FOR_A_FORM = (403, 404)
EVERY_REFUSAL = range(400, 600)


class IdConverter(IntegerConverter):
    """``<id:name>``: a row id in a URL, a positive integer PostgreSQL's ``integer`` holds."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=2**31 - 1)


def is_htmx():
    """Whether the request came from HTMX (and wants a partial)."""
    # a history restore (back button with an empty cache) needs the whole page
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def attempt(step, *, form=None, reraise=NOT_FOR_A_FORM):
    """Run a service step in a savepoint: ``(result, None)``, or ``(None, refusal)``.

    A refusal (``RuleViolation``) keeps nothing of the step: its rows and the files it wrote
    are discarded. A refusal whose status is in ``reraise`` propagates (an error page; pass
    ``EVERY_REFUSAL`` to show them all that way); any other is returned, and with ``form``
    its message is also added to the form's errors.
    """
    mark = written_mark()
    savepoint = db.session.begin_nested()
    try:
        result = step()
    except RuleViolation as refusal:
        savepoint.rollback()
        discard_written_since(mark)
        if refusal.status in reraise:
            raise
        if form is not None:
            form.form_errors.append(refusal.message)
        return None, refusal
    savepoint.commit()
    return result, None


def refusal_message(check):
    """Why ``check()`` refuses (its message), or None: for a page that says why it is closed."""
    try:
        check()
    except RuleViolation as refusal:
        return refusal.message
    return None


def require_form(form):
    """The form if it validates; else a refusal that names every field's error."""
    if not form.validate_on_submit():
        messages = [m for errors in form.errors.values() for m in errors]
        raise RuleViolation(" ".join(str(m) for m in messages) or _("Check the form."))
    return form


def redirect_to_login():
    """Send the user to the login page; HTMX gets ``HX-Redirect`` instead of an error."""
    target = url_for("accounts.login", next=request.full_path if request.method == "GET" else None)
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def render_error(status, message):
    """Render an error page (an HTMX fragment, or JSON for the API) in the user's language."""
    if request.path.startswith("/api/"):
        return jsonify({"error": str(message), "status": status}), status
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    return render_template(template, status=status, message=message), status


ERROR_TEXT = {
    400: lambda: _("The request was not understood."),
    403: lambda: _("You are not allowed to see this page."),
    404: lambda: _("This page does not exist."),
    405: lambda: _("This action is not possible here."),
    410: lambda: _("This link is no longer valid."),
    413: lambda: _("The upload is too large."),
    429: lambda: _("Too many attempts. Wait a minute and try again."),
    500: lambda: _("Something went wrong on our side. Please try again later."),
}


def init_app(app):
    """Wire login loading, commit-at-the-edge, error pages and security headers."""
    app.url_map.converters["id"] = IdConverter
    if not app.testing:  # the tests keep pytest's own log capture
        configure_logging(app.config["LOG_FORMAT"])
    _trust_proxies(app)
    init_replicas(app)
    _trace_requests(app)
    _load_users()
    _guard_requests(app)
    _commit_at_the_edge(app)
    _render_errors(app)
    _add_template_helpers(app)


def _trust_proxies(app):
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _trace_requests(app):
    """A request id for every request, a log line and metrics for every response."""
    def start():
        g.request_started = time.perf_counter()
        g.request_id = request_id_from(request.headers.get("X-Request-ID"))
        g.request_id_token = set_request_id(g.request_id)

    # first of all, so that a request refused early (a 429) is timed and named as well
    app.before_request_funcs.setdefault(None, []).insert(0, start)

    @app.after_request
    def log_and_count(response):
        if "request_id" not in g:
            start()
        seconds = time.perf_counter() - g.request_started
        response.headers["X-Request-ID"] = g.request_id
        endpoint = request.url_rule.endpoint if request.url_rule else None
        observe_request(endpoint, request.method, response.status_code, seconds)
        request_log.info("%s %s %s", request.method, request.path, response.status_code,
                         extra={"method": request.method, "path": request.path,
                                "status": response.status_code,
                                "duration_ms": round(seconds * 1000, 1)})
        return response

    @app.teardown_request
    def forget_request_id(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            reset_request_id(token)


def _load_users():
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = None  # our server-side sessions do this job
    login_manager.user_loader(load_session_user)

    @login_manager.unauthorized_handler
    def unauthorized():
        if current_user.is_authenticated:
            return render_error(403, ERROR_TEXT[403]())
        flash(_("Please log in to continue."), "info")
        return redirect_to_login()


def _guard_requests(app):
    @app.before_request
    def refuse_nul_characters():
        # PostgreSQL cannot store U+0000: refuse it here with a 400, not a 500 later
        values = [request.path, *request.args.values()]
        if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
                "application/x-www-form-urlencoded", "multipart/form-data"):
            values.extend(request.form.values())
        if any("\x00" in value for value in values):
            return render_error(400, _("The request contains characters we cannot accept."))
        return None

    @app.before_request
    def force_https():
        if (app.config["FORCE_HTTPS"] and not request.is_secure
                and not request.path.startswith(EXEMPT_FROM_HTTPS)):
            # the portal's own address, never the Host header a client may forge
            base = urlsplit(app.config["PUBLIC_URL"])
            query = request.query_string.decode("latin-1")
            target = f"https://{base.netloc}{base.path.rstrip('/')}{request.path}"
            return redirect(target + (f"?{query}" if query else ""), code=301)
        return None


def _commit_at_the_edge(app):
    @app.after_request
    def commit_and_secure(response):
        if response.status_code < 400:
            db.session.commit()
            forget_written()
            remember_commit(db.session)  # read-your-writes when replicas serve the reads
        else:
            db.session.rollback()
            discard_written_since(0)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            # a page and its HTMX fragment share one URL: caches must keep them apart
            response.vary.add("HX-Request")
        if response.status_code == 429:
            headers.setdefault("Retry-After", "60")  # every refusal says when to come back
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if current_user and getattr(current_user, "is_authenticated", False):
            headers.setdefault("Cache-Control", "no-store")
        return response

    @app.teardown_request
    def rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()


# SQLSTATE classes of a server that is gone: connection exceptions (postgres_fdw reports a
# shard it cannot reach as one), and a server shutting down, crashed or still starting
UNREACHABLE_STATES = ("08", "57P")


def server_unreachable(exc):
    """Whether a SQLAlchemy ``OperationalError`` says a server does not answer (not a bug)."""
    state = getattr(exc.orig, "sqlstate", None)
    return exc.connection_invalidated or state is None or state.startswith(UNREACHABLE_STATES)


def _render_errors(app):
    @app.errorhandler(RuleViolation)
    def rule_violation(exc):
        return render_error(exc.status, exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        if is_htmx() and "csrf_token" not in session:
            # the session (and its token) expired while the page stayed open
            flash(_("Your session has expired. Please log in again."), "info")
            return redirect_to_login()
        return render_error(400, _("The form was out of date or forged. Reload the page and "
                                   "try again."))

    @app.errorhandler(DataError)
    def data_error(exc):
        db.session.rollback()
        return render_error(400, ERROR_TEXT[400]())

    @app.errorhandler(OperationalError)
    def database_unavailable(exc):
        # a server the request reads is not answering (a shard of the catalogue, or the
        # database itself): nothing is broken, the reader may try again shortly. A statement
        # timeout, a deadlock or a lock timeout is an OperationalError too, and a bug to see.
        if not server_unreachable(exc):
            return unexpected(exc)
        reason = str(exc.orig or exc).strip().splitlines()[0]
        log.warning("database unavailable: %s", reason)
        try:
            db.session.rollback()
        except OperationalError:
            pass
        # the log names the shard; the reader is told in words
        shard = re.search(r'server "shard_\w+"', reason)
        return render_error(503, _("Part of the catalogue is not answering. Please try again "
                                   "in a moment.") if shard else
                            _("The database is not answering. Please try again in a moment."))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        status = exc.code or 500
        text = ERROR_TEXT.get(status)
        return render_error(status, text() if text else exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unhandled error")
        db.session.rollback()
        return render_error(500, ERROR_TEXT[500]())


def _add_template_helpers(app):
    @app.template_filter("web_url")
    def web_url(value):
        """``value`` if it is an http(s) URL, else None (imported data may hold anything)."""
        value = (value or "").strip()
        return value if urlsplit(value).scheme in ("http", "https") else None

    # a member library as readers name it, in the UI language (templates and emails alike)
    app.add_template_global(library_name)
    app.add_template_global(library_or_centre_name)
    app.add_template_global(library_short_name)

    @app.template_filter("dict_without")
    def dict_without(mapping, *keys):
        return {k: v for k, v in mapping.items() if k not in keys}

    @app.context_processor
    def template_helpers():
        # member_count is called only by the pages whose footer shows it
        return {"current_locale": str(get_locale() or "zh_Hans"), "is_htmx": is_htmx(),
                "member_count": member_count}
