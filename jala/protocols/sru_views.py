"""SRU at /sru: a bare GET is explain, ``?query=…`` is searchRetrieve (GET or POST)."""
from flask import Response, current_app, request

from jala.extensions import csrf, db
from jala.protocols import bp, sru
from jala.protocols.cql import Diagnostic
from jala.search.routes import search_budget


@bp.route("/sru", methods=["GET", "POST"])
@search_budget
@csrf.exempt
def sru_endpoint():
    """Answer an SRU request; every failure is a diagnostic in a 200 answer, never a 5xx."""
    args = request.values
    try:
        answer = sru.answer(args)
        body = sru.to_xml(answer)
    except Exception as exc:  # an SRU client reads diagnostics, not error pages
        current_app.logger.exception("SRU request failed: %s", request.query_string[:500])
        db.session.rollback()
        # echoes none of the request: whatever in it broke the answer must not break this one
        answer = sru.Answer(sru.ANSWERED_VERSION.get(args.get("version"), "2.0"),
                            "searchRetrieve" if "query" in args else "explain", {},
                            diagnostic=Diagnostic(1, type(exc).__name__))
        body = sru.to_xml(answer)
    return Response(body, mimetype="text/xml")
