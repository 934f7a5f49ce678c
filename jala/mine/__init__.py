"""我的: the reader's own home — what they borrowed, asked, requested and saved, in one place."""
from flask import Blueprint

bp = Blueprint("mine", __name__)
