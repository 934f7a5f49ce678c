"""Purchase suggestion pages over HTTP: the form, CSRF, HTMX partials, who sees what."""
import re

import pytest
from sqlalchemy import select

from jala.extensions import db
from jala.procurement import lifecycle
from jala.procurement import services as procurement
from jala.procurement.models import PurchaseSuggestion
from tests.support.factories import add_record, make_user
from tests.support.web import HTMX, as_user, other_client, post_form

FORM = "/purchase/suggest"


def suggestions_of(user):
    return db.session.execute(select(PurchaseSuggestion).where(
        PurchaseSuggestion.reader_id == user.id)).scalars().all()


def suggest(client, **fields):
    return post_form(client, FORM, {"title": "江西通史", **fields}, token_from=FORM)


@pytest.fixture
def reader(client):
    return make_user(library="JXUFE", name="李小红")


@pytest.fixture
def librarian(client):
    return make_user(library="JXUFE", roles=("librarian",))


@pytest.fixture
def suggestion(client, reader):
    return procurement.suggest_purchase(reader, title="江西通史", note="for my course")


# --- the reader -------------------------------------------------------------------------------

def test_a_visitor_is_sent_to_log_in(client):
    response = client.get(FORM)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_form_is_prefilled_from_the_query(client, reader):
    as_user(client, reader)
    page = client.get(FORM + "?title=赣鄱文化研究&isbn=9787040247657&year=2019&year=x"
                      "&note=ignored").get_data(as_text=True)
    assert 'value="赣鄱文化研究"' in page and 'value="9787040247657"' in page
    assert 'value="2019"' in page and "ignored</textarea>" not in page
    assert "Jiangxi University of Finance and Economics Library" in page
    assert "Today: 0 of 5 suggestions made." in page


def test_the_form_opens_with_the_query_of_the_no_results_page(client, reader):
    as_user(client, reader)
    page = client.get(FORM + "?q=+赣鄱文化研究+").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="title"[^>]*value="赣鄱文化研究"', page)
    page = client.get(FORM + "?q=978-7-04-024765-7").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="isbn"[^>]*value="978-7-04-024765-7"', page)
    assert re.search(r'<input[^>]*name="title"[^>]*value=""', page)


def test_a_reader_suggests_and_sees_where_it_stands(client, reader):
    as_user(client, reader)
    response = suggest(client, authors="钟起煌", year="2008", note="for my course")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/purchase/suggestions")
    [suggestion] = suggestions_of(reader)
    assert (suggestion.authors, suggestion.year) == ("钟起煌", 2008)
    page = client.get("/purchase/suggestions").get_data(as_text=True)
    assert f'id="suggestion-{suggestion.id}"' in page
    assert 'data-status="suggested"' in page and "waiting for the library" in page
    assert "Your suggestion has gone to Jiangxi University of Finance and Economics Library" \
        in page
    assert "JXUFE" not in page.split("<main", 1)[1]  # readers see names, never codes


def test_the_pages_are_in_chinese_by_default(client, reader):
    from tests.support.web import login

    login(client, reader)
    page = client.get(FORM).get_data(as_text=True)
    assert "荐购" in page and "江西财经大学图书馆" in page


def test_a_duplicate_is_refused_on_the_form(client, reader, suggestion):
    as_user(client, reader)
    response = suggest(client, title="江西 通史!")
    assert response.status_code == 400
    assert "You have already suggested “江西通史”" in response.get_data(as_text=True)
    assert len(suggestions_of(reader)) == 1


def test_a_broken_isbn_is_shown_on_the_form_and_saves_nothing(client, reader):
    as_user(client, reader)
    response = suggest(client, isbn="12345")
    assert response.status_code == 400
    assert "12345 is not a valid ISBN" in response.get_data(as_text=True)
    assert suggestions_of(reader) == []


def test_a_title_the_catalogue_holds_is_linked(client, reader):
    record = add_record("route-held", ["NCU"], title="图书馆学概论", isbn="978-7-04-024765-7")
    as_user(client, reader)
    response = suggest(client, title="图书馆学概论", isbn="7-04-024765-8")
    assert response.status_code == 303
    page = client.get("/purchase/suggestions").get_data(as_text=True)
    assert "already has a record with this ISBN" in page
    assert f'href="/records/{record.id}"' in page


def test_a_post_without_the_csrf_token_is_refused(client, reader):
    as_user(client, reader)
    response = client.post(FORM, data={"title": "江西通史"})
    assert response.status_code == 400
    assert suggestions_of(reader) == []


def test_a_public_user_is_told_why_and_cannot_post(client):
    public = make_user(library=None)
    as_user(client, public)
    page = client.get(FORM).get_data(as_text=True)
    assert "for readers of member libraries" in page and 'name="title"' not in page
    response = post_form(client, FORM, {"title": "江西通史"})
    assert response.status_code == 400
    assert suggestions_of(public) == []


def test_a_reader_sees_only_their_own(client, reader, suggestion):
    other = other_client(client, make_user(library="JXUFE"))
    page = other.get("/purchase/suggestions").get_data(as_text=True)
    assert "江西通史" not in page and f"suggestion-{suggestion.id}" not in page


# --- the library's queue ------------------------------------------------------------------------

