"""Borrowing between member libraries: interlibrary cards, holds, union borrowing, ILL."""
from flask import Blueprint

bp = Blueprint("loans", __name__)
