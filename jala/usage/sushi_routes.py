"""The COUNTER_SUSHI 5.1 API (/sushi/r51/…) and the library admins' SUSHI keys page.

The keys page (/libraries/<CODE>/sushi) makes the API keys a library's usage tools harvest with.
"""
from functools import wraps

from flask import current_app, jsonify, make_response, render_template, request, url_for
from flask import redirect as _redirect
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from jala import clock
from jala.extensions import limiter
from jala.membership import find_library
from jala.reading.forms import ConfirmForm
from jala.usage import bp, counter, sushi, sushi_data
from jala.usage.counter import PLATFORM, RELEASE, REPORTS, SushiError
from jala.web import ERROR_TEXT, attempt, render_error, require_form

DEFAULT_LIMIT = "30 per minute;1000 per day"  # per address and requestor_id
ADDRESS_LIMIT = "120 per minute;5000 per day"  # per address, whatever the requestor_id


class SushiKeyForm(FlaskForm):
    """A new SUSHI key, named after the usage tool that will use it."""

    label = StringField(_l("Usage tool the key is for (e.g. “Celus” or “our ERM”)"),
                        validators=[DataRequired(), Length(max=100)])


# --- the API ---------------------------------------------------------------------------------

def _answer(body, status=200):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _requestor_key():
    """The caller's address and the requestor_id it harvests with (not the customer_id)."""
    requestor = next((v for k, v in request.args.items() if k.lower() == "requestor_id"), "")
    return f"sushi:{get_remote_address()}:{requestor[:100]}"


def _address_key():
    """The caller's address alone: changing the requestor_id does not buy more requests."""
    return f"sushi-address:{get_remote_address()}"


def _too_many(_limit):
    return _answer(counter.exception(1020, "too many requests: try again later"), 429)


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(exc):
    """SUSHI paths answer a breach (theirs or the portal's own budget) with Exception 1020."""
    if request.path.startswith("/sushi/"):
        return exc.response if exc.response is not None else _too_many(None)
    return render_error(429, ERROR_TEXT[429]())


_requestor_limit = limiter.limit(
    lambda: current_app.config.get("RATELIMIT_SUSHI", DEFAULT_LIMIT), key_func=_requestor_key,
    on_breach=_too_many)
_address_limit = limiter.limit(
    lambda: current_app.config.get("RATELIMIT_SUSHI_ADDRESS", ADDRESS_LIMIT),
    key_func=_address_key, on_breach=_too_many)


def sushi_limit(view):
    """Both SUSHI rate limits: per address and requestor_id, and per address."""
    return _address_limit(_requestor_limit(view))


def _args():
    return {key.lower(): value for key, value in request.args.items()}


def _authorised_library(args):
    """The library the credentials in ``args`` may harvest (raises ``SushiError``)."""
    missing = [p for p in ("customer_id", "requestor_id", "api_key") if not args.get(p)]
    if missing:
        raise SushiError(1030, ", ".join(missing) + " required")
    credential = sushi.authenticate(args["requestor_id"], args["api_key"])
    if credential is None:  # one answer for every failure: no hint whether the requestor exists
        raise SushiError(2000)
    library = find_library(args["customer_id"])
    if library is None or library.id != credential.library_id:
        raise SushiError(2010, f"customer_id {args['customer_id']}")
    credential.last_used_at = clock.now()
    return library


def sushi_view(view):
    """A SUSHI path: authorised, its COUNTER exceptions answered as JSON with their status."""
    @wraps(view)
    def wrapper():
        args = _args()
        try:
            library = _authorised_library(args)
            return _answer(view(library, args))
        except SushiError as refusal:
            return _answer(refusal.body(), refusal.status)
    return wrapper


@bp.get("/sushi/r51/status")
@sushi_limit
def sushi_status():
    """The service's status (public, as COUNTER asks)."""
    return _answer([{"Description": f"COUNTER Release {RELEASE} usage reports of the {PLATFORM}"
                                    " for the alliance's member libraries.",
                     "Service_Active": True,
                     "Note": "customer_id is the library code; each library admin makes a "
                             "requestor_id and api_key on the portal."}])


@bp.get("/sushi/r51/members")
@sushi_limit
@sushi_view
def sushi_members(library, args):
    """The institutions these credentials harvest: the one library."""
    return [{"Customer_ID": library.code, "Institution_Name": library.name_zh,
             "Institution_ID": {"Proprietary": [f"{counter.PLATFORM_ID}:{library.code}"]},
             "Notes": library.name_en if len(library.name_en or "") >= 2 else "Member library"}]


@bp.get("/sushi/r51/reports")
@sushi_limit
@sushi_view
def sushi_reports(library, args):
    """The reports this server supports, with the months they cover."""
    first, last = sushi_data.months_available(library.id)
    return [{"Report_Name": name, "Report_ID": report_id.upper(), "Release": RELEASE,
             "Report_Description": description, "Path": f"/r51/reports/{report_id}",
             "First_Month_Available": first, "Last_Month_Available": last}
            for report_id, (name, description) in REPORTS.items()]


@bp.get("/sushi/r51/reports/pr")
@sushi_limit
@sushi_view
def sushi_pr(library, args):
    """The library's Platform Report."""
    return sushi_data.platform_report(library, args)


@bp.get("/sushi/r51/reports/tr")
@sushi_limit
@sushi_view
def sushi_tr(library, args):
    """The library's Title Report."""
    return sushi_data.title_report(library, args)


# --- the keys page ---------------------------------------------------------------------------

def _page(library, credentials, form, *, new_key=None, new_credential=None, status=200):
    response = make_response(render_template(
        "usage/counter_sushi.html", library=library, credentials=credentials, form=form,
        revoke_form=ConfirmForm(), new_key=new_key, new_credential=new_credential,
        server_url=url_for("usage.sushi_status", _external=True).rsplit("/status", 1)[0],
        platform=PLATFORM), status)
    response.headers["Cache-Control"] = "no-store"  # it may show a new key, once
    return response


@bp.route("/libraries/<code>/sushi", methods=["GET", "POST"])
@login_required
def sushi_keys(code):
    """A library admin makes and revokes the SUSHI keys of the library's usage tools."""
    library, credentials = sushi.credentials_of(current_user, code)
    form = SushiKeyForm()
    if request.method == "POST":
        if form.validate_on_submit():
            made, refusal = attempt(lambda: sushi.create_credential(
                current_user, library.code, form.label.data), form=form)
            if refusal is None:
                credential, api_key = made
                _library, credentials = sushi.credentials_of(current_user, code)
                # the key is shown in this answer only: never stored, flashed or redirected
                return _page(library, credentials, SushiKeyForm(formdata=None),
                             new_key=api_key, new_credential=credential, status=201)
        return _page(library, credentials, form, status=400)
    return _page(library, credentials, form)


@bp.post("/libraries/<code>/sushi/<int:credential_id>/revoke")
@login_required
def revoke_sushi_key(code, credential_id):
    """Revoke one key: harvests with it stop at once."""
    require_form(ConfirmForm())
    sushi.revoke_credential(current_user, code, credential_id)
    return _redirect(url_for("usage.sushi_keys", code=code.upper()), code=303)
