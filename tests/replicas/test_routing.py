"""Searches, record pages and the JSON API read from a real streaming standby; writes do not.

Replay on the standby is paused (``pg_wal_replay_pause``) to tell the two servers apart: what
the primary committed since is on the primary only, so a read that finds it came from the
primary, and one that misses it came from the standby.
"""
import logging
import threading

from sqlalchemy import event, select, text

from jala.catalog.models import Holding
from jala.extensions import db
from jala.replicas import reads_only
from tests.replicas.helpers import (
    add_reader,
    add_record,
    hits,
    paused_replay,
    search_log_count,
    sql,
    word,
)
from tests.support.web import as_user, main_of, post_form, visible_text
from tests.support.workers import wait_for


def test_only_reads_may_go_to_a_replica():
    assert reads_only(select(Holding))
    assert not reads_only(select(Holding).with_for_update())
    assert reads_only(text("SET LOCAL work_mem = '32MB'"))
    assert reads_only(text("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off"))
    assert reads_only(text("EXPLAIN (FORMAT JSON) SELECT 1 FROM records WHERE updated_at > now()"))
    assert reads_only(text("WITH r AS (SELECT id FROM records) SELECT count(*) FROM r"))
    assert not reads_only(text("WITH gone AS (DELETE FROM holds RETURNING id) SELECT 1"))
    assert not reads_only(text("SELECT 1; INSERT INTO search_log (query) VALUES ('x')"))
    assert not reads_only(text("SELECT nextval('records_id_seq')"))
    assert not reads_only(text("SELECT pg_advisory_xact_lock(1)"))
    assert not reads_only(text("UPDATE records SET title = 'x'"))
    assert not reads_only(None)


QUERIES = ["图书馆", "图书馆学概论", "发站报告", "高校图书馆服务", "zgfzbg", "tushuguan",
           '"数字图书馆"', "图书馆 -数字", "title:图书馆", "year:2015..2021", "978-7-04-024765-7",
           "圖書館學", "Lyapunov", "lyapnov stabilty", "图书馆&sort=year", "&type=book",
           "图书馆&library=NCU&type=thesis", "图书馆&page=500", "xqzv"]


def test_every_kind_of_search_answers_the_same_from_the_standby(portal, portal_factory,
                                                                clusters, caplog):
    primary, standby = clusters
    primary.wait_caught_up(standby)
    on_primary, on_standby = portal_factory(replicas=[]).test_client(), portal.test_client()
    caplog.set_level(logging.INFO, logger="jala.replicas")
    replicas = portal.extensions["jala.replicas"]
    read_there = []
    event.listen(replicas.replicas[0].engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: read_there.append(statement))
    for query in QUERIES:
        wanted = on_primary.get(f"/api/v1/search?q={query}").get_json()
        got = on_standby.get(f"/api/v1/search?q={query}").get_json()
        for answer in (wanted, got):
            answer.pop("took_ms", None)
        assert got == wanted, query
    assert on_standby.get("/api/v1/suggest?q=tu").get_json() == \
        on_primary.get("/api/v1/suggest?q=tu").get_json()
    assert any("records" in statement for statement in read_there)
    assert any(statement.startswith("SAVEPOINT") for statement in read_there)
    assert "reading again from the primary" not in caplog.text


def test_searches_read_from_the_standby_and_log_on_the_primary(portal, clusters):
    primary, standby = clusters
    client = portal.test_client()
    seen_later = word()
    with paused_replay(standby):
        add_record(portal, f"{seen_later} replicated study")
        assert hits(client, seen_later) == 0  # the standby has not replayed it
        page = client.get(f"/search?q={seen_later}").get_data(as_text=True)
        assert "replicated study" not in page
        assert client.get(f"/search?q={seen_later}", headers={"HX-Request": "true"}
                          ).status_code == 200
        # the log of those searches is written on the primary, not on the standby
        assert search_log_count(primary, seen_later) == 3
        assert search_log_count(standby, seen_later) == 0
    primary.wait_caught_up(standby)
    assert hits(client, seen_later) == 1
    assert search_log_count(primary, seen_later) == 4


