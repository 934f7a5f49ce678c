"""Joint procurement pages over HTTP: who sees the buying list, HTMX pledges, rounds, CSRF."""
import pytest
from sqlalchemy import select

from jala.catalog.models import Holding
from jala.extensions import db
from jala.procurement import joint_pledges as pledges
from jala.procurement import services as procurement
from jala.procurement.joint_models import Pledge, ProcurementRound
from tests.support.factories import add_record, library_id, make_portal_admin, make_user
from tests.support.web import HTMX, as_user, csrf_token, other_client, post_form, visible_text

ISBN = "9787301046067"
KEY = f"isbn:{ISBN}"


@pytest.fixture
def reader(client):
    return make_user(library="JXUFE", name="李小红")


@pytest.fixture
def librarian(client):
    return make_user(library="JXUFE", roles=("librarian",))


@pytest.fixture
def demand(reader):
    return procurement.suggest_purchase(reader, title="江西通史", isbn=ISBN)


def test_readers_and_visitors_do_not_see_the_buying_list(client, reader):
    assert client.get("/procurement").status_code == 302
    as_user(client, reader)
    assert client.get("/procurement").status_code == 403
    assert client.get("/procurement/rounds").status_code == 403


def test_staff_see_demand_per_source_and_filter_it(client, librarian, demand):
    as_user(client, librarian)
    page = visible_text(client.get("/procurement").get_data(as_text=True))
    assert "江西通史" in page and "Wanted 1 times" in page
    assert "Readers' purchase suggestions 1" in page
    assert "李小红" not in page  # counts, never readers
    fragment = client.get("/procurement?source=search", headers={**HTMX,
                                                                  "HX-Target": "buying-list"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "江西通史" not in fragment.get_data(as_text=True)


def test_a_librarian_pledges_with_htmx_and_gets_the_line_back(client, librarian, demand):
    as_user(client, librarian)
    response = post_form(client, "/procurement/pledges",
                         {"key": KEY, "library_id": library_id("JXUFE"), "kind": "share",
                          "amount": "88.5"}, token_from="/procurement", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "shares the cost" in html and "88.50" in html
    refused = post_form(client, "/procurement/pledges",
                        {"key": KEY, "library_id": library_id("JXUFE"), "kind": "buy",
                         "amount": "10"}, token_from="/procurement", headers=HTMX)
    assert "pledged for this title already" in refused.get_data(as_text=True)


def test_a_pledge_without_the_csrf_token_is_refused(client, librarian, demand):
    as_user(client, librarian)
    response = client.post("/procurement/pledges", data={
        "key": KEY, "library_id": library_id("JXUFE"), "kind": "buy", "amount": "10"})
    assert response.status_code == 400
    assert db.session.execute(select(Pledge)).first() is None


def test_a_librarian_of_another_library_cannot_withdraw_the_pledge(client, librarian, demand):
    row = pledges.pledge(librarian, KEY, library_id=library_id("JXUFE"), kind="buy",
                         amount=10)
    other = other_client(client, make_user(library="NCU", roles=("librarian",)))
    response = post_form(other, f"/procurement/pledges/{row.id}/withdraw", {},
                         token_from="/procurement")
    assert response.status_code == 404
    assert row.status == "active"


def test_the_centre_opens_orders_and_receives_a_round_through_the_pages(
        client, librarian, demand):
    record = add_record("jx-history", ["NCU"], title="江西通史", isbn=ISBN)
    row = pledges.pledge(librarian, KEY, library_id=library_id("JXUFE"), kind="buy",
                         amount=100)
    centre = make_portal_admin()
    as_user(client, centre)
    token = csrf_token(client, "/procurement/rounds")
    response = client.post("/procurement/rounds", data={
        "csrf_token": token, "name": "2027 spring", "title_id": [row.title_id]})
    assert response.status_code == 303
    round_ = db.session.execute(select(ProcurementRound)).scalar_one()
    page = f"/procurement/rounds/{round_.id}"
    assert "2027 spring" in client.get(page).get_data(as_text=True)
    assert client.post(f"{page}/order", data={"csrf_token": token}).status_code == 303
    response = client.post(f"/procurement/titles/{row.title_id}/receive",
                           data={"csrf_token": token, "call_number": "K295.6"})
    assert response.status_code == 303
    text = visible_text(client.get(page).get_data(as_text=True))
    assert "received" in text and "In the union catalogue" in text
    assert db.session.execute(select(Holding).where(
        Holding.record_id == record.id,
        Holding.library_id == library_id("JXUFE"))).scalar_one().call_number == "K295.6"


def test_staff_cannot_take_the_centres_steps(client, librarian, demand):
    row = pledges.pledge(librarian, KEY, library_id=library_id("JXUFE"), kind="buy",
                         amount=100)
    as_user(client, librarian)
    response = post_form(client, "/procurement/rounds",
                         {"name": "mine", "title_id": row.title_id}, token_from="/procurement")
    assert response.status_code == 403


def test_the_record_page_links_to_the_suggestion_form_with_the_record(client, reader):
    record = add_record("jx-history", ["NCU"], title="江西通史", isbn=ISBN,
                        publisher="江西人民出版社")
    as_user(client, reader)
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert "/purchase/suggest?" in page and f"isbn={ISBN}" in page
    assert "Suggest your library buy it" in page


def test_withdrawing_with_htmx_gives_the_line_back_with_the_pledge_form(
        client, librarian, demand):
    row = pledges.pledge(librarian, KEY, library_id=library_id("JXUFE"), kind="buy",
                         amount=10)
    as_user(client, librarian)
    html = post_form(client, f"/procurement/pledges/{row.id}/withdraw", {"key": KEY},
                     token_from="/procurement", headers=HTMX).get_data(as_text=True)
    assert "<html" not in html and "Withdraw the pledge" not in html
    assert "Pledge for this title" in html and row.status == "withdrawn"
