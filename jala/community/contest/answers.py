"""Answers of the search contest as pure functions: reading, checking, ordering, names.

What a contestant sent is read and checked, the order a contestant sees is drawn from the
attempt's seed, and the names on the leaderboard are masked or chosen.

Text answers are compared after the search's own normalisation (NFKC, so full-width and
half-width meet; Traditional → Simplified; case-folded), with spaces and the quotation marks
and title marks around a title (《》“”「」) left out: 《中國發展報告》 matches 中国发展报告.
"""
import random
import re

from flask_babel import gettext as _

from jala.errors import RuleViolation
from jala.search.normalize import normalize_text

TEXT_ANSWER_MAX = 200
PUBLIC_NAME_MAX = 20
_IGNORED_RE = re.compile(r"[\s《》〈〉<>“”‘’\"'「」『』【】\[\]()（）.,;:!?。，、；：！？·]+")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def normalize_answer(text):
    """The form of a text answer that is compared: normalised, without spaces and marks."""
    return _IGNORED_RE.sub("", normalize_text(text or ""))


def read_value(question, chosen=(), text=""):
    """What the contestant answered to ``question``, checked: chosen indices or a text.

    Returns None for an empty answer (nothing chosen, nothing typed).
    """
    if question.kind == "text":
        text = " ".join((text or "").split())
        if len(text) > TEXT_ANSWER_MAX:
            raise RuleViolation(_("At most %(n)d characters, please.", n=TEXT_ANSWER_MAX))
        return text or None
    indices = set()
    for item in chosen or ():
        item = str(item).strip()
        if not item.isdecimal() or int(item) >= len(question.choices):
            raise RuleViolation(_("Choose one of the answers shown."))
        indices.add(int(item))
    if question.kind == "single" and len(indices) > 1:
        raise RuleViolation(_("Choose only one answer."))
    return sorted(indices) or None


def is_right(question, value):
    """Whether ``value`` (as ``read_value`` returns it) answers ``question`` correctly."""
    if value is None:
        return False
    if question.kind == "text":
        typed = normalize_answer(value)
        return bool(typed) and typed in {normalize_answer(a) for a in question.correct}
    # multiple choice: all the right ones and none of the others
    return sorted(value) == sorted(question.correct)


def score_attempt(attempt, at):
    """Check an attempt's answers and hand it in at ``at`` (on the objects; the caller flushes)."""
    answers = {a.question_id: a for a in attempt.answers}
    score = right = 0
    for question in attempt.round.questions:
        answer = answers.get(question.id)
        if answer is None:
            continue
        answer.is_correct = is_right(question, answer.value)
        answer.points = question.points if answer.is_correct else 0
        score += answer.points
        right += answer.is_correct
    attempt.submitted_at = at
    attempt.score, attempt.correct_count = score, right
    attempt.duration_seconds = max(0, int((at - attempt.started_at).total_seconds()))


def question_order(questions, seed):
    """The questions in the attempt's own random order (the same on every reload)."""
    ordered = sorted(questions, key=lambda q: (q.position, q.id))
    random.Random(seed).shuffle(ordered)
    return ordered


def choice_order(question, seed):
    """The indices of ``question``'s choices in the order this attempt shows them."""
    order = list(range(len(question.choices)))
    random.Random(seed * 1_000_003 + question.id).shuffle(order)
    return order


def masked_name(display_name):
    """A name the leaderboard may show without saying who it is: 李小红 → 李**."""
    name = (display_name or "").strip()
    return (name[:1] or "?") + "**"


def clean_public_name(name):
    """A name a contestant chose for the leaderboard, checked (None: use the masked name)."""
    name = " ".join(_CONTROL_RE.sub("", name or "").split())
    if not name:
        return None
    if len(name) > PUBLIC_NAME_MAX:
        raise RuleViolation(_("A leaderboard name has at most %(n)d characters.",
                              n=PUBLIC_NAME_MAX))
    if "@" in name:
        raise RuleViolation(_("Choose a name, not an email address, for the leaderboard."))
    return name
