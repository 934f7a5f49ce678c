"""Live availability on record pages, and the library admin's page for the SIP2 server."""
from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from jala.catalog.models import Holding
from jala.extensions import db
from jala.membership import library_name
from jala.protocols import bp
from jala.protocols.live_status import holding_status
from jala.protocols.sip2_config import (
    endpoint_for,
    live_library_ids,
    remove_endpoint,
    set_endpoint,
)
from jala.protocols.sip2_forms import Sip2Form
from jala.web import attempt


@bp.app_context_processor
def live_status_helpers():
    """For the record page: where a holding's live status comes from, if its library has one."""
    def live_status_url(holding):
        if "live_library_ids" not in g:
            g.live_library_ids = live_library_ids()
        if holding.library_id not in g.live_library_ids:
            return None
        return url_for("protocols.live_holding_status", holding_id=holding.id)

    return {"live_status_url": live_status_url}


@bp.get("/holdings/<id:holding_id>/status")
def live_holding_status(holding_id):
    """A holding's status cell (HTMX, after the record page loads): live, or as imported."""
    holding = db.session.get(Holding, holding_id) or abort(404)
    shown = holding_status(holding)
    return render_template("catalog/_holding_status.html", holding=holding,
                           status=shown.status, due_date=shown.due_date, live=shown.live)


@bp.route("/libraries/<code>/sip2", methods=["GET", "POST"])
@login_required
def library_sip2(code):
    """A library admin sets up (or changes) the SIP2 server that gives live availability."""
    library, endpoint = endpoint_for(current_user, code)
    form = Sip2Form(obj=endpoint)
    if form.validate_on_submit():
        _saved, refusal = attempt(lambda: set_endpoint(
            current_user, library.code, host=form.host.data, port=form.port.data,
            institution_id=form.institution_id.data, login_user=form.login_user.data,
            password=form.password.data, location_code=form.location_code.data,
            encoding=form.encoding.data), form=form)
        if refusal is None:
            flash(_("The SIP2 server of %(library)s is saved: record pages show live "
                    "availability now.", library=library_name(library)), "success")
            return redirect(url_for("protocols.library_sip2", code=library.code), code=303)
    return render_template("protocols/library_sip2.html", library=library, endpoint=endpoint,
                           form=form), 400 if form.errors else 200


@bp.post("/libraries/<code>/sip2/remove")
@login_required
def remove_library_sip2(code):
    """Stop asking the library's SIP2 server."""
    library, _endpoint = endpoint_for(current_user, code)
    attempt(lambda: remove_endpoint(current_user, library.code))
    flash(_("Record pages show the imported status of %(library)s's holdings again.",
            library=library_name(library)), "info")
    return redirect(url_for("protocols.library_sip2", code=library.code), code=303)
