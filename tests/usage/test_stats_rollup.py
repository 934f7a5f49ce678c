"""Every service's events reach the monthly roll-up, and its figures are the tables' counts."""
from datetime import timedelta

import pytest
from sqlalchemy import text

from jala import clock
from jala.accounts.services import register_user
from jala.delivery import services as delivery
from jala.extensions import db
from jala.loans import cards, ill, union
from jala.reference import services as reference
from jala.stats import window
from jala.usage.figures import monthly_figures
from jala.usage.models import UsageEvent
from jala.usage.rollup import MEASURES, refresh, refresh_usage_rollup
from tests.support.factories import add_record, copy_at, library_id, make_user
from tests.support.reference import join_group
from tests.support.web import as_user

MONTH = "to_char(date_trunc('month', {0} AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM')"


@pytest.fixture
def language():
    return "en"


def direct(sql, **params):
    """``{month: n}`` from a query of (month, n) rows."""
    return {month: n for month, n in db.session.execute(text(sql), params).all()}


def counts_from_the_tables(library=None):
    """Each measure counted straight from its service's tables (not through the roll-up)."""
    lib = "" if library is None else f" AND {{col}} = {library}"
    by = {
        "searches": f"SELECT {MONTH.format('at')}, count(*) FROM search_log WHERE true"
                    f"{lib.format(col='library_id')} GROUP BY 1",
        "zero_hit_searches": f"SELECT {MONTH.format('at')}, count(*) FROM search_log "
                             f"WHERE hits = 0{lib.format(col='library_id')} GROUP BY 1",
        "registrations": f"SELECT {MONTH.format('created_at')}, count(*) FROM users WHERE true"
                         f"{lib.format(col='home_library_id')} GROUP BY 1",
        "ill_lent": f"SELECT {MONTH.format('e.at')}, count(*) FROM ill_events e JOIN ill_requests r"
                    f" ON r.id = e.request_id WHERE e.to_status = 'shipped'"
                    f"{lib.format(col='r.lending_library_id')} GROUP BY 1",
        "ill_borrowed": f"SELECT {MONTH.format('e.at')}, count(*) FROM ill_events e JOIN "
                        f"ill_requests r ON r.id = e.request_id WHERE e.to_status = 'shipped'"
                        f"{lib.format(col='r.home_library_id')} GROUP BY 1",
        "union_lent": f"SELECT {MONTH.format('borrowed_at')}, count(*) FROM union_loans WHERE true"
                      f"{lib.format(col='lending_library_id')} GROUP BY 1",
        "union_borrowed": f"SELECT {MONTH.format('u.borrowed_at')}, count(*) FROM union_loans u "
                          f"JOIN interlibrary_cards c ON c.id = u.card_id WHERE true"
                          f"{lib.format(col='c.library_id')} GROUP BY 1",
        "delivery_received": f"SELECT {MONTH.format('at')}, count(*) FROM delivery_events "
                             f"WHERE kind = 'routed'{lib.format(col='library_id')} GROUP BY 1",
        "delivery_fulfilled": f"SELECT {MONTH.format('at')}, count(*) FROM delivery_events "
                              f"WHERE kind = 'fulfilled'{lib.format(col='library_id')} GROUP BY 1",
        "reference_questions": f"SELECT {MONTH.format('created_at')}, count(*) "
                               f"FROM reference_questions GROUP BY 1" if library is None else None,
        "reference_answered": f"SELECT {MONTH.format('created_at')}, count(*) "
                              f"FROM reference_questions WHERE first_response_at IS NOT NULL "
                              f"GROUP BY 1" if library is None else None,
    }
    for kind, measure in (("record_view", "record_views"), ("link_click", "link_clicks"),
                          ("sign_in", "sign_ins")):
        by[measure] = (f"SELECT {MONTH.format('at')}, count(*) FROM usage_events "
                       f"WHERE kind = '{kind}'{lib.format(col='library_id')} GROUP BY 1")
    return {measure: direct(sql) for measure, sql in by.items() if sql}


