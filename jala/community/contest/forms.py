"""Search contest forms (Flask-WTF: CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from jala import clock
from jala.community.contest.answers import PUBLIC_NAME_MAX
from jala.community.contest.services import (
    CHOICE_MAX,
    DESCRIPTION_MAX,
    HINT_MAX,
    PROMPT_MAX,
    TITLE_MAX,
)

RIGHT_MARK = "*"


class RoundForm(FlaskForm):
    """A round's title, description, times and ranking (a draft until published)."""

    library = SelectField(_l("Organised by"), choices=[], validate_choice=True)
    title = StringField(_l("Round title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    description = TextAreaField(_l("Description (Markdown: rules, prizes, how to search)"),
                                validators=[Optional(), Length(max=DESCRIPTION_MAX)])
    kind = SelectField(_l("Round kind"), default="official", choices=[
        SelectChoice("official", _l("Official: one attempt each, on the leaderboard")),
        SelectChoice("practice", _l("Practice: anyone, as often as they like")),
    ])
    opens_at = DateTimeLocalField(_l("Opens (Beijing time)"), format="%Y-%m-%dT%H:%M",
                                  validators=[DataRequired()])
    closes_at = DateTimeLocalField(_l("Closes (Beijing time)"), format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired()])
    time_limit_minutes = IntegerField(_l("Time limit (minutes)"), default=30,
                                      validators=[DataRequired(), NumberRange(1, 600)])
    ranking = SelectField(_l("Library ranking"), default="average", choices=[
        SelectChoice("average", _l("average points of its best contestants")),
        SelectChoice("sum", _l("total points of its best contestants")),
    ])
    top_n = IntegerField(_l("Best contestants counted per library"), default=5,
                         validators=[DataRequired(), NumberRange(1, 100)])

    def round_fields(self):
        """The service's keyword arguments (times in Beijing time)."""
        return {"title": self.title.data, "description": self.description.data or "",
                "kind": self.kind.data,
                "opens_at": self.opens_at.data.replace(tzinfo=clock.SHANGHAI),
                "closes_at": self.closes_at.data.replace(tzinfo=clock.SHANGHAI),
                "time_limit_minutes": self.time_limit_minutes.data,
                "ranking": self.ranking.data, "top_n": self.top_n.data}

    def fill_from(self, found):
        """Show a round's values (times in Beijing time)."""
        self.title.data, self.description.data = found.title, found.description
        self.kind.data, self.ranking.data = found.kind, found.ranking
        self.opens_at.data = found.opens_at.astimezone(clock.SHANGHAI).replace(tzinfo=None)
        self.closes_at.data = found.closes_at.astimezone(clock.SHANGHAI).replace(tzinfo=None)
        self.time_limit_minutes.data, self.top_n.data = found.time_limit_minutes, found.top_n


class QuestionForm(FlaskForm):
    """A question: its kind, text, choices (right ones marked with *) or accepted answers."""

    kind = SelectField(_l("Question kind"), default="single", choices=[
        SelectChoice("single", _l("Single choice")),
        SelectChoice("multiple", _l("Multiple choice")),
        SelectChoice("text", _l("Short text answer")),
    ])
    prompt = TextAreaField(_l("Question (Markdown)"),
                           validators=[DataRequired(), Length(max=PROMPT_MAX)])
    choices = TextAreaField(_l("Choices, one per line; start the right ones with *"),
                            validators=[Optional(), Length(max=CHOICE_MAX * 10)])
    accepted = TextAreaField(_l("Accepted answers, one per line (for a text answer)"),
                             validators=[Optional(), Length(max=CHOICE_MAX * 20)])
    points = IntegerField(_l("Points"), default=1, validators=[DataRequired(),
                                                                NumberRange(1, 100)])
    hint_url = StringField(_l("Where the answer is found (a link, shown after the round "
                              "closes)"), validators=[Optional(), Length(max=HINT_MAX)])

    def question_fields(self):
        """The service's keyword arguments: choices without their marks, the marked indices."""
        lines = [line.strip() for line in (self.choices.data or "").splitlines() if line.strip()]
        return {"kind": self.kind.data, "prompt": self.prompt.data,
                "choices": [line.lstrip(RIGHT_MARK + "＊").strip() for line in lines],
                "correct": [i for i, line in enumerate(lines) if line[0] in (RIGHT_MARK, "＊")],
                "accepted": (self.accepted.data or "").splitlines(),
                "points": self.points.data, "hint_url": self.hint_url.data}


class StartForm(FlaskForm):
    """Start (or continue) an attempt, with the name to show on the leaderboard."""

    public_name = StringField(_l("Name on the leaderboard (optional)"),
                              validators=[Optional(), Length(max=PUBLIC_NAME_MAX)])
