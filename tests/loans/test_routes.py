"""Loans pages over HTTP: the record panel, the reader's pages, queues with HTMX, the QR card."""
import io
import re

import pytest
import segno
from sqlalchemy import select

from jala import clock
from jala.extensions import db
from jala.loans import cards, holds, ill, union
from jala.loans.models import Hold, IllRequest
from jala.membership import get_library
from jala.urls import external_url
from tests.support.factories import add_record, copy_at, make_user
from tests.support.web import HTMX, as_user, post_form


@pytest.fixture
def book(client):
    return add_record("web-loans-1", ["JXUFE", "NCU", "ECJTU"], title="江西通志稿")


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def requests_of(user):
    return db.session.execute(select(IllRequest).where(
        IllRequest.reader_id == user.id)).scalars().all()


# --- the record page ---------------------------------------------------------------------------

def test_a_visitor_is_asked_to_log_in_to_borrow(client, book):
    html = page(client, f"/records/{book.id}")
    assert 'id="borrow"' in html and "/login?next=" in html
    assert "Place a hold" not in html and "Request by interlibrary loan" not in html
    assert client.get("/loans").status_code == 302


def test_a_reader_sees_a_hold_for_the_home_copy_and_ill_for_the_others(client, book):
    as_user(client, make_user(library="JXUFE"))
    html = page(client, f"/records/{book.id}")
    home = re.search(r'id="borrow-(\d+)" data-library="JXUFE".*?</li>', html, re.S).group(0)
    assert "Place a hold" in home and "interlibrary loan" not in home
    for code in ("NCU", "ECJTU"):
        row = re.search(rf'data-library="{code}".*?</li>', html, re.S).group(0)
        assert "Request by interlibrary loan" in row
        assert f'name="holding_id" value="{copy_at(book, code).id}"' in row


@pytest.mark.parametrize("kind, message", [
    ("public", "Public users cannot borrow"),
    ("unverified", "has not been verified yet"),
])
def test_who_may_not_borrow_is_told_why_on_the_record_page(client, book, kind, message):
    user = make_user(library=None) if kind == "public" else make_user(verified=False)
    as_user(client, user)
    html = page(client, f"/records/{book.id}")
    assert message in html and "Place a hold" not in html and 'name="holding_id"' not in html


def test_a_reader_requests_an_ill_and_follows_it(client, book):
    reader = make_user(library="JXUFE")
    as_user(client, reader)
    response = post_form(client, "/loans/ill", {"holding_id": copy_at(book, "NCU").id,
                                                "note": "chapter 3"})
    assert response.status_code == 303
    [req] = requests_of(reader)
    assert response.headers["Location"].endswith(f"/loans/ill/{req.id}")
    html = page(client, f"/loans/ill/{req.id}")
    assert "江西通志稿" in html and "chapter 3" in html and 'data-status="requested"' in html
    assert 'data-action="cancel"' in html and 'data-action="approve"' not in html
    assert re.search(rf'<form[^>]*action="/loans/ill/{req.id}/cancel"[^>]*data-confirm=', html)
    record_page = page(client, f"/records/{book.id}")
    assert f'href="/loans/ill/{req.id}"' in record_page
    mine = page(client, "/loans")
    assert f'id="my-ill-{req.id}"' in mine


def test_a_refused_request_comes_back_to_the_record_with_the_reason(client, book):
    other = make_user(library="JXAU")
    ill.request_loan(other, copy_at(book, "NCU").id)
    reader = make_user(library="JXUFE")
    as_user(client, reader)
    response = post_form(client, "/loans/ill", {"holding_id": copy_at(book, "NCU").id})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/records/{book.id}#borrow")
    html = page(client, f"/records/{book.id}")
    assert "already requested by another reader" in html
    assert requests_of(reader) == []