@pytest.fixture
def busy_month(client, ctx):
    """A month of use across the services, made through the services themselves."""
    ncu_staff = make_user(library="NCU", roles=("librarian",))
    jxufe_staff = make_user(library="JXUFE", roles=("librarian",))
    ecjtu_staff = make_user(library="ECJTU", roles=("librarian",))
    reader = make_user(library="JXUFE")
    book = add_record("usage-book", ["NCU", "ECJTU"], title="赣鄱文化研究", page_count=300,
                      url="https://books.example.edu.cn/ganpo")
    # searches (one that finds nothing), record views and a full-text link, by a signed-in
    # reader (sign-in) and by a visitor
    browser = as_user(client, reader)
    browser.get("/search?q=赣鄱文化")
    browser.get("/search?q=zzqqxxnothing")
    browser.get(f"/records/{book.id}")
    assert browser.get(f"/records/{book.id}/full-text/online").status_code == 302
    visitor = client.application.test_client()
    visitor.get("/search?q=zzqqxxnothing")
    visitor.get(f"/records/{book.id}")
    # a registration
    register_user(email="new.reader@example.edu.cn", password="a long enough passphrase 42",
                  display_name="新读者", library_code="NCU", card_number="NCU12345")
    # delivery: received and fulfilled at NCU
    req = delivery.submit_request(reader, kind="book_part", title=book.title, record_id=book.id,
                                  pages="1-10")
    routed_to = req.library_id
    staff_of = {library_id("NCU"): ncu_staff, library_id("ECJTU"): ecjtu_staff}
    delivery.fulfil_request(staff_of[routed_to], req.id, url="https://files.example.edu.cn/a.pdf")
    # ILL: NCU lends to JXUFE's reader
    loan = ill.request_loan(reader, copy_at(book, "NCU").id)
    ill.approve(ncu_staff, loan.id)
    ill.ship(ncu_staff, loan.id)
    # union borrowing: the JXUFE card holder borrows at ECJTU
    card = cards.approve_card(jxufe_staff, cards.apply_for_card(reader).id)
    union.lend(ecjtu_staff, library_id("ECJTU"), card_code=card.code, item_barcode="U1")
    # reference: a question asked and answered by NCU
    join_group(ncu_staff)
    question = reference.ask_question(reader, subject="查找地方志",
                                      body="请问哪里能查到南昌地方志？")
    reference.answer_question(ncu_staff, question.id, "可以在南昌大学图书馆地方文献室查到。")
    db.session.flush()
    return {"reader": reader, "book": book, "browser": browser}


def test_every_source_reaches_the_roll_up(busy_month):
    refresh()
    span = window(12)
    figures = monthly_figures(None, span.since, span.until)
    month = clock.local_today().strftime("%Y-%m")
    for measure in MEASURES:
        assert figures[measure].get(month, 0) >= 1, measure
    assert figures["zero_hit_searches"][month] >= 2  # the reader's and the visitor's


def test_the_roll_up_equals_counts_taken_from_the_tables(busy_month):
    refresh()
    span = window(2)
    months = {clock.first_of_month_back(2).strftime("%Y-%m"), clock.local_today().strftime("%Y-%m")}
    rolled = monthly_figures(None, span.since, span.until)
    for measure, counted in counts_from_the_tables().items():
        expected = {m: n for m, n in counted.items() if m in months}
        assert rolled[measure] == expected, measure


def test_a_librarys_figures_are_its_own(busy_month):
    refresh()
    span = window(2)
    months = {clock.first_of_month_back(2).strftime("%Y-%m"), clock.local_today().strftime("%Y-%m")}
    for code in ("JXUFE", "NCU", "ECJTU"):
        rolled = monthly_figures(library_id(code), span.since, span.until)
        for measure, counted in counts_from_the_tables(library_id(code)).items():
            assert rolled[measure] == {m: n for m, n in counted.items() if m in months}, \
                (code, measure)
    jxufe = monthly_figures(library_id("JXUFE"), span.since, span.until)
    month = clock.local_today().strftime("%Y-%m")
    assert jxufe["ill_borrowed"][month] == 1 and jxufe["union_borrowed"][month] == 1
    ncu = monthly_figures(library_id("NCU"), span.since, span.until)
    assert ncu["ill_lent"][month] == 1 and ncu["reference_answered"][month] == 1


def test_a_visitors_search_counts_for_the_alliance_not_a_library(busy_month):
    rows = db.session.execute(text(
        "SELECT library_id FROM search_log WHERE query = 'zzqqxxnothing' ORDER BY id")).scalars()
    assert list(rows) == [library_id("JXUFE"), None]


def test_the_sweeper_refreshes_at_most_every_ten_minutes(busy_month):
    assert refresh_usage_rollup() == 1
    assert refresh_usage_rollup() == 0
    clock.advance(timedelta(minutes=11))
    assert refresh_usage_rollup() == 1


def test_refreshing_again_replaces_the_months_figures(busy_month):
    refresh()
    refresh()
    dupes = db.session.execute(text(
        "SELECT count(*) FROM (SELECT month, library_id, measure FROM usage_monthly "
        "GROUP BY 1, 2, 3 HAVING count(*) > 1) d")).scalar()
    assert dupes == 0


