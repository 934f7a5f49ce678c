"""Reference desk forms (Flask-WTF: CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from jala.reference.faq import FAQ_ANSWER_MAX, FAQ_QUESTION_MAX
from jala.reference.services import BODY_MAX, SUBJECT_MAX


class AskForm(FlaskForm):
    """A new question, with an optional PDF or picture."""

    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=SUBJECT_MAX)])
    body = TextAreaField(_l("Your question"), validators=[DataRequired(), Length(max=BODY_MAX)])
    attachment = FileField(_l("Attachment (optional: a PDF or a picture)"))


class MessageForm(FlaskForm):
    """A message in a question's thread: the reader's reply or the librarian's answer."""

    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=BODY_MAX)])
    attachment = FileField(_l("Attachment (optional: a PDF or a picture)"))


class FaqForm(FlaskForm):
    """The anonymised question and answer as the FAQ shows them."""

    faq_question = TextAreaField(_l("Question"),
                                 validators=[DataRequired(), Length(max=FAQ_QUESTION_MAX)])
    faq_answer = TextAreaField(_l("Answer"),
                               validators=[DataRequired(), Length(max=FAQ_ANSWER_MAX)])
