"""Thin views for the public pages."""
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from jala import clock
from jala.core import bp
from jala.core.forms import LibraryDetailsForm
from jala.core.health import check_postgres, health_report
from jala.core.libraries import DETAILS, update_library_details
from jala.extensions import SUPPORTED_LOCALES, csrf, limiter
from jala.files import open_link, open_view_token, storage_dir
from jala.governance.applications import library_history
from jala.membership import current_chair_library, get_library, is_member, member_libraries
from jala.metrics import CONTENT_TYPE, exposition, may_scrape
from jala.permissions import can_manage_library
from jala.urls import safe_next
from jala.web import attempt


@bp.get("/")
def home():
    """The home page: search box, what the portal offers, the member libraries."""
    return render_template("core/home.html", libraries=member_libraries(),
                           chair=current_chair_library())


@bp.get("/libraries")
def libraries():
    """The public directory of member libraries (current and former)."""
    all_libraries = member_libraries(include_former=True)
    today = clock.local_today()
    return render_template("core/libraries.html",
                           current=[lib for lib in all_libraries if is_member(lib, today)],
                           former=[lib for lib in all_libraries if not is_member(lib, today)],
                           chair=current_chair_library())


@bp.get("/libraries/<code>")
def library(code):
    """One member library."""
    lib = get_library(code)
    if lib.code != code:
        return redirect(url_for("core.library", code=lib.code), code=301)
    can_edit = current_user.is_authenticated and can_manage_library(current_user, lib.id)
    return render_template("core/library.html", library=lib, chair=current_chair_library(),
                           history=library_history(lib), today=clock.local_today(),
                           can_edit=can_edit)


@bp.route("/libraries/<code>/details", methods=["GET", "POST"])
@login_required
def library_details(code):
    """Its library admin edits the address, opening hours and contact readers see."""
    lib = get_library(code)
    if not can_manage_library(current_user, lib.id):
        abort(403)
    form = LibraryDetailsForm(obj=lib)
    if form.validate_on_submit():
        _lib, refusal = attempt(lambda: update_library_details(
            current_user, lib.code, **{name: form[name].data for name in DETAILS}), form=form)
        if refusal is None:
            flash(_("The library's details are saved."), "success")
            return redirect(url_for("core.library", code=lib.code), code=303)
    status = 400 if form.errors else 200
    return render_template("core/library_details.html", library=lib, form=form), status


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    """Readiness: PostgreSQL and Redis both answer within a second."""
    body, status = health_report()
    return jsonify(body), status


@bp.get("/healthz/live")
@limiter.exempt
@csrf.exempt
def healthz_live():
    """Liveness for load balancers: the portal serves while PostgreSQL answers."""
    postgres = check_postgres()
    return jsonify({"status": "ok" if postgres["ok"] else "down", "postgres": postgres}), (
        200 if postgres["ok"] else 503
    )


@bp.get("/metrics")
@limiter.exempt
@csrf.exempt
def metrics():
    """Prometheus metrics, for the bearer of ``METRICS_TOKEN`` (or loopback in development)."""
    if not may_scrape(current_app.config, request.remote_addr,
                      request.headers.get("Authorization")):
        abort(404)
    response = make_response(exposition())
    response.headers["Content-Type"] = CONTENT_TYPE
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/language")
def set_language():
    """Switch the UI language (Simplified Chinese or English)."""
    lang = request.form.get("lang")
    if lang not in SUPPORTED_LOCALES:
        abort(400)
    session["lang"] = lang
    if current_user.is_authenticated:
        current_user.locale = lang
    return redirect(safe_next(request.form.get("next")), code=303)


@bp.get("/files/view/<token>")
def view_file(token):
    """Show a file inline through a short-lived signed URL (preview pages, covers)."""
    stored = open_view_token(token)
    path = storage_dir() / stored.storage_name
    if not path.exists():
        abort(410)
    response = send_file(path, mimetype=stored.content_type, max_age=0)
    response.headers["Content-Disposition"] = "inline"
    # some of these are private (a reader's attachment): never kept by shared caches
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/files/<token>")
def download_file(token):
    """Serve a private file through its signed link (counts one download)."""
    link, path = open_link(token, count=request.method != "HEAD")
    if not path.exists():
        abort(410)
    response = send_file(path, mimetype=link.file.content_type, as_attachment=True,
                         download_name=link.file.original_name, max_age=0)
    remaining = None if link.max_downloads is None else link.max_downloads - link.downloads
    if remaining is not None:
        response.headers["X-Downloads-Remaining"] = str(remaining)
    return response
