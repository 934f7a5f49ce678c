"""Delivery pages over HTTP: forms, CSRF, HTMX partials, object-level authorization."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.delivery.models import DeliveryRequest
from jala.extensions import db
from jala.jobs import OutboxEmail
from jala.membership import library_short_name
from tests.support.factories import add_record, make_user
from tests.support.files import PDF
from tests.support.web import HTMX, as_user, post_form


@pytest.fixture
def english(client):
    post_form(client, "/language", {"lang": "en"})
    return client


@pytest.fixture
def book(client):
    return add_record("web-1", ["NCU", "ECJTU"], title="中国图书馆事业发展报告", page_count=400)


def requests_of(user):
    return db.session.execute(select(DeliveryRequest).where(
        DeliveryRequest.reader_id == user.id)).scalars().all()


def submit(client, record, pages="10-20"):
    return post_form(client, "/delivery/new", {
        "record_id": str(record.id), "kind": "book_part", "title": record.title,
        "pages": pages}, token_from="/delivery/new")


def test_a_visitor_is_sent_to_log_in(client):
    response = client.get("/delivery/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_form_is_prefilled_from_the_record(client, book):
    as_user(client, make_user())
    page = client.get(f"/delivery/new?record={book.id}").get_data(as_text=True)
    assert "中国图书馆事业发展报告" in page
    assert re.search(r'<input[^>]*name="pages"[^>]*required', page)  # a book: which pages


def test_the_form_takes_the_title_of_a_search_that_found_nothing(client):
    as_user(client, make_user())
    page = client.get("/delivery/new?title=赣江水文资料汇编").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="title"[^>]*value="赣江水文资料汇编"', page)
    assert re.search(r'<input checked[^>]*value="article"', page)  # the kind is the reader's


def test_the_form_opens_with_the_query_of_the_no_results_page(client):
    as_user(client, make_user())
    page = client.get("/delivery/new?q=+赣江水文资料汇编+").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="title"[^>]*value="赣江水文资料汇编"', page)
    page = client.get("/delivery/new?q=978-7-5037-1744-4").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="isbn"[^>]*value="978-7-5037-1744-4"', page)
    assert re.search(r'<details class="more-fields" open', page)


def test_a_book_s_publisher_is_not_offered_as_a_title(client):
    record = add_record("web-pub", ["NCU"], title="中国发展报告", publisher="中国统计出版社",
                        page_count=300)
    as_user(client, make_user(library="JXUFE"))
    page = client.get(f"/delivery/new?record={record.id}").get_data(as_text=True)
    assert "中国发展报告" in page
    assert "中国统计出版社" not in page


def test_a_request_from_a_record_asks_only_for_the_pages_and_a_note(client, book):
    reader = make_user()
    as_user(client, reader)
    page = client.get(f"/delivery/new?record={book.id}").get_data(as_text=True)
    names = set(re.findall(r'<(?:input|textarea)[^>]*name="([a-z_]+)"', page))
    assert {"record_id", "pages", "note"} <= names
    assert not names & {"title", "authors", "container_title", "isbn", "issn", "doi", "kind"}
    assert 'data-testid="cited"' in page and "中国图书馆事业发展报告" in page
    # the citation comes from the record, whatever the post carries
    response = post_form(client, "/delivery/new", {"record_id": str(book.id), "pages": "5-9",
                                                   "title": "something else"},
                         token_from=f"/delivery/new?record={book.id}")
    assert response.status_code == 303
    [req] = requests_of(reader)
    assert (req.title, req.kind, req.pages) == ("中国图书馆事业发展报告", "book_part", "5-9")


def test_an_article_from_a_record_needs_no_field_at_all(client):
    article = add_record("web-art", ["NCU"], type="article", title="高校图书馆联盟研究",
                         journal="中国图书馆学报", pages="45-52")
    reader = make_user(library="JXUFE")
    as_user(client, reader)
    page = client.get(f"/delivery/new?record={article.id}").get_data(as_text=True)
    assert 'name="pages"' not in page and "中国图书馆学报" in page
    response = post_form(client, "/delivery/new", {"record_id": str(article.id)},
                         token_from=f"/delivery/new?record={article.id}")
    assert response.status_code == 303
    [req] = requests_of(reader)
    assert (req.container_title, req.pages) == ("中国图书馆学报", "45-52")


def test_a_reader_requests_and_follows_the_request(client, book):
    reader = make_user()
    as_user(client, reader)
    response = submit(client, book)
    assert response.status_code == 303
    [req] = requests_of(reader)
    assert response.headers["Location"].endswith(f"/delivery/requests/{req.id}")
    page = client.get(f"/delivery/requests/{req.id}").get_data(as_text=True)
    assert "waiting for a library" in page
    assert f"Routed to {library_short_name(req.library)}" in page
    listing = client.get("/delivery/requests").get_data(as_text=True)
    assert f"/delivery/requests/{req.id}\"" in listing and f"#{req.id}" not in listing


def test_a_broken_request_shows_the_reason_and_saves_nothing(client, book):
    reader = make_user()
    as_user(client, reader)
    response = submit(client, book, pages="1-80")
    assert response.status_code == 400
    assert "at most 50 pages" in response.get_data(as_text=True)
    assert requests_of(reader) == []


def test_a_post_without_the_csrf_token_is_refused(client, book):
    reader = make_user()
    as_user(client, reader)
    response = client.post("/delivery/new", data={"kind": "book_part", "title": "x",
                                                  "record_id": str(book.id), "pages": "1"})
    assert response.status_code == 400
    assert requests_of(reader) == []


def test_another_readers_request_is_not_found(client, book):
    owner = make_user()
    as_user(client, owner)
    submit(client, book)
    [req] = requests_of(owner)
    client.post("/logout", data={"csrf_token": ""})
    other = app_client = client.application.test_client()
    as_user(app_client, make_user())
    assert other.get(f"/delivery/requests/{req.id}").status_code == 404
    response = post_form(other, f"/delivery/requests/{req.id}/cancel", {})
    assert response.status_code == 404
    assert db.session.get(DeliveryRequest, req.id).status == "pending"


def test_the_reader_cancels_with_htmx(client, book):
    reader = make_user()
    as_user(client, reader)
    submit(client, book)
    [req] = requests_of(reader)
    response = post_form(client, f"/delivery/requests/{req.id}/cancel", {}, headers=HTMX)
    assert response.status_code == 200
    assert 'data-status="cancelled"' in response.get_data(as_text=True)


def test_cancelling_asks_for_confirmation_with_and_without_htmx(client, book):
    reader = make_user()
    as_user(client, reader)
    submit(client, book)
    [req] = requests_of(reader)
    cancel = rf'<form[^>]*action="/delivery/requests/{req.id}/cancel"[^>]*'
    page = client.get(f"/delivery/requests/{req.id}").get_data(as_text=True)
    assert re.search(cancel + r'data-confirm="[^"]+"', page)
    listing = client.get("/delivery/requests").get_data(as_text=True)
    assert re.search(cancel + r'hx-confirm="[^"]+"', listing)


def _request_at_ncu(book):
    reader = make_user()
    from jala.delivery.services import submit_request

    with db.session.no_autoflush:
        req = submit_request(reader, kind="book_part", title=book.title, record_id=book.id,
                             pages="1-10")
    from jala.membership import get_library

    ncu = get_library("NCU").id
    req.rota, req.library_id = [ncu], ncu
    for event in req.events:
        if event.kind == "routed":
            event.library_id = ncu
    db.session.flush()
    return reader, req


def test_the_librarian_works_the_queue_with_htmx(client, book, smtp):
    reader, req = _request_at_ncu(book)
    librarian = make_user(library="NCU", roles=("librarian",))
    as_user(client, librarian)
    page = client.get("/libraries/NCU/delivery").get_data(as_text=True)
    assert f'id="req-{req.id}"' in page
    response = post_form(client, f"/delivery/requests/{req.id}/accept", {}, headers=HTMX,
                         token_from="/libraries/NCU/delivery")
    assert response.status_code == 200 and 'data-status="accepted"' in response.get_data(
        as_text=True)
    response = post_form(client, f"/delivery/requests/{req.id}/fulfil",
                         {"file": (io.BytesIO(PDF), "scan.pdf"), "url": ""}, headers=HTMX,
                         token_from="/libraries/NCU/delivery",
                         content_type="multipart/form-data")
    assert 'data-status="fulfilled"' in response.get_data(as_text=True)
    email = db.session.execute(select(OutboxEmail).where(
        OutboxEmail.to_addr == reader.email)).scalar_one()
    download = re.search(r"https?://\S+(/delivery/download/\S+)", email.body_text).group(1)

    page = client.get(download).get_data(as_text=True)
    assert "20 / 20" in page
    file_url = re.search(r'href="(/files/[^"]+)"', page).group(1)
    response = client.get(file_url)
    assert response.status_code == 200 and response.data == PDF
    assert "19 / 20" in client.get(download).get_data(as_text=True)

    clock.advance(timedelta(days=21))
    gone = client.get(download)
    assert gone.status_code == 410
    assert "Ask again" in gone.get_data(as_text=True)


def test_an_htmx_step_that_breaks_a_rule_shows_the_reason_in_the_card(client, book):
    _reader, req = _request_at_ncu(book)
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    response = post_form(client, f"/delivery/requests/{req.id}/fulfil",
                         {"file": (io.BytesIO(b"GIF89a not a pdf"), "x.pdf")}, headers=HTMX,
                         token_from="/libraries/NCU/delivery",
                         content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "not a valid PDF" in body
    assert 'data-status="pending"' in body
    assert db.session.get(DeliveryRequest, req.id).file_id is None


def test_staff_of_another_library_cannot_see_or_act(client, book):
    _reader, req = _request_at_ncu(book)
    as_user(client, make_user(library="JXAU", roles=("librarian",)))
    assert client.get("/libraries/NCU/delivery").status_code == 403
    response = post_form(client, f"/delivery/requests/{req.id}/accept", {}, headers=HTMX)
    assert response.status_code == 404
    assert client.get(f"/delivery/requests/{req.id}").status_code == 404
    assert db.session.get(DeliveryRequest, req.id).status == "pending"


def test_bulk_accept_from_the_queue(client, book):
    ids = [_request_at_ncu(book)[1].id for _ in range(3)]
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    token_page = "/libraries/NCU/delivery"
    response = post_form(client, "/libraries/NCU/delivery/bulk",
                         {"action": "accept", "ids": [str(i) for i in ids], "reason": ""},
                         token_from=token_page)
    assert response.status_code == 303
    statuses = {db.session.get(DeliveryRequest, i).status for i in ids}
    assert statuses == {"accepted"}


def test_a_failed_email_is_shown_to_the_library_with_a_retry_button(client, book):
    _reader, req = _request_at_ncu(book)
    from jala.membership import get_library

    failed = OutboxEmail(kind="delivery.fulfilled", to_addr="r@example.com", subject="S",
                         body_text="B", message_id="<bench-1@jala.local>", status="failed",
                         attempts=6, last_error="SMTPServerDisconnected: gone",
                         library_id=get_library("NCU").id, due_at=clock.now())
    db.session.add(failed)
    db.session.flush()
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    page = client.get("/libraries/NCU/delivery").get_data(as_text=True)
    assert "SMTPServerDisconnected" in page
    response = post_form(client, f"/libraries/NCU/delivery/emails/{failed.id}/retry", {},
                         token_from="/libraries/NCU/delivery")
    assert response.status_code == 303
    assert db.session.get(OutboxEmail, failed.id).status == "pending"
    other = client.application.test_client()
    as_user(other, make_user(library="JXAU", roles=("librarian",)))
    assert post_form(other, f"/libraries/NCU/delivery/emails/{failed.id}/retry",
                     {}).status_code == 403


def test_journal_list_page_adds_and_loads_csv(client):
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    response = post_form(client, "/libraries/NCU/journals", {
        "one-issn": "0378-5955", "one-title": "Hearing Research", "one-year_from": "1990",
        "one-year_to": ""}, token_from="/libraries/NCU/journals")
    assert response.status_code == 303
    csv_bytes = b"issn,title\n1476-4687,Nature\nnot-an-issn,Bad\n"
    response = post_form(client, "/libraries/NCU/journals",
                         {"csv-file": (io.BytesIO(csv_bytes), "j.csv")},
                         token_from="/libraries/NCU/journals",
                         content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "1 journals saved" in page and "Line 3" in page
    assert "0378-5955" in page and "1476-4687" in page


def test_statistics_page_and_csv(client, book):
    _reader, req = _request_at_ncu(book)
    librarian = make_user(library="NCU", roles=("librarian",))
    from jala.delivery.services import fulfil_request

    clock.advance(timedelta(hours=3))
    fulfil_request(librarian, req.id, url="https://example.org/a.pdf")
    as_user(client, librarian)
    page = client.get("/delivery/stats?library=NCU").get_data(as_text=True)
    assert "100%" in page and "3.0 h" in page
    csv_text = client.get("/delivery/stats.csv?library=NCU").get_data(as_text=True)
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0] == "library,month,received,fulfilled,rejected,timed_out,fill_rate,median_hours"
    assert lines[1].startswith("NCU,") and lines[1].endswith(",1,1,0,0,1.0,3.0")
    reader_client = client.application.test_client()
    as_user(reader_client, make_user())
    assert reader_client.get("/delivery/stats").status_code == 403
