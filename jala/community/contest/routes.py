"""Thin views of the search contest: rounds, taking one, leaderboards, organisers' pages."""
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from jala import clock
from jala.community import bp
from jala.community.contest import attempts, leaderboard
from jala.community.contest import services as contest
from jala.community.contest.answers import choice_order, masked_name
from jala.community.contest.forms import QuestionForm, RoundForm, StartForm
from jala.extensions import limiter
from jala.membership import library_name
from jala.web import EVERY_REFUSAL, attempt, is_htmx

# --- the contest's page and a round's ------------------------------------------------------------

@bp.get("/contest")
def contest_list():
    """Open, coming and closed rounds of the search contest (搜索大赛)."""
    return render_template("community/contest/list.html", **contest.rounds_page(current_user),
                           can_take=lambda r: contest.refusal_to_take(current_user, r) is None,
                           organiser=contest.is_organiser(current_user))


def _round_page(found, status=200, error=None, start_form=None):
    mine = attempts.my_attempt(current_user, found.id)
    closed = contest.is_closed(found)
    context = {
        "round": found, "mine": mine, "closed": closed, "error": error,
        "refusal": contest.refusal_to_take(current_user, found),
        "start_form": start_form or StartForm(formdata=None),
        "masked": masked_name(current_user.display_name) if current_user.is_authenticated
        else None,
        "organiser": contest.can_organise(current_user, found.library_id),
        "people": leaderboard.people_board(found) if closed else None,
        "libraries": leaderboard.library_board(found) if closed else None,
        "review": leaderboard.review(found, mine) if closed else None,
    }
    return render_template("community/contest/round.html", **context), status


@bp.get("/contest/<id:round_id>")
def contest_round(round_id):
    """A round: its rules, the start button, your score; once closed, leaderboards and answers."""
    return _round_page(contest.get_round(current_user, round_id))


@bp.post("/contest/<id:round_id>/start")
@login_required
@limiter.limit("30 per minute", key_func=lambda: f"contest-start:{current_user.id}")
def contest_start(round_id):
    """Start the one attempt (or go back to it: a second tab finds the same attempt)."""
    found = contest.get_round(current_user, round_id)
    form = StartForm()
    if not form.validate_on_submit():
        return _round_page(found, 400, start_form=form)
    _started, refusal = attempt(lambda: attempts.start_attempt(
        current_user, round_id, form.public_name.data), form=form)
    if refusal is not None:
        return _round_page(found, refusal.status, refusal.message, form)
    return redirect(url_for("community.contest_attempt", round_id=round_id), code=303)


# --- taking it --------------------------------------------------------------------------------

def _screen(mine, number, error=None):
    """The context of question ``number`` (1-based) of the attempt's own order."""
    questions = attempts.attempt_questions(mine)
    number = min(max(number, 1), len(questions))
    question = questions[number - 1]
    answer = next((a for a in mine.answers if a.question_id == question.id), None)
    return {"round": mine.round, "attempt": mine, "questions": questions, "number": number,
            "question": question, "answer": answer, "answered": attempts.answered_ids(mine),
            "order": choice_order(question, mine.seed),
            "seconds_left": attempts.seconds_left(mine), "error": error}


def _number():
    value = request.values.get("n", "1")
    return int(value) if value.isdecimal() and len(value) < 4 else 1


@bp.get("/contest/<id:round_id>/attempt")
@login_required
def contest_attempt(round_id):
    """One question a screen, with the time left (the server's clock decides)."""
    found = contest.get_round(current_user, round_id)
    mine = attempts.my_attempt(current_user, found.id)
    if mine is None or mine.submitted_at is not None:
        return redirect(url_for("community.contest_round", round_id=found.id), code=303)
    context = _screen(mine, _number())
    if is_htmx():
        return render_template("community/contest/_attempt.html", **context)
    return render_template("community/contest/attempt.html", **context)


def _to_round(found):
    """To the round's page: a redirect, or for HTMX a full-page ``HX-Redirect``."""
    target = url_for("community.contest_round", round_id=found.id)
    if is_htmx():
        response = make_response("")
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)


@bp.post("/contest/<id:round_id>/attempt")
@login_required
def contest_answer(round_id):
    """Save the answer on the screen, then show the next (or previous) question."""
    found = contest.get_round(current_user, round_id)
    number = _number()
    question_id = request.form.get("question", "")
    if not question_id.isdecimal() or len(question_id) > 9:
        abort(400)
    saved, refusal = attempt(lambda: attempts.save_answer(
        current_user, found.id, int(question_id), chosen=request.form.getlist("choice"),
        text=request.form.get("text", "")), reraise=(404,))
    if refusal is not None and refusal.status == 409:  # submitted, or time is up
        if is_htmx():
            flash(refusal.message, "error")
            return _to_round(found)
        return _round_page(found, 409, refusal.message)
    go = request.form.get("go", "next")
    target = number if refusal else number + {"next": 1, "prev": -1}.get(go, 0)
    if go == "submit" and refusal is None:
        attempts.submit_attempt(current_user, found.id)
        flash(_("Your answers have been handed in."), "success")
        return _to_round(found)
    mine = saved or attempts.my_attempt(current_user, found.id)
    if not is_htmx() and refusal is None:
        return redirect(url_for("community.contest_attempt", round_id=found.id,
                                n=_screen(mine, target)["number"]), code=303)
    context = _screen(mine, target, refusal.message if refusal else None)
    template = "community/contest/_attempt.html" if is_htmx() else "community/contest/attempt.html"
    response = make_response(render_template(template, **context),
                             400 if refusal and not is_htmx() else 200)
    if is_htmx():
        response.headers["HX-Push-Url"] = url_for("community.contest_attempt",
                                                  round_id=found.id, n=context["number"])
    return response


