"""The community's front page: news, events, the search contest and book lists in one place."""
from flask import render_template
from flask_login import current_user

from jala.community import bp
from jala.community.contest.services import open_rounds
from jala.community.events.services import upcoming_events
from jala.community.news.services import latest_news
from jala.community.recognition.book_lists import recent_book_lists
from jala.community.recognition.commendations import published_results


@bp.app_context_processor
def community_for_the_home_page():
    """What is on, for the home page (called only where a template asks)."""
    def coming_up(limit=3):
        user = current_user if current_user.is_authenticated else None
        return upcoming_events(limit=limit, user=user)
    return {"community_coming_up": coming_up, "community_news": latest_news}


@bp.get("/community")
def home():
    """联盟活动: what is on in the alliance, newest first, for a reader on a phone."""
    user = current_user if current_user.is_authenticated else None
    events = upcoming_events(limit=4, user=user)
    return render_template("community/home.html", news=latest_news(limit=4), events=events,
                           rounds=open_rounds(user), book_lists=recent_book_lists(limit=3),
                           commendations=published_results()[:1])
