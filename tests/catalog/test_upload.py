"""Library admins upload a file; an RQ job imports it; the page shows progress and errors."""
import io
import json

from jala.catalog.models import ImportRun
from jala.extensions import db
from jala.jobs import run_worker
from tests.support.factories import make_user
from tests.support.web import login, post_form


def upload(client, code, data, name="records.jsonl", **fields):
    return post_form(client, f"/libraries/{code}/imports",
                     dict(fields, file=(io.BytesIO(data), name)),
                     token_from=f"/libraries/{code}/imports",
                     content_type="multipart/form-data")


def test_upload_runs_as_a_job_and_reports_progress_and_errors(client, app):
    admin = make_user(library="SRNU", roles=["library_admin"])
    login(client, admin)
    lines = [json.dumps({"source_id": f"u{i}", "title": f"上传的书 {i}"}, ensure_ascii=False)
             for i in range(5)] + ["{broken"]
    response = upload(client, "SRNU", ("\n".join(lines) + "\n").encode())
    assert response.status_code == 303
    run = db.session.query(ImportRun).one()
    assert run.status == "queued" and run.format == "jsonl"
    status_url = response.headers["Location"]
    polling = client.get(status_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in polling
    run_worker(app, burst=True)
    db.session.expire_all()
    run = db.session.query(ImportRun).one()
    assert (run.status, run.read, run.created, run.skipped) == ("done", 6, 5, 1)
    assert run.errors[0]["position"] == 6
    done = client.get(status_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "every 1s" not in done and "bad JSON" in done


def test_upload_refuses_files_that_are_not_records(client):
    admin = make_user(library="SRNU", roles=["library_admin"])
    login(client, admin)
    response = upload(client, "SRNU", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, name="cat.png")
    assert response.status_code == 400
    assert db.session.query(ImportRun).count() == 0


def test_only_the_librarys_admins_may_import(client):
    login(client, make_user(library="SRNU", roles=["library_admin"]))
    assert client.get("/libraries/NCU/imports").status_code == 403
    other = make_user(library="NCU", roles=["librarian"])
    client.post("/logout")
    login(client, other)
    assert client.get("/libraries/NCU/imports").status_code == 403
