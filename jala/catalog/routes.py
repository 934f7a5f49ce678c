"""Thin views for record pages and catalogue imports."""
from flask import render_template

from jala.catalog import bp
from jala.catalog.service import get_record


@bp.get("/records/<record_id>")
def record(record_id):
    """A record with every field, holdings by library, its source records and links."""
    rec = get_record(record_id)
    return render_template("catalog/record.html", record=rec)