def test_the_librarian_works_the_queue_with_htmx(client, librarian, suggestion):
    as_user(client, librarian)
    page = client.get("/libraries/JXUFE/purchase").get_data(as_text=True)
    assert f'id="suggestion-{suggestion.id}"' in page and "for my course" in page
    assert "/libraries/JXUFE/purchase/stats" in page
    response = post_form(client, f"/purchase/suggestions/{suggestion.id}/order", {},
                         headers=HTMX, token_from="/libraries/JXUFE/purchase")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith(f'<li class="queue-item" id="suggestion-{suggestion.id}"')
    assert 'data-status="ordered"' in html and "/order" not in html
    response = post_form(client, f"/purchase/suggestions/{suggestion.id}/receive",
                         {"record_id": ""}, headers=HTMX, token_from="/libraries/JXUFE/purchase")
    assert 'data-status="available"' in response.get_data(as_text=True)
    assert db.session.get(PurchaseSuggestion, suggestion.id).status == "available"


def test_a_refused_htmx_step_comes_back_in_the_card(client, librarian, suggestion):
    as_user(client, librarian)
    response = post_form(client, f"/purchase/suggestions/{suggestion.id}/decline",
                         {"reason": " "}, headers=HTMX, token_from="/libraries/JXUFE/purchase")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'role="alert"' in html and "give a reason" in html
    assert 'data-status="suggested"' in html
    assert db.session.get(PurchaseSuggestion, suggestion.id).status == "suggested"


def test_without_htmx_a_step_redirects_and_a_refusal_is_an_error_page(client, librarian,
                                                                      suggestion):
    as_user(client, librarian)
    response = post_form(client, f"/purchase/suggestions/{suggestion.id}/decline",
                         {"reason": "out of print"}, token_from="/libraries/JXUFE/purchase")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/libraries/JXUFE/purchase")
    response = post_form(client, f"/purchase/suggestions/{suggestion.id}/order", {},
                         token_from="/libraries/JXUFE/purchase")
    assert response.status_code == 409 and "not possible now" in response.get_data(as_text=True)


def test_the_tabs_swap_only_the_list(client, librarian, suggestion):
    as_user(client, librarian)
    lifecycle.order(librarian, suggestion.id)
    response = client.get("/libraries/JXUFE/purchase?status=ordered",
                          headers={**HTMX, "HX-Target": "queue-list"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="queue-list">') and "<html" not in html
    assert f'id="suggestion-{suggestion.id}"' in html
    assert f'id="suggestion-{suggestion.id}"' not in client.get(
        "/libraries/JXUFE/purchase?status=declined").get_data(as_text=True)


def test_a_step_without_the_csrf_token_is_refused(client, librarian, suggestion):
    as_user(client, librarian)
    client.get("/libraries/JXUFE/purchase")  # the session has its token, the post has not
    response = client.post(f"/purchase/suggestions/{suggestion.id}/order", headers=HTMX)
    assert response.status_code == 400
    assert db.session.get(PurchaseSuggestion, suggestion.id).status == "suggested"


@pytest.mark.parametrize("who", ["other library", "reader", "other reader"])
def test_others_get_not_found(client, reader, suggestion, who):
    user = {"other library": lambda: make_user(library="NCU", roles=("librarian",)),
            "reader": lambda: reader,
            "other reader": lambda: make_user(library="JXUFE")}[who]()
    as_user(client, user)
    for action in ("order", "decline", "receive"):
        response = post_form(client, f"/purchase/suggestions/{suggestion.id}/{action}",
                             {"reason": "x"}, headers=HTMX)
        assert response.status_code == 404
    assert db.session.get(PurchaseSuggestion, suggestion.id).status == "suggested"


def test_another_librarys_queue_is_closed(client, suggestion):
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    assert client.get("/libraries/JXUFE/purchase").status_code == 403
    assert client.get("/libraries/JXUFE/purchase/stats").status_code == 403
    assert client.get("/libraries/NOPE/purchase").status_code == 404


def test_an_unknown_step_is_not_found(client, librarian, suggestion):
    as_user(client, librarian)
    response = post_form(client, f"/purchase/suggestions/{suggestion.id}/teleport", {})
    assert response.status_code == 404


# --- statistics -------------------------------------------------------------------------------

def test_the_monthly_counts_and_their_csv(client, librarian, reader):
    first = procurement.suggest_purchase(reader, title="Book 1")
    second = procurement.suggest_purchase(reader, title="Book 2")
    procurement.suggest_purchase(reader, title="Book 3")
    procurement.suggest_purchase(make_user(library="NCU"), title="Elsewhere")
    lifecycle.order(librarian, first.id)
    lifecycle.receive(librarian, first.id)
    lifecycle.decline(librarian, second.id, "no budget")
    as_user(client, librarian)
    page = client.get("/libraries/JXUFE/purchase/stats").get_data(as_text=True)
    assert "<svg" in page
    row = re.search(r'<tr data-month="[\d-]+">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r">(\d+)</td>", row) == ["3", "1", "1", "1"]
    response = client.get("/libraries/JXUFE/purchase/stats.csv?months=3")
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "month,suggested,ordered,declined,available"
    assert lines[1].endswith(",3,1,1,1")
