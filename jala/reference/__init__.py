"""Ask a librarian (联合虚拟参考咨询): questions, answers, the FAQ."""
from flask import Blueprint

bp = Blueprint("reference", __name__)
