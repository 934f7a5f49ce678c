"""Leaderboards and the answers, published when a round closes.

People rank by points, then by the shorter time; libraries by the average (or the sum, as the
round says) of their best ``top_n`` contestants' points, then by those contestants' shorter
average time. Before the round closes nobody sees a leaderboard or the right answers: a
contestant sees only their own score.
"""
from flask_babel import gettext as _
from sqlalchemy import select

from jala.community.contest.attempts import finish_due_attempts
from jala.community.contest.models import ContestAttempt
from jala.community.contest.services import is_closed
from jala.errors import RuleViolation
from jala.extensions import db

PEOPLE_SHOWN = 100


def _require_closed(found):
    if not is_closed(found):
        raise RuleViolation(_("The leaderboard is published when the round closes."),
                            status=403)


def _ranked(rows, key):
    """``(rank, row)`` pairs; rows with equal keys share a rank (1, 2, 2, 4)."""
    ranked, previous, rank = [], object(), 0
    for position, row in enumerate(rows, start=1):
        if key(row) != previous:
            rank, previous = position, key(row)
        ranked.append((rank, row))
    return ranked


def _submitted(found):
    finish_due_attempts(found.id)
    return db.session.execute(select(ContestAttempt).where(
        ContestAttempt.round_id == found.id, ContestAttempt.submitted_at.is_not(None))
        .order_by(ContestAttempt.score.desc(), ContestAttempt.duration_seconds,
                  ContestAttempt.submitted_at, ContestAttempt.id)).scalars().all()


def people_board(found, limit=PEOPLE_SHOWN):
    """``(rank, attempt)`` for the round's contestants, best first (once it has closed)."""
    _require_closed(found)
    attempts = _submitted(found)
    return _ranked(attempts, lambda a: (a.score, a.duration_seconds))[:limit]


def library_board(found):
    """``(rank, row)`` per library, best first.

    A row has ``library``, ``value`` (average or sum of the best ``top_n``), ``counted``,
    ``contestants`` and ``seconds`` (their average time).
    """
    _require_closed(found)
    by_library = {}
    for attempt in _submitted(found):  # best first, so each library's first are its best
        if attempt.library_id is not None:
            by_library.setdefault(attempt.library_id, []).append(attempt)
    rows = []
    for attempts in by_library.values():
        best = attempts[:found.top_n]
        total = sum(a.score for a in best)
        value = total if found.ranking == "sum" else round(total / len(best), 1)
        rows.append({"library": best[0].library, "value": value, "counted": len(best),
                     "contestants": len(attempts),
                     "seconds": round(sum(a.duration_seconds for a in best) / len(best))})
    rows.sort(key=lambda r: (-r["value"], r["seconds"], r["library"].id))
    return _ranked(rows, lambda r: (r["value"], r["seconds"]))


def review(found, attempt):
    """Each question with its right answer, hint and the contestant's answer (after closing).

    Dicts with ``question``, ``answer`` (or None), ``given`` (its words) and ``right`` (the
    right choices' texts or the accepted answers).
    """
    _require_closed(found)
    answers = {a.question_id: a for a in attempt.answers} if attempt else {}
    items = []
    for question in found.questions:
        if question.kind == "text":
            right = list(question.correct)
        else:
            right = [question.choices[i] for i in question.correct]
        answer = answers.get(question.id)
        given = None
        if answer is not None:
            given = (answer.value if question.kind == "text"
                     else [question.choices[i] for i in answer.value])
        items.append({"question": question, "answer": answer, "given": given, "right": right})
    return items
