"""Harvesting on a schedule: the library admin's page, the sweeper, and a scheduled run against
our own provider served on loopback, taken from the queue by a real RQ worker."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from jala import clock
from jala.audit import AuditEntry
from jala.catalog.importer import import_stream
from jala.catalog.readers import read_jsonl
from jala.extensions import db
from jala.jobs import queue, run_worker, sweep
from jala.protocols.harvest_schedule import (
    add_source,
    enqueue_due_harvests,
    run_scheduled_harvest,
    source_lock,
    url_refusal,
)
from jala.protocols.oai_models import OaiHarvestSource
from tests.support.browser import serving
from tests.support.factories import make_portal_admin, make_user
from tests.support.web import LIBRARY_CODES, as_user, main_of, post_form, visible_text

PAGE = "/libraries/JXUFE/harvest"
REPOSITORY = "https://oai.jxufe.example.edu.cn/oai"


def _source(url=REPOSITORY, **values):
    source = add_source(None, values.pop("library", "JXUFE"), url=url,
                        interval_hours=values.pop("interval_hours", 24))
    for name, value in values.items():
        setattr(source, name, value)
    db.session.flush()
    return source


def _actions(actor):
    return set(db.session.execute(select(AuditEntry.action).where(
        AuditEntry.actor_id == actor.id)).scalars())


# --- the page ------------------------------------------------------------------------------

def test_only_the_librarys_admin_or_a_portal_admin_sees_the_page(client, ctx):
    assert client.get(PAGE).status_code in (302, 303)  # to the login page
    source = _source()
    for stranger in (make_user(library="JXUFE"), make_user(library="JXUFE", roles=("librarian",)),
                     make_user(library="NCU", roles=("library_admin",))):
        browser = as_user(client.application.test_client(), stranger)
        assert browser.get(PAGE).status_code == 403
        for action in ("run", "pause", "remove"):
            assert post_form(browser, f"{PAGE}/{source.id}/{action}", {}).status_code == 403
        assert post_form(browser, PAGE, {"url": REPOSITORY + "2", "metadata_prefix": "marc21",
                                         "interval_hours": "6"}).status_code == 403
    for admin in (make_user(library="JXUFE", roles=("library_admin",)), make_portal_admin()):
        page = as_user(client.application.test_client(), admin).get(PAGE)
        assert page.status_code == 200 and REPOSITORY in page.get_data(as_text=True)
    assert db.session.get(OaiHarvestSource, source.id).paused is False


def test_the_admin_adds_a_source_and_it_is_due_at_once(client, ctx):
    admin = make_user(library="JXUFE", roles=("library_admin",))
    as_user(client, admin)
    response = post_form(client, PAGE, {"url": REPOSITORY, "set_spec": "theses",
                                        "metadata_prefix": "oai_dc", "interval_hours": "12"},
                         token_from=PAGE)
    assert response.status_code == 303
    source = db.session.execute(select(OaiHarvestSource).filter_by(url=REPOSITORY)).scalar_one()
    assert (source.set_spec, source.metadata_prefix, source.interval_hours) == \
        ("theses", "oai_dc", 12)
    assert source.next_run_at <= clock.now() and not source.paused
    page = visible_text(main_of(client.get(PAGE).get_data(as_text=True)))
    assert "Every 12 hours" in page and "Dublin Core" in page and "Not harvested yet" in page
    assert not LIBRARY_CODES.search(page)
    assert "harvest.source_added" in _actions(admin)


@pytest.mark.parametrize("url", ["ftp://oai.example.edu.cn/oai", "oai.example.edu.cn/oai",
                                 "javascript:alert(1)", "http://:80/oai", "http://h:x/oai"])
def test_only_http_addresses_are_taken(client, ctx, url):
    as_user(client, make_user(library="JXUFE", roles=("library_admin",)))
    response = post_form(client, PAGE, {"url": url, "metadata_prefix": "marc21",
                                        "interval_hours": "6"}, token_from=PAGE)
    assert response.status_code == 400
    assert "http://" in response.get_data(as_text=True)
    assert db.session.execute(select(OaiHarvestSource)).first() is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:5000/oai", "http://localhost/oai",
                                 "http://[::1]/oai", "http://169.254.169.254/latest/meta-data",
                                 "http://100.100.100.200/", "http://0.0.0.0/oai",
                                 "http://[::ffff:127.0.0.1]/oai"])
def test_production_refuses_local_and_metadata_addresses(ctx, monkeypatch, url):
    assert url_refusal(url) is None  # a developer's portal may harvest itself
    monkeypatch.setitem(ctx.config, "JALA_PRODUCTION", True)
    assert url_refusal(url)
    assert url_refusal("http://202.101.224.68/oai") is None  # a public address


def test_forms_need_their_csrf_token(client, ctx):
    as_user(client, make_user(library="JXUFE", roles=("library_admin",)))
    source = _source()
    db.session.commit()  # the refusal's error page rolls back what was not committed
    assert client.post(f"{PAGE}/{source.id}/pause").status_code == 400
    assert client.post(PAGE, data={"url": REPOSITORY + "2", "metadata_prefix": "marc21",
                                   "interval_hours": "6"}).status_code == 400
    assert not db.session.get(OaiHarvestSource, source.id).paused


def test_the_admin_changes_pauses_runs_and_removes_a_source(client, ctx, redis_service):
    admin = make_user(library="JXUFE", roles=("library_admin",))
    as_user(client, admin)
    source = _source(last_run_at=clock.now() - timedelta(hours=1))
    base = f"{PAGE}/{source.id}"

    assert post_form(client, base + "/interval", {"interval_hours": "48"},
                     token_from=PAGE).status_code == 303
    assert source.interval_hours == 48
    assert source.next_run_at == source.last_run_at + timedelta(hours=48)
    post_form(client, base + "/interval", {"interval_hours": "0"}, token_from=PAGE)
    assert source.interval_hours == 48  # refused, and the page says why
    assert "1 and" in client.get(PAGE).get_data(as_text=True)

    post_form(client, base + "/pause", {}, token_from=PAGE)
    assert source.paused and "Paused" in client.get(PAGE).get_data(as_text=True)
    post_form(client, base + "/run", {}, token_from=PAGE)
    assert source.enqueued_at is None  # a paused source is not harvested
    post_form(client, base + "/resume", {}, token_from=PAGE)
    assert not source.paused

    redis_service.clear()
    post_form(client, base + "/run", {}, token_from=PAGE)
    assert source.enqueued_at and source.next_run_at <= clock.now()
    assert [job.func_name for job in queue().jobs] == [
        "jala.protocols.harvest_schedule.run_scheduled_harvest_job"]
    assert "Waiting to start" in client.get(PAGE).get_data(as_text=True)
    redis_service.clear()

    assert post_form(client, base + "/remove", {}, token_from=PAGE).status_code == 303
    assert db.session.get(OaiHarvestSource, source.id) is None
    assert {"harvest.interval_changed", "harvest.paused", "harvest.resumed",
            "harvest.run_requested", "harvest.source_removed"} <= _actions(admin)


def test_a_source_of_another_library_is_not_found_here(client, ctx):
    as_user(client, make_user(library="JXUFE", roles=("library_admin",)))
    theirs = _source(library="NCU")
    assert post_form(client, f"{PAGE}/{theirs.id}/pause", {},
                     token_from=PAGE).status_code == 404
    assert not theirs.paused


# --- the sweeper ---------------------------------------------------------------------------

def test_the_sweeper_enqueues_only_due_sources_and_never_twice(ctx):
    now = clock.now()
    clock.freeze(now)
    due = _source(REPOSITORY + "/due", next_run_at=now - timedelta(minutes=1))
    lost = _source(REPOSITORY + "/lost", next_run_at=now - timedelta(hours=2),
                   enqueued_at=now - timedelta(hours=1))  # its job vanished with Redis
    later = _source(REPOSITORY + "/later", next_run_at=now + timedelta(minutes=1))
    paused = _source(REPOSITORY + "/paused", next_run_at=now, paused=True)
    waiting = _source(REPOSITORY + "/waiting", next_run_at=now,
                      enqueued_at=now - timedelta(minutes=1))  # its job waits in the queue
    by_hand = _source(REPOSITORY + "/by-hand", interval_hours=24)
    by_hand.interval_hours = by_hand.next_run_at = None
    running = _source(REPOSITORY + "/running", next_run_at=now - timedelta(hours=2),
                      enqueued_at=now - timedelta(hours=1))
    db.session.flush()
    with source_lock(running.id) as held:  # a worker harvests it
        assert held
        assert enqueue_due_harvests() == 2
        assert enqueue_due_harvests() == 0
    enqueued = {s.url for s in (due, lost, later, paused, waiting, by_hand, running)
                if s.enqueued_at == now}
    assert enqueued == {due.url, lost.url}


def test_two_sweepers_at_once_never_take_the_same_source(private_app):
    with private_app.app_context():
        source = _source(next_run_at=clock.now() - timedelta(minutes=1))
        db.session.commit()
        # the first sweep's transaction is open (its rows locked) when the second one runs
        assert enqueue_due_harvests() == 1
        other = db.engine.connect()
        locked = other.execute(text(
            "SELECT id FROM oai_harvest_sources WHERE id = :id FOR UPDATE SKIP LOCKED"),
            {"id": source.id}).first()
        assert locked is None
        other.rollback()
        db.session.commit()
        assert enqueue_due_harvests() == 0
        other.close()
        db.session.rollback()


# --- a scheduled run against our own provider ----------------------------------------------

RECORDS = 12


@pytest.fixture
def provider(private_app):
    """Our provider on loopback over 12 committed JXUFE records; yields ``(app, base URL)``."""
    lines = [json.dumps({"source_id": f"h{i}", "title": f"定时采集 {i}", "authors": [f"作者{i}"],
                         "year": 2010 + i, "holdings": [{"library": "JXUFE"}]},
                        ensure_ascii=False).encode() for i in range(RECORDS)]
    with private_app.app_context():
        import_stream(read_jsonl(lines), "JXUFE", format_name="jsonl")
    with serving(private_app) as base:
        private_app.config.update(PUBLIC_URL=base, OAI_PAGE_SIZE=5, OAI_SETTLE_SECONDS=0)
        yield private_app, base


def _ncu_records(app):
    with app.app_context():
        return db.session.execute(text(
            "SELECT count(*) FROM source_records s JOIN libraries l ON l.id = s.library_id "
            "WHERE l.code = 'NCU'")).scalar()


def test_a_scheduled_harvest_imports_the_records_and_sets_the_next_run(provider,
                                                                        redis_service):
    app, base = provider
    redis_service.clear()
    with app.app_context():
        source = add_source(None, "NCU", url=base + "/oai", metadata_prefix="oai_dc",
                            interval_hours=6)
        broken = add_source(None, "NCU", url=base + "/no-such-door", interval_hours=2)
        source.set_spec = "JXUFE"
        db.session.commit()
        ids = source.id, broken.id
        assert sweep()["enqueue_due_harvests"] == 2
        assert sweep()["enqueue_due_harvests"] == 0  # enqueued: not again
    run_worker(app, burst=True)
    assert _ncu_records(app) == RECORDS
    with app.app_context():
        source, broken = (db.session.get(OaiHarvestSource, i) for i in ids)
        assert source.last_counts["read"] == RECORDS and source.last_error is None
        assert source.next_run_at == source.last_run_at + timedelta(hours=6)
        assert source.enqueued_at is None and source.started_at is None
        assert source.last_datestamp
        # a failed run keeps its error and is due again an interval later
        assert "did not answer" in broken.last_error
        assert broken.next_run_at == broken.last_run_at + timedelta(hours=2)
        assert broken.enqueued_at is None and broken.started_at is None
        assert sweep()["enqueue_due_harvests"] == 0
        clock.advance(timedelta(hours=6, minutes=1))
        assert sweep()["enqueue_due_harvests"] == 2
    run_worker(app, burst=True)
    with app.app_context():
        again = db.session.get(OaiHarvestSource, ids[0])
        assert again.last_counts.get("created", 0) == 0 and again.last_error is None
    assert _ncu_records(app) == RECORDS


def test_production_never_harvests_a_local_address_even_one_stored_before(provider):
    app, base = provider
    with app.app_context():
        source = add_source(None, "NCU", url=base + "/oai", interval_hours=6)
        db.session.commit()
        source_id = source.id
    app.config["JALA_PRODUCTION"] = True
    try:
        with app.test_request_context("/?lang=en"):
            assert run_scheduled_harvest(source_id) == "failed"
            source = db.session.get(OaiHarvestSource, source_id)
            assert "local or internal addresses" in source.last_error
            assert source.next_run_at == source.last_run_at + timedelta(hours=6)
    finally:
        app.config["JALA_PRODUCTION"] = False
    assert _ncu_records(app) == 0
