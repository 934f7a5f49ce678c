"""Purchase suggestions (荐购): readers suggest titles their library should buy."""
from flask import Blueprint

bp = Blueprint("procurement", __name__)
