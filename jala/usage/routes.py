"""Views: the statistics dashboards (alliance and library) and their exports.

Also the counted full-text link: a redirect that records the click.
"""
from flask import abort, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from jala.catalog.service import get_record
from jala.extensions import limiter
from jala.reading import citations
from jala.reading.resolvers import resolver_links
from jala.stats import csv_download, xlsx_download
from jala.usage import (
    bp,
    figures,
    rollup,  # noqa: F401 (its sweep task registers on import)
    services,
)
from jala.usage.events import record_request_usage
from jala.usage.links import full_text_target

# the ☰ menu offers the alliance's figures to those who may see them
bp.add_app_template_global(services.can_see_alliance, "can_see_alliance_stats")
# the centre drafting the annual report (年度工作报告) sees the year's figures beside it
bp.add_app_template_global(figures.year_totals, "usage_year_totals")


# --- dashboards ---------------------------------------------------------------------------

@bp.get("/stats")
@login_required
def alliance():
    """The alliance's figures: every service by month or year, the lending balance, queries."""
    data = services.dashboard(current_user, request.args)
    return render_template("usage/dashboard.html", **data)



@bp.get("/libraries/<code>/stats")
@login_required
def library(code):
    """One library's figures, for its own staff."""
    data = services.dashboard(current_user, request.args, code=code.upper())
    return render_template("usage/dashboard.html", **data)


def _export(fmt, code=None):
    columns, rows, name = services.export_rows(current_user, request.args, code=code)
    if fmt == "csv":
        return csv_download(rows, columns, f"{name}.csv")
    return xlsx_download(rows, columns, f"{name}.xlsx", _("Usage statistics sheet"))


@bp.get("/stats.<any(csv, xlsx):fmt>")
@login_required
def alliance_export(fmt):
    """The alliance's per-library figures as CSV or XLSX (counts below 5 shown as "<5")."""
    return _export(fmt)


@bp.get("/libraries/<code>/stats.<any(csv, xlsx):fmt>")
@login_required
def library_export(code, fmt):
    """A library's own figures as CSV or XLSX."""
    return _export(fmt, code.upper())


# --- the counted full-text link -------------------------------------------------------------

@bp.get("/records/<record_id>/full-text/<via>")
@limiter.limit("120 per minute")  # per address: a public write (the counted click)
def follow_link(record_id, via):
    """Go to a record's full text (its online copy, DOI, or a library's link resolver), counted.

    The target is worked out from the record, never taken from the request: no open redirect.
    """
    record = get_record(record_id)
    target = full_text_target(record, via, resolver_links(current_user, record),
                              citations.clean_doi(record.doi))
    if target is None:
        abort(404)
    record_request_usage("link_click", record_id=record.id)
    return redirect(target, code=302)
