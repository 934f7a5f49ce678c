"""The helpers every view uses: a step in a savepoint, form checks, ids in URLs."""
import io

import psycopg
import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.routing import ValidationError
from wtforms import StringField
from wtforms.validators import InputRequired

from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from jala.files import StoredFile, storage_dir, store_upload
from jala.settings import Setting
from jala.web import EVERY_REFUSAL, IdConverter, attempt, require_form
from tests.support.files import PDF


class NameForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name", validators=[InputRequired(message="Give a name.")])


def _write_then_refuse():
    db.session.add(Setting(key="test.attempt", value=1))
    store_upload(io.BytesIO(PDF), "x.pdf", allowed_kinds=("pdf",), max_bytes=10_000)
    db.session.flush()
    raise RuleViolation("Not now.", status=409)


def test_a_step_that_works_is_kept_and_its_result_returned(ctx):
    result, refusal = attempt(lambda: db.session.add(Setting(key="test.kept", value=1)) or 7)
    assert (result, refusal) == (7, None)
    assert db.session.get(Setting, "test.kept") is not None


def test_a_refused_step_keeps_neither_its_rows_nor_its_files(ctx):
    files_before = set(storage_dir().iterdir())
    rows_before = db.session.execute(select(StoredFile.id)).scalars().all()
    result, refusal = attempt(_write_then_refuse)
    assert result is None and refusal.status == 409 and refusal.message == "Not now."
    assert db.session.get(Setting, "test.attempt") is None
    assert db.session.execute(select(StoredFile.id)).scalars().all() == rows_before
    assert set(storage_dir().iterdir()) == files_before


def test_not_found_and_forbidden_become_error_pages_not_form_errors(ctx):
    def missing():
        raise NotFound("No such thing.")

    with pytest.raises(NotFound):
        attempt(missing)
    with pytest.raises(RuleViolation):
        attempt(_write_then_refuse, reraise=EVERY_REFUSAL)
    assert db.session.get(Setting, "test.attempt") is None


def test_a_refusal_shown_in_a_form_joins_its_errors(app, db_session):
    with app.test_request_context("/", method="POST", data={"name": "x"}):
        form = NameForm()
        _result, refusal = attempt(_write_then_refuse, form=form)
        assert form.form_errors == ["Not now."] and refusal.status == 409


def test_require_form_names_every_field_error(app, db_session):
    with app.test_request_context("/", method="POST", data={}):
        with pytest.raises(RuleViolation, match="Give a name."):
            require_form(NameForm())
    with app.test_request_context("/", method="POST", data={"name": "柳"}):
        assert require_form(NameForm()).name.data == "柳"


@pytest.mark.parametrize("value", ["0", "-1", "2147483648", "99999999999999999999", "1.5", "x"])
def test_ids_in_urls_are_positive_integers_postgres_can_hold(app, value):
    with pytest.raises(ValidationError):
        IdConverter(app.url_map).to_python(value)


def test_an_id_out_of_range_is_a_404_page_and_one_in_range_reaches_the_view(client):
    assert client.get("/libraries/JXUFE/imports/2147483648").status_code == 404
    assert client.get("/libraries/JXUFE/imports/0").status_code == 404
    assert client.get("/libraries/JXUFE/imports/5").status_code == 302  # to the login page


@pytest.mark.parametrize("query", ["", "?q=%E6%9D%8E&page=2"])
def test_the_https_redirect_goes_to_public_url_whatever_the_host_header(client, app, query):
    saved = app.config["FORCE_HTTPS"], app.config["PUBLIC_URL"]
    app.config["FORCE_HTTPS"], app.config["PUBLIC_URL"] = True, "https://portal.example.edu.cn/"
    try:
        response = client.get("/libraries" + query, headers={"Host": "evil.example"})
        assert response.status_code == 301
        assert response.headers["Location"] == "https://portal.example.edu.cn/libraries" + query
        assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 200
    finally:
        app.config["FORCE_HTTPS"], app.config["PUBLIC_URL"] = saved


@pytest.mark.parametrize(("error", "status"), [
    (psycopg.OperationalError('connection to server at "10.20.0.11", port 5432 failed'), 503),
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), 503),
    (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), 500),
    (psycopg.errors.DeadlockDetected("deadlock detected"), 500),
])
def test_only_a_database_that_does_not_answer_is_a_503(client, monkeypatch, error, status):
    def fails(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, error)

    monkeypatch.setattr("jala.search.routes.search", fails)
    assert client.get("/api/v1/search?q=x").status_code == status
