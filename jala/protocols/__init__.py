"""The library world's doors: OAI-PMH, SRU, OpenURL, KBART, SIP2, and what crawlers read."""
from flask import Blueprint

bp = Blueprint("protocols", __name__)
