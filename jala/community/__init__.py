"""The alliance's community (联盟活动).

News and notices, events and training, the search contest, commendations and book lists.
"""
from flask import Blueprint

from jala.community.markup import plain_text, render_markdown

bp = Blueprint("community", __name__)
# what staff write is shown through these two filters, whichever part of the community it is in
bp.add_app_template_filter(render_markdown, "markdown")
bp.add_app_template_filter(plain_text, "plain_text")