def test_usage_events_never_name_a_reader(busy_month):
    reader = busy_month["reader"]
    columns = {c for c, in db.session.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'usage_events'"))}
    assert not columns & {"user_id", "reader_id", "ip", "email"}
    keys = db.session.execute(text("SELECT session_key FROM usage_events")).scalars().all()
    assert all(k is None or (len(k) == 32 and str(reader.id) != k) for k in keys)


def test_the_roll_up_is_a_sweep_task():
    from jala.jobs import _sweep_tasks
    assert refresh_usage_rollup in _sweep_tasks


def test_a_visitors_session_key_is_the_same_all_day_and_new_the_next(app):
    from jala.usage.events import session_key
    headers = {"User-Agent": "phone"}
    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.9"}):
        first = session_key()
    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.9"}):
        assert session_key() == first and "10.0.0.9" not in first
    clock.advance(timedelta(days=1))
    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.9"}):
        assert session_key() != first


def test_session_keys_use_their_own_secret_not_secret_key_itself(app):
    """An HMAC under SECRET_KEY of the session id could be recomputed from the sessions table;
    the key is made under a secret derived for this purpose alone."""
    import hashlib
    import hmac

    from jala.usage.events import session_key, session_key_secret
    with app.test_request_context("/", headers={"User-Agent": "phone"},
                                  environ_base={"REMOTE_ADDR": "10.0.0.9"}):
        key = session_key()
        material = f"v:10.0.0.9|phone|{clock.local_today().isoformat()}".encode()
        plain = hmac.new(app.config["SECRET_KEY"].encode(), material, hashlib.sha256)
        assert key != plain.hexdigest()[:32]
        assert session_key_secret() != app.config["SECRET_KEY"].encode()
        assert key == hmac.new(session_key_secret(), material, hashlib.sha256).hexdigest()[:32]


def test_the_sweep_clears_session_keys_older_than_the_previous_month(ctx):
    previous = clock.first_of_month_back(2)
    older = clock.first_of_month_back(3)
    events = [UsageEvent(at=clock.start_of_day(day) + timedelta(hours=10), kind="record_view",
                         record_id=1, library_id=library_id("NCU"), session_key=key)
              for day, key in ((older, "old-key"), (previous, "last-month-key"),
                               (clock.local_today(), "this-month-key"))]
    db.session.add_all(events)
    db.session.flush()
    assert refresh_usage_rollup() == 1
    keys = db.session.execute(text("SELECT session_key FROM usage_events WHERE id = ANY(:ids) "
                                   "ORDER BY at"), {"ids": [e.id for e in events]}).scalars()
    assert list(keys) == [None, "last-month-key", "this-month-key"]


def test_the_sweep_recomputes_the_last_three_months(ctx):
    three_back = clock.first_of_month_back(3)
    db.session.add(UsageEvent(at=clock.start_of_day(three_back) + timedelta(hours=10),
                              kind="record_view", record_id=1, library_id=library_id("NCU")))
    db.session.flush()
    assert refresh_usage_rollup() == 1
    month = three_back.strftime("%Y-%m")
    assert monthly_figures(library_id("NCU"), *window(3)[2:])["record_views"] == {month: 1}


def test_registering_writes_no_usage_event(ctx):
    """The roll-up counts registrations from accounts; an event nothing reads is not kept."""
    def events():
        return db.session.execute(text("SELECT count(*) FROM usage_events")).scalar()

    before = events()
    register_user(email="quiet.reader@example.edu.cn", password="a long enough passphrase 42",
                  display_name="新读者", library_code="NCU", card_number="NCU54321")
    assert events() == before


def test_jala_usage_refresh_recomputes_every_month_from_the_one_given(app, ctx):
    from jala.usage.cli import usage
    first = clock.first_of_month_back(6)
    db.session.add(UsageEvent(at=clock.start_of_day(first) + timedelta(hours=10),
                              kind="link_click", record_id=1, library_id=library_id("NCU")))
    db.session.flush()
    result = app.test_cli_runner().invoke(usage, ["refresh", "--from", first.strftime("%Y-%m")])
    assert result.exit_code == 0, result.output
    assert "6 months recomputed" in result.output
    months = db.session.execute(text(
        "SELECT to_char(month, 'YYYY-MM') FROM usage_monthly WHERE measure = 'link_clicks' "
        "AND library_id = :library"), {"library": library_id("NCU")}).scalars().all()
    assert months == [first.strftime("%Y-%m")]


@pytest.mark.parametrize("given", ["2026", "2026-13", "next-month", "2999-01"])
def test_jala_usage_refresh_refuses_what_is_not_a_begun_month(app, ctx, given):
    from jala.usage.cli import usage
    result = app.test_cli_runner().invoke(usage, ["refresh", "--from", given])
    assert result.exit_code == 2 and "--from" in result.output


def test_the_usage_command_is_registered_on_jala():
    from jala.cli import cli
    assert "refresh" in cli.commands["usage"].commands
