"""Document delivery (文献传递): requests, routing between libraries, delivery by email."""
from flask import Blueprint

bp = Blueprint("delivery", __name__)
