"""A bad record (NUL, lone surrogate, over-long word) never costs the records around it."""
import io
import json

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from jala.catalog.models import ImportRun, Record, SourceRecord
from jala.cli import import_command
from jala.extensions import db
from jala.jobs import run_worker
from tests.catalog.test_upload import upload
from tests.support.catalog import import_lines
from tests.support.factories import make_user
from tests.support.web import login

BAD_LINES = {300: '{"source_id": "%s-nul", "title": "a\\u0000b"}',
             600: '{"source_id": "%s-surrogate", "title": "a\\ud800b"}',
             900: '{"source_id": "%s-long", "title": "long word", "abstract": "%s"}'}


def poisoned_jsonl(prefix):
    """1,000 good lines, and a NUL, a lone surrogate and a 3,000-byte word at 300, 600, 900."""
    lines, good = [], 0
    for number in range(1, 1004):
        if number in BAD_LINES:
            lines.append(BAD_LINES[number] % ((prefix,) if number != 900 else (prefix, "x" * 3000)))
        else:
            good += 1
            lines.append(json.dumps({"source_id": f"{prefix}-{good}",
                                     "title": f"毒文件里的好书 {prefix} {good}"},
                                    ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def adds_up(stats):
    return stats.read == (stats.created + stats.merged + stats.updated + stats.unchanged
                          + stats.skipped)


def test_cli_import_of_a_poisoned_file_lands_every_good_record_and_reports_the_bad(app,
                                                                                 tmp_path):
    path = tmp_path / "poisoned.jsonl"
    path.write_bytes(poisoned_jsonl("pcli"))
    result = app.test_cli_runner().invoke(import_command, [str(path), "--library", "JXAU",
                                                           "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "line 300: title holds a NUL character" in result.output
    assert "line 600: title holds a lone surrogate (U+D800)" in result.output
    assert "line 900: imported, but a word of 3000 bytes in abstract" in result.output
    assert "1003 read: 1001 new, 0 joined, 0 updated, 0 unchanged, " \
           "2 skipped" in result.output
    with app.app_context():
        landed = db.session.execute(select(func.count()).select_from(SourceRecord).where(
            SourceRecord.source_id.like("pcli-%"))).scalar()
        assert landed == 1001
        [long_one] = db.session.execute(select(Record).join(SourceRecord).where(
            SourceRecord.source_id == "pcli-long")).scalars()
        assert long_one.abstract == "x" * 3000  # the record keeps the word; the index leaves it


def test_uploaded_poisoned_file_ends_done_with_every_good_record_and_stops_polling(client,
                                                                                   app):
    login(client, make_user(library="SRNU", roles=["library_admin"]))
    response = upload(client, "SRNU", poisoned_jsonl("pweb"))
    assert response.status_code == 303
    run_worker(app, burst=True)
    db.session.expire_all()
    run = db.session.query(ImportRun).one()
    assert (run.status, run.read, run.created, run.skipped) == ("done", 1003, 1001, 2)
    assert run.read == run.created + run.merged + run.updated + run.unchanged + run.skipped
    assert [(e["position"], e.get("kept", False)) for e in run.errors] == [
        (300, False), (600, False), (900, True)]
    page = client.get(response.headers["Location"], headers={"HX-Request": "true"})
    html = page.get_data(as_text=True)
    assert "every 1s" not in html
    assert "NUL character" in html and "lone surrogate" in html and "3000 bytes" in html


def marc_xml(count, long_at):
    records = []
    for n in range(1, count + 1):
        abstract = ("<datafield tag=\"520\" ind1=\" \" ind2=\" \"><subfield code=\"a\">"
                    + "y" * 3000 + "</subfield></datafield>") if n == long_at else ""
        records.append(
            "<record><leader>00000nam a2200000 a 4500</leader>"
            f"<controlfield tag=\"001\">pmarc-{n}</controlfield>"
            "<datafield tag=\"245\" ind1=\"0\" ind2=\"0\">"
            f"<subfield code=\"a\">Poisoned MARC good book {n}</subfield></datafield>"
            f"{abstract}</record>")
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
            "<collection xmlns=\"http://www.loc.gov/MARC21/slim\">"
            + "".join(records) + "</collection>").encode()


def test_cli_import_of_marc_xml_with_a_3000_byte_word_lands_all_501(app, tmp_path):
    path = tmp_path / "poisoned.xml"
    path.write_bytes(marc_xml(501, long_at=250))
    result = app.test_cli_runner().invoke(import_command, [str(path), "--library", "NCU",
                                                           "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "record 250: imported, but a word of 3000 bytes in abstract" in result.output
    assert "501 read: 501 new" in result.output


def test_a_record_the_database_refuses_is_skipped_and_the_rest_of_its_batch_lands(ctx,
                                                                                monkeypatch):
    # without the tokeniser's own check, PostgreSQL refuses the tsvector of the long word:
    # the batch is written again record by record and only that one is left out
    monkeypatch.setattr("jala.search.tokens.is_too_long", lambda word: False)
    records = [{"source_id": f"ref-{i}", "title": f"被拒的批次 {i}"} for i in range(40)]
    records[17] = {"source_id": "ref-long", "title": "long", "abstract": "z" * 3000}
    stats = import_lines(records, batch_size=50)
    assert (stats.read, stats.created, stats.skipped) == (40, 39, 1) and adds_up(stats)
    [error] = stats.errors
    assert error["position"] == 18 and "the database refused it" in error["reason"]
    again = import_lines(records, batch_size=50)
    assert (again.unchanged, again.skipped) == (39, 1) and adds_up(again)


def test_an_upload_mends_the_search_indexes_a_killed_bulk_load_left_out(private_app):
    from jala.catalog.bulk import drop_search_indexes, search_indexes
    from jala.catalog.service import start_upload_import
    from jala.catalog.tasks import run_import_job
    from tests.catalog.test_cli_import import _index_names

    with private_app.test_request_context("/"):
        drop_search_indexes()
        admin = make_user(library="JXAU", roles=["library_admin"])
        data = b'{"source_id": "mend-1", "title": "\xe4\xbf\xae\xe5\xa4\x8d"}\n'
        run = start_upload_import(admin, "JXAU", FileStorage(io.BytesIO(data), "one.jsonl"))
        db.session.commit()
        run_id = run.id
    assert not {index.name for index in search_indexes()} <= _index_names(private_app)
    with private_app.app_context():
        assert run_import_job(run_id) == "done"
    assert {index.name for index in search_indexes()} <= _index_names(private_app)
