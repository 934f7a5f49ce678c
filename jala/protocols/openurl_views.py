"""Inbound OpenURL at /openurl: to the record the link names, else to a search for it."""
from flask import redirect, request, url_for

from jala.protocols import bp, openurl


@bp.get("/openurl")
def openurl_link():
    """One matching record → its page (holdings, delivery form); else the search page."""
    citation = openurl.read_citation(request.args)
    record = openurl.find_record(citation)
    if record is not None:
        return redirect(url_for("catalog.record", record_id=record.public_id), code=303)
    return redirect(url_for("search.results", q=openurl.search_terms(citation)), code=303)