@bp.post("/contest/<id:round_id>/submit")
@login_required
def contest_submit(round_id):
    """Hand in: the answers are checked on the server and the score is kept."""
    found = contest.get_round(current_user, round_id)
    attempt(lambda: attempts.submit_attempt(current_user, found.id), reraise=EVERY_REFUSAL)
    flash(_("Your answers have been handed in."), "success")
    return redirect(url_for("community.contest_round", round_id=found.id), code=303)


# --- organising ---------------------------------------------------------------------------------

def _round_form(with_library=True):
    form = RoundForm()
    if with_library:
        form.library.choices = [
            (value, library_name(library) if library else _("Alliance management centre"))
            for value, library in contest.organiser_choices(current_user)]
    else:
        del form.library  # the organiser of a round does not change
    return form


@bp.get("/contest/manage")
@login_required
def contest_manage():
    """The rounds the organiser's libraries (or the centre) have written, drafts too."""
    return render_template("community/contest/manage.html",
                           rounds=contest.organised_rounds(current_user))


@bp.route("/contest/new", methods=["GET", "POST"])
@login_required
def contest_round_new():
    """Write a new round (a draft: questions next, then publish)."""
    contest.organised_rounds(current_user)  # organisers only
    form = _round_form()
    if form.validate_on_submit():
        library_id = int(form.library.data) if form.library.data else None
        created, refusal = attempt(lambda: contest.create_round(
            current_user, library_id=library_id, **form.round_fields()), form=form)
        if refusal is None:
            flash(_("The round is saved as a draft. Now add its questions."), "success")
            return redirect(url_for("community.contest_round_edit", round_id=created.id),
                            code=303)
    return render_template("community/contest/round_new.html", form=form), (
        400 if request.method == "POST" else 200)


def _edit_page(found, form=None, question_form=None, status=200):
    if form is None:
        form = _round_form(with_library=False)
        form.fill_from(found)
    return render_template("community/contest/round_edit.html", round=found, form=form,
                           question_form=question_form or QuestionForm(formdata=None),
                           now=clock.now()), status


@bp.route("/contest/<id:round_id>/edit", methods=["GET", "POST"])
@login_required
def contest_round_edit(round_id):
    """A draft round: its details, its questions, publishing; a published one can be closed."""
    found = contest.get_organised_round(current_user, round_id)
    if request.method == "GET":
        return _edit_page(found)
    form = _round_form(with_library=False)
    if form.validate_on_submit():
        _updated, refusal = attempt(lambda: contest.update_round(
            current_user, found.id, **form.round_fields()), form=form)
        if refusal is None:
            flash(_("Saved."), "success")
            return redirect(url_for("community.contest_round_edit", round_id=found.id),
                            code=303)
    return _edit_page(found, form, status=400)


@bp.post("/contest/<id:round_id>/questions")
@login_required
def contest_question_add(round_id):
    """Add a question to a draft round."""
    found = contest.get_organised_round(current_user, round_id)
    form = QuestionForm()
    if form.validate_on_submit():
        _added, refusal = attempt(lambda: contest.add_question(
            current_user, found.id, **form.question_fields()), form=form)
        if refusal is None:
            flash(_("The question is added."), "success")
            return redirect(url_for("community.contest_round_edit", round_id=found.id,
                                    _anchor="questions"), code=303)
    return _edit_page(found, question_form=form, status=400)


@bp.post("/contest/<id:round_id>/questions/<id:question_id>/delete")
@login_required
def contest_question_delete(round_id, question_id):
    """Take a question out of a draft round."""
    attempt(lambda: contest.delete_question(current_user, round_id, question_id),
            reraise=EVERY_REFUSAL)
    flash(_("The question is removed."), "success")
    return redirect(url_for("community.contest_round_edit", round_id=round_id,
                            _anchor="questions"), code=303)


@bp.post("/contest/<id:round_id>/publish")
@login_required
def contest_round_publish(round_id):
    """Publish a draft round: it opens to contestants at its opening time."""
    found = contest.get_organised_round(current_user, round_id)
    _published, refusal = attempt(lambda: contest.publish_round(current_user, found.id))
    if refusal is not None:
        form = _round_form(with_library=False)
        form.fill_from(found)
        form.form_errors.append(refusal.message)
        return _edit_page(found, form, status=refusal.status)
    flash(_("The round is published."), "success")
    return redirect(url_for("community.contest_round", round_id=found.id), code=303)


@bp.post("/contest/<id:round_id>/close")
@login_required
def contest_round_close(round_id):
    """Close an open round now: its leaderboards and answers are published."""
    attempt(lambda: contest.close_round_now(current_user, round_id), reraise=EVERY_REFUSAL)
    flash(_("The round is closed: the leaderboards and the answers are published."), "success")
    return redirect(url_for("community.contest_round", round_id=round_id), code=303)


@bp.app_template_filter("contest_duration")
def contest_duration(seconds):
    """A time taken, in minutes and seconds."""
    seconds = int(seconds or 0)
    return _("%(m)d min %(s)02d s", m=seconds // 60, s=seconds % 60)
