"""The OAI-PMH endpoint: GET and POST (harvesters post forms without our CSRF token)."""
from flask import Response, request

from jala.extensions import csrf
from jala.protocols import bp
from jala.protocols.oai import respond
from jala.search.routes import search_budget


@bp.route("/oai", methods=["GET", "POST"])
@search_budget
@csrf.exempt
def oai():
    """Answer an OAI-PMH request; errors are OAI-PMH errors in a 200 response.

    Each page of a list reads up to a page of records: it draws on the search budget, as
    /sru does, so one client cannot hold the catalogue's database.
    """
    arguments = request.form if request.method == "POST" else request.args
    return Response(respond(arguments), content_type="text/xml; charset=utf-8")