def test_a_reader_places_and_cancels_a_hold_with_htmx(client, book):
    reader = make_user(library="JXUFE")
    as_user(client, reader)
    response = post_form(client, "/loans/holds", {"holding_id": copy_at(book, "JXUFE").id})
    assert response.status_code == 303 and response.headers["Location"].endswith("/loans#holds")
    hold = db.session.execute(select(Hold).where(Hold.reader_id == reader.id)).scalar_one()
    response = post_form(client, f"/loans/holds/{hold.id}/cancel", {}, headers=HTMX)
    assert response.status_code == 200
    assert f'id="my-hold-{hold.id}"' in response.get_data(as_text=True)
    assert 'data-status="cancelled"' in response.get_data(as_text=True)


# --- the library's side --------------------------------------------------------------------------

@pytest.fixture
def request_at_ncu(client, book):
    reader = make_user(library="JXUFE")
    return ill.request_loan(reader, copy_at(book, "NCU").id)


def test_the_lending_library_approves_from_its_queue_with_htmx(client, request_at_ncu):
    librarian = make_user(library="NCU", roles=("librarian",))
    as_user(client, librarian)
    html = page(client, "/libraries/NCU/ill")
    assert f'id="ill-{request_at_ncu.id}"' in html
    response = post_form(client, f"/loans/ill/{request_at_ncu.id}/approve", {"at": "NCU"},
                         token_from="/libraries/NCU/ill", headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith(f'<li class="queue-item" id="ill-{request_at_ncu.id}"')
    assert 'data-status="approved"' in body and 'data-action="ship"' in body
    assert request_at_ncu.status == "approved"


def test_a_step_out_of_turn_over_htmx_shows_why_and_changes_nothing(client, request_at_ncu):
    librarian = make_user(library="NCU", roles=("librarian",))
    as_user(client, librarian)
    response = post_form(client, f"/loans/ill/{request_at_ncu.id}/ship", {"at": "NCU"},
                         token_from="/libraries/NCU/ill", headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "is requested: “Shipped” is not possible now" in body and 'role="alert"' in body
    db.session.expire_all()
    assert db.session.get(IllRequest, request_at_ncu.id).status == "requested"
    # without HTMX it is an error page with the same message
    response = post_form(client, f"/loans/ill/{request_at_ncu.id}/ship", {},
                         token_from="/libraries/NCU/ill")
    assert response.status_code == 409 and "not possible now" in response.get_data(as_text=True)


def test_the_home_library_cannot_approve_for_the_lender(client, request_at_ncu):
    as_user(client, make_user(library="JXUFE", roles=("librarian",)))
    response = post_form(client, f"/loans/ill/{request_at_ncu.id}/approve", {},
                         token_from="/libraries/JXUFE/ill")
    assert response.status_code == 403
    assert ("only staff of the lending library, Nanchang University Library"
            in response.get_data(as_text=True))
    assert request_at_ncu.status == "requested"


def test_other_libraries_and_readers_do_not_see_a_request(client, request_at_ncu):
    as_user(client, make_user(library="JXAU", roles=("librarian",)))
    assert client.get(f"/loans/ill/{request_at_ncu.id}").status_code == 404
    response = post_form(client, f"/loans/ill/{request_at_ncu.id}/approve", {"at": "JXAU"},
                         token_from="/libraries/JXAU/ill", headers=HTMX)
    assert response.status_code == 404
    assert client.get("/libraries/NCU/ill").status_code == 403


def test_a_reader_cannot_open_a_library_queue(client):
    as_user(client, make_user(library="JXUFE"))
    for path in ("/libraries/JXUFE/ill", "/libraries/JXUFE/holds", "/libraries/JXUFE/cards",
                 "/libraries/JXUFE/union", "/loans/verify"):
        assert client.get(path).status_code == 403, path


def test_queue_tabs_swap_only_the_list(client, request_at_ncu):
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    response = client.get("/libraries/NCU/ill?view=lending",
                          headers={**HTMX, "HX-Target": "ill-list"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="ill-list">') and "<html" not in body
    assert f'id="ill-{request_at_ncu.id}"' in body


def test_the_home_library_marks_a_hold_ready_from_its_queue(client, book):
    reader = make_user(library="JXUFE")
    hold = holds.place_hold(reader, copy_at(book, "JXUFE").id)
    as_user(client, make_user(library="JXUFE", roles=("librarian",)))
    assert f'id="hold-{hold.id}"' in page(client, "/libraries/JXUFE/holds")
    response = post_form(client, f"/loans/holds/{hold.id}/ready", {"at": "JXUFE"},
                         token_from="/libraries/JXUFE/holds", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-status="ready"' in body
    assert 'data-action="ready"' not in body and 'data-action="collected"' in body


# --- cards ---------------------------------------------------------------------------------

def test_a_reader_applies_and_shows_the_cards_qr_code(client, app):
    reader = make_user(library="JXUFE")
    as_user(client, reader)
    html = page(client, "/loans/card")
    assert "Apply for an interlibrary card" in html
    response = post_form(client, "/loans/card", {}, token_from="/loans/card")
    assert response.status_code == 303
    card = cards.current_card(reader)
    assert card.status == "requested"
    html = page(client, "/loans/card")
    assert "waiting for approval" in html and card.code not in html
    cards.approve_card(make_user(library="JXUFE", roles=("librarian",)), card.id)
    html = page(client, "/loans/card")
    assert cards.format_code(card.code) in html and 'data-testid="card-qr"' in html
    # the QR code holds the URL of the staff verification page for this card
    url = external_url("loans.verify_card", code=card.code)
    assert url.endswith(f"/loans/verify/{card.code}")
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False,
                                    svgns=True, title="Interlibrary card")
    expected_path = re.search(r' d="([^"]+)"', buffer.getvalue().decode()).group(1)
    assert expected_path in html


def test_staff_of_another_library_verify_a_card_and_see_only_what_they_need(client):
    reader = make_user(library="JXUFE", name="读者甲")
    card = cards.approve_card(make_user(library="JXUFE", roles=("librarian",)),
                              cards.apply_for_card(reader).id)
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    html = page(client, f"/loans/verify/{card.code}")
    assert 'data-valid="yes"' in html and "读者甲" in html
    assert card.valid_until.isoformat() in html
    assert reader.email not in html and reader.card_number not in html
    response = client.get("/loans/verify?code=" + cards.format_code(card.code).lower())
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/loans/verify/{card.code}")
    assert client.get("/loans/verify?code=nope").status_code == 400
    assert client.get("/loans/verify/0000000000000000").status_code == 404


def test_the_home_library_refuses_an_application_from_its_queue(client):
    reader = make_user(library="JXUFE")
    card = cards.apply_for_card(reader)
    as_user(client, make_user(library="JXUFE", roles=("librarian",)))
    assert f'id="card-{card.id}"' in page(client, "/libraries/JXUFE/cards")
    response = post_form(client, f"/loans/cards/{card.id}/refuse", {"at": "JXUFE", "note": ""},
                         token_from="/libraries/JXUFE/cards", headers=HTMX)
    assert response.status_code == 200 and "Give a reason" in response.get_data(as_text=True)
    assert card.status == "requested"
    response = post_form(client, f"/loans/cards/{card.id}/refuse",
                         {"at": "JXUFE", "note": "No such student"},
                         token_from="/libraries/JXUFE/cards")
    assert response.status_code == 303
    assert card.status == "refused"


# --- union borrowing --------------------------------------------------------------------------

def test_the_union_desk_lends_takes_returns_and_confirms_arrival(client, app):
    reader = make_user(library="JXUFE")
    card = cards.approve_card(make_user(library="JXUFE", roles=("librarian",)),
                              cards.apply_for_card(reader).id)
    ncu = make_user(library="NCU", roles=("librarian",))
    as_user(client, ncu)
    html = page(client, f"/libraries/NCU/union?card={cards.format_code(card.code)}")
    assert cards.format_code(card.code) in html
    response = post_form(client, "/libraries/NCU/union/lend",
                         {"card_code": card.code, "item_barcode": "NCU-0001"},
                         token_from="/libraries/NCU/union")
    assert response.status_code == 303
    response = post_form(client, "/libraries/NCU/union/lend",
                         {"card_code": card.code, "item_barcode": "NCU-0001"},
                         token_from="/libraries/NCU/union")
    assert response.status_code == 400
    assert "already out on a union loan" in response.get_data(as_text=True)
    html = page(client, "/libraries/NCU/union?barcode=NCU-0001")
    loan_id = int(re.search(r'id="union-(\d+)"', html).group(1))

    other = make_user(library="ECJTU", roles=("librarian",))
    client2 = app.test_client()
    as_user(client2, other)
    response = post_form(client2, f"/libraries/ECJTU/union/{loan_id}/return", {},
                         token_from="/libraries/ECJTU/union", headers=HTMX)
    assert response.status_code == 200 and 'data-status="in_transit"' in response.get_data(
        as_text=True)
    response = post_form(client, f"/libraries/NCU/union/{loan_id}/arrived", {},
                         token_from="/libraries/NCU/union", headers=HTMX)
    assert response.status_code == 200
    assert 'data-status="closed"' in response.get_data(as_text=True)


def test_lists_are_for_the_library_they_belong_to(client, request_at_ncu):
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    assert client.get("/libraries/JXUFE/holds").status_code == 403
    assert get_library("NCU").code == "NCU"


def test_a_reader_cancels_an_ill_from_the_list_with_htmx(client, book):
    reader = make_user(library="JXUFE")
    req = ill.request_loan(reader, copy_at(book, "ECJTU").id)
    as_user(client, reader)
    response = post_form(client, f"/loans/ill/{req.id}/cancel", {}, token_from="/loans",
                         headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<li class="request-item" id="my-ill-{req.id}"')
    assert 'data-status="cancelled"' in body and 'data-action="cancel"' not in body
    # a second click (another tab) is told why, and nothing changes
    response = post_form(client, f"/loans/ill/{req.id}/cancel", {}, token_from="/loans",
                         headers=HTMX)
    assert "not possible now" in response.get_data(as_text=True)


def test_a_second_return_over_htmx_says_it_is_already_returned(client):
    reader = make_user(library="JXUFE")
    card = cards.approve_card(make_user(library="JXUFE", roles=("librarian",)),
                              cards.apply_for_card(reader).id)
    loan = union.lend(make_user(library="NCU", roles=("librarian",)), get_library("NCU").id,
                      card_code=card.code, item_barcode="TWICE")
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    for expected in ('data-status="closed"', "already returned"):
        response = post_form(client, f"/libraries/NCU/union/{loan.id}/return", {},
                             token_from="/libraries/NCU/union", headers=HTMX)
        assert response.status_code == 200 and expected in response.get_data(as_text=True)


def test_a_withdrawn_library_cannot_record_union_loans(client):
    reader = make_user(library="JXUFE")
    card = cards.approve_card(make_user(library="JXUFE", roles=("librarian",)),
                              cards.apply_for_card(reader).id)
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    get_library("NCU").left_on = clock.local_today()
    db.session.flush()
    response = post_form(client, "/libraries/NCU/union/lend",
                         {"card_code": card.code, "item_barcode": "GONE-1"}, token_from="/")
    # the desk of a library that has left is closed: refused before any loan is looked at
    assert response.status_code == 403
    assert "left the alliance" in response.get_data(as_text=True)


def test_the_record_page_offers_one_request_per_library_not_per_copy():
    from types import SimpleNamespace

    from jala.loans.routes import one_per_library

    def row(holding_id, library_id, status="available", mine=None, taken=False):
        holding = SimpleNamespace(id=holding_id, library_id=library_id, status=status)
        return {"holding": holding, "mine": mine, "taken": taken}

    rows = one_per_library([row(1, 7, "on_loan"), row(2, 7, taken=True), row(3, 7),
                            row(4, 9, "on_loan")])
    assert [(r["holding"].id, r["copies"]) for r in rows] == [(3, 3), (4, 1)]
    mine = one_per_library([row(1, 7), row(2, 7, "on_loan", mine="request")])
    assert [r["holding"].id for r in mine] == [2]