def test_record_pages_and_the_record_api_read_from_the_standby(portal, clusters, caplog):
    caplog.set_level(logging.INFO, logger="jala.replicas")
    primary, standby = clusters
    old, new = word(), word()
    record_id = add_record(portal, f"{old} first title")
    primary.wait_caught_up(standby)
    client = portal.test_client()
    with paused_replay(standby):
        sql(primary, "UPDATE records SET title = %s WHERE id = %s", (f"{new} second title",
                                                                     record_id))
        page = client.get(f"/records/{record_id}").get_data(as_text=True)
        assert old in page, (visible_text(main_of(page))[:500], caplog.text,
                             [(r.ok, r.error, r.lag_seconds) for r in
                              portal.extensions["jala.replicas"].replicas])
        assert client.get(f"/api/v1/records/{record_id}").get_json()["title"] == \
            f"{old} first title"
        # the page's visit is counted on the primary
        assert sql(primary, "SELECT count(*) FROM usage_events WHERE record_id = %s "
                            "AND kind = 'record_view'", (record_id,))[0][0] == 1
    primary.wait_caught_up(standby)
    assert new in client.get(f"/records/{record_id}").get_data(as_text=True)


def test_a_record_the_standby_has_not_yet_is_read_from_the_primary(portal, clusters):
    _, standby = clusters
    with paused_replay(standby):
        title = f"{word()} brand new"
        record_id = add_record(portal, title)
        client = portal.test_client()
        assert title in client.get(f"/records/{record_id}").get_data(as_text=True)
        assert client.get(f"/api/v1/records/{record_id}").get_json()["title"] == title


def test_a_reader_sees_their_own_hold_at_once_while_others_read_the_standby(portal, clusters):
    primary, standby = clusters
    reader = add_reader(portal)
    title = f"{word()} to hold"
    record_id = add_record(portal, title)
    with portal.app_context():
        holding_id = db.session.execute(select(Holding.id).where(
            Holding.record_id == record_id)).scalar_one()
    client = as_user(portal.test_client(), reader)  # logging in writes: the standby catches up
    primary.wait_caught_up(standby)
    stranger = portal.test_client()
    elsewhere = word()
    with paused_replay(standby):
        add_record(portal, f"{elsewhere} committed while paused")
        assert hits(client, elsewhere) == 0  # the reader reads from the standby too

        response = post_form(client, "/loans/holds", {"holding_id": holding_id})
        assert response.status_code == 303
        page = client.get(f"/records/{record_id}").get_data(as_text=True)
        assert "Your hold:" in page  # their own write, at once
        assert hits(client, elsewhere) == 1  # from the primary, until the standby is past it
        assert hits(stranger, elsewhere) == 0  # everyone else still reads the standby
        assert sql(standby, "SELECT count(*) FROM holds WHERE reader_id = %s",
                   (reader.id,))[0][0] == 0
    primary.wait_caught_up(standby)
    wait_for(lambda: "Your hold:" in client.get(f"/records/{record_id}").get_data(as_text=True))


def test_a_standby_lagging_past_the_setting_is_skipped_and_reported(portal_factory, clusters,
                                                                    catalogue):
    primary, standby = clusters
    portal = portal_factory(max_lag=1.0)
    client = portal.test_client()
    fresh = word()
    with paused_replay(standby):
        add_record(portal, f"{fresh} while lagging")
        # a moment later the standby is more than a second behind: the primary answers
        wait_for(lambda: hits(client, fresh) == 1, what="the search to skip the standby")
        response = client.get("/healthz")
        assert response.status_code == 200
        (state,) = response.get_json()["replicas"]
        assert state["name"] == f"127.0.0.1:{standby.port}"
        assert state["lag_seconds"] > 1 and state["ok"] is False
        assert state["error"] == "lagging" and state["lag_bytes"] > 0
    primary.wait_caught_up(standby)
    wait_for(lambda: client.get("/healthz").get_json()["replicas"][0]["ok"],
             what="the standby to be used again")
    assert client.get("/healthz").get_json()["replicas"][0]["lag_seconds"] < 1


