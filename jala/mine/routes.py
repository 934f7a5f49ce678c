"""The reader's home page (我的)."""
from flask import render_template
from flask_login import current_user, login_required

from jala.mine import bp
from jala.mine.services import reader_home


@bp.get("/me")
@login_required
def home():
    """我的: loans and due dates, requests, card, questions, lists and what changed lately."""
    return render_template("mine/home.html", home=reader_home(current_user))
