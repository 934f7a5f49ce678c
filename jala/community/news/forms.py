"""News forms (Flask-WTF: CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from jala.community.news.models import CATEGORIES
from jala.community.news.services import BODY_MAX, TITLE_MAX, category_name

CENTRE_CHOICE = "center"


class NewsForm(FlaskForm):
    """A news item's text: who publishes it (new items only), category, title, body, pinning."""

    library = SelectField(_l("Published by"), choices=[], validate_choice=True)
    category = SelectField(_l("Kind of news"), choices=[])
    title = StringField(_l("Heading"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=BODY_MAX)])
    pinned = BooleanField(_l("Pin it at the top of the news list"))
    file = FileField(_l("Picture (PNG, JPEG, WebP) or PDF"))

    def __init__(self, *args, libraries=None, **kwargs):
        """``libraries``: ``[(value, label)]`` the writer may choose; None drops the field."""
        super().__init__(*args, **kwargs)
        self.category.choices = [(c, category_name(c)) for c in CATEGORIES]
        if libraries is None:
            del self.library
        else:
            self.library.choices = libraries


class AttachmentForm(FlaskForm):
    """One picture or PDF for a news item."""

    file = FileField(_l("Picture (PNG, JPEG, WebP) or PDF"))

