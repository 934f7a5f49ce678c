"""An import whose worker died ends as failed, says so, and can be started again."""
import json

from sqlalchemy import func, select, text

from jala.catalog.models import ImportRun, SourceRecord
from jala.catalog.tasks import ABANDONED, RUN_LOCK, end_abandoned_imports
from jala.extensions import db
from jala.jobs import run_worker
from tests.catalog.test_upload import upload
from tests.support.catalog import import_lines
from tests.support.factories import make_user
from tests.support.web import login, post_form

RECORDS = [{"source_id": f"killed-{i}", "title": f"中断的导入 {i}"} for i in range(30)]


def _upload_killed_after_ten(client):
    """An upload whose worker imported ten records and died (nobody holds its run)."""
    login(client, make_user(library="SRNU", roles=["library_admin"]))
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS).encode()
    response = upload(client, "SRNU", data)
    run = db.session.query(ImportRun).one()
    run.status = "running"
    import_lines(RECORDS[:10], library="SRNU")
    db.session.flush()
    return run, response.headers["Location"]


def test_an_import_whose_worker_died_ends_failed_and_is_imported_again_without_duplicates(
        client, app):
    run, status_url = _upload_killed_after_ten(client)
    assert end_abandoned_imports() == 1
    db.session.flush()
    assert (run.status, run.message) == ("failed", ABANDONED)
    page = client.get(status_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "every 1s" not in page and "its worker was stopped" in page
    assert "its worker was stopped" in client.get("/libraries/SRNU/imports").get_data(
        as_text=True)
    again = post_form(client, f"{status_url}/again", {}, token_from=status_url)
    assert again.status_code == 303
    run_worker(app, burst=True)
    db.session.expire_all()
    second = db.session.query(ImportRun).order_by(ImportRun.id.desc()).first()
    assert second.id != run.id
    assert (second.status, second.created, second.unchanged) == ("done", 20, 10)
    assert db.session.execute(select(func.count()).select_from(SourceRecord).where(
        SourceRecord.source_id.like("killed-%"))).scalar() == 30


def test_a_running_import_whose_job_holds_it_is_left_alone(client, app):
    run, _ = _upload_killed_after_ten(client)
    with app.app_context(), db.engine.connect() as job:  # the live job's lock
        job.execute(text("SELECT pg_advisory_lock(:k, :r)"), {"k": RUN_LOCK, "r": run.id})
        try:
            assert end_abandoned_imports() == 0
        finally:
            job.execute(text("SELECT pg_advisory_unlock(:k, :r)"), {"k": RUN_LOCK, "r": run.id})
    assert run.status == "running"


def test_only_a_failed_import_can_be_started_again(client):
    run, status_url = _upload_killed_after_ten(client)
    response = post_form(client, f"{status_url}/again", {}, token_from=status_url)
    assert response.status_code == 303
    assert db.session.query(ImportRun).count() == 1