def test_a_standby_dying_inside_a_search_is_read_again_on_the_primary(portal, clusters):
    primary, standby = clusters
    query = word()
    add_record(portal, f"{query} survives")
    primary.wait_caught_up(standby)
    replicas = portal.extensions["jala.replicas"]
    killed = []

    def kill_own_backend(conn, cursor, statement, parameters, context, executemany):
        if not killed and "work_mem" in statement:
            pid = conn.connection.dbapi_connection.info.backend_pid
            sql(standby, "SELECT pg_terminate_backend(%s)", (pid,))
            killed.append(pid)

    engine = replicas.replicas[0].engine
    event.listen(engine, "before_cursor_execute", kill_own_backend)
    try:
        response = portal.test_client().get(f"/api/v1/search?q={query}")
    finally:
        event.remove(engine, "before_cursor_execute", kill_own_backend)
    assert killed, "the search did not reach the standby"
    assert response.status_code == 200 and response.get_json()["total"] == 1
    assert search_log_count(primary, query) == 1  # the first try's row was rolled back
    # the next check, made by a later search, finds it answering again
    client = portal.test_client()
    wait_for(lambda: hits(client, query) == 1 and replicas.usable(),
             what="the standby to be checked again")


def test_stopping_the_standby_during_a_burst_of_searches_fails_no_request(portal_factory,
                                                                           clusters, catalogue):
    primary, _ = clusters
    doomed = primary.make_standby(name="doomed")
    statuses, stop, threads = [], threading.Event(), []
    try:
        primary.wait_caught_up(doomed)
        portal = portal_factory(replicas=[doomed])
        record_id = add_record(portal, f"{word()} burst")
        primary.wait_caught_up(doomed)
        paths = ["/api/v1/search?q=图书馆", "/search?q=数字图书馆", f"/records/{record_id}",
                 "/api/v1/suggest?q=tu", f"/api/v1/records/{record_id}"]
        read_there = []
        event.listen(portal.extensions["jala.replicas"].replicas[0].engine,
                     "before_cursor_execute",
                     lambda _c, _cur, statement, *_: "records" in statement and
                     read_there.append(1))

        def reader(n):
            client = portal.test_client()
            turn = n
            while not stop.is_set():
                try:
                    statuses.append(client.get(paths[turn % len(paths)]).status_code)
                except Exception as error:  # what a reader would see as a failure
                    statuses.append(repr(error))
                turn += 1

        threads += [threading.Thread(target=reader, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        # the standby serves the burst …
        wait_for(lambda: len(read_there) >= 10 and len(statuses) >= 10, timeout=30,
                 what="the standby to serve searches")
        before = len(statuses)
        doomed.stop("immediate")  # … until it stops in the middle of it
        wait_for(lambda: len(statuses) > before + 10, timeout=60,
                 what="searches after the standby stopped")
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert len(statuses) > before + 10
        assert [s for s in statuses if s != 200] == []
        (state,) = portal.test_client().get("/healthz").get_json()["replicas"]
        assert state["ok"] is False and state["error"]
        assert portal.test_client().get("/healthz").status_code == 200
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        doomed.remove()


def test_without_replica_urls_everything_is_on_the_primary(portal_factory, clusters, catalogue):
    _, standby = clusters
    portal = portal_factory(replicas=[])
    assert portal.extensions["jala.replicas"] is None
    client = portal.test_client()
    fresh = word()
    with paused_replay(standby):
        record_id = add_record(portal, f"{fresh} primary only")
        assert hits(client, fresh) == 1
        assert fresh in client.get(f"/records/{record_id}").get_data(as_text=True)
    assert "replicas" not in client.get("/healthz").get_json()


def test_a_standby_cut_off_from_the_primary_counts_as_lagging(portal_factory, clusters,
                                                               catalogue):
    primary, _ = clusters
    cut_off = primary.make_standby(name="cut-off")
    try:
        primary.wait_caught_up(cut_off)
        portal = portal_factory(replicas=[cut_off], max_lag=1.0)
        client = portal.test_client()
        assert hits(client, "图书馆") > 0
        # streaming stops: the standby receives nothing more, so it has nothing to replay
        # and PostgreSQL's own measure of its lag reads 0
        sql(cut_off, "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1'")
        sql(cut_off, "SELECT pg_reload_conf()")
        wait_for(lambda: not sql(cut_off, "SELECT count(*) FROM pg_stat_wal_receiver "
                                          "WHERE status = 'streaming'")[0][0],
                 what="streaming to stop")
        fresh = word()
        add_record(portal, f"{fresh} not streamed")
        wait_for(lambda: hits(client, fresh) == 1, what="the search to skip the standby")
        (state,) = client.get("/healthz").get_json()["replicas"]
        assert state["ok"] is False and state["lag_seconds"] > 1 and state["lag_bytes"] > 0
    finally:
        cut_off.remove()
