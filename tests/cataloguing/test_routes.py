import io
import re

import pymarc

from jala.cataloguing import services as cataloguing
from jala.cataloguing.marc_form import to_pymarc
from jala.cataloguing.models import CataloguingSubmission
from jala.extensions import db
from jala.membership import current_chair_library
from tests.cataloguing.conftest import book_rows
from tests.support.factories import add_record, make_portal_admin, make_user
from tests.support.web import as_user, csrf_token, visible_text


def _form(rows, **extra):
    data = {"flavour": "marc21", "leader": "", "comment": ""}
    for n, (tag, ind1, ind2, value) in enumerate(rows):
        data.update({f"tag-{n}": tag, f"ind1-{n}": ind1.strip(), f"ind2-{n}": ind2.strip(),
                     f"value-{n}": value})
    data.update(extra)
    return data


def _post(client, path, data, token_from):
    data = dict(data, csrf_token=csrf_token(client, token_from))
    return client.post(path, data=data)


def test_the_editor_shows_each_problem_beside_its_field(client, ctx):
    as_user(client, make_user(library="JXUFE", roles=("librarian",)))
    rows = book_rows(isbn="9787302511840")
    response = _post(client, "/cataloguing/submissions/new", _form(rows),
                     "/cataloguing/submissions/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Field 020: 9787302511840 is not a valid ISBN." in visible_text(page)
    assert 'value="$a9787302511840"' in page  # what was typed is kept
    assert not db.session.query(CataloguingSubmission).count()


def test_more_rows_keeps_what_was_typed(client, ctx):
    as_user(client, make_user(library="JXUFE", roles=("librarian",)))
    page = _post(client, "/cataloguing/submissions/new", _form(book_rows(), more="1"),
                 "/cataloguing/submissions/new").get_data(as_text=True)
    assert page.count('name="tag-') == len(book_rows()) + 3 and "联合编目测试图书" in page


def test_submit_review_download_through_the_pages(client, app, ctx):
    librarian = make_user(library="JXUFE", roles=("librarian",))
    as_user(client, librarian)
    response = _post(client, "/cataloguing/submissions/new",
                     _form(book_rows(title="页面提交的书")), "/cataloguing/submissions/new")
    assert response.status_code == 303
    sub_path = response.headers["Location"]
    sub_id = int(re.search(r"/(\d+)$", sub_path).group(1))
    centre = app.test_client()
    as_user(centre, make_portal_admin())
    queue = centre.get("/cataloguing/submissions?centre=1").get_data(as_text=True)
    assert "页面提交的书" in queue
    review = visible_text(centre.get(sub_path).get_data(as_text=True))
    assert "Approve into the union catalogue" in review and "Waiting for the centre" in review
    assert "Approve into" not in visible_text(client.get(sub_path).get_data(as_text=True))
    response = _post(centre, f"/cataloguing/submissions/{sub_id}/step",
                     {"action": "approve"}, sub_path)
    assert response.status_code == 303
    sub = db.session.get(CataloguingSubmission, sub_id)
    assert sub.status == "approved"
    body = client.get(f"/cataloguing/records/{sub.record_id}.mrc")
    assert body.headers["Content-Disposition"].endswith('.mrc"')
    [marc] = list(pymarc.MARCReader(io.BytesIO(body.data), to_unicode=True, force_utf8=True))
    assert marc["245"]["a"] == "页面提交的书"
    home = visible_text(client.get("/cataloguing").get_data(as_text=True))
    assert "Contributions by library" in home


def test_another_librarys_librarian_gets_404_on_a_submission_and_its_steps(client, ctx):
    sub = cataloguing.submit_record(make_user(library="JXUFE", roles=("librarian",)),
                                    book_rows())
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    assert client.get(f"/cataloguing/submissions/{sub.id}").status_code == 404
    assert client.get(f"/cataloguing/submissions/{sub.id}/edit").status_code == 404
    response = _post(client, f"/cataloguing/submissions/{sub.id}/step",
                     {"action": "approve"}, "/cataloguing")
    assert sub.status == "submitted" and response.status_code in (303, 404)
    assert client.get("/cataloguing/submissions?centre=1").status_code == 403


def test_a_reader_cannot_open_the_centre_or_download(client, ctx):
    as_user(client, make_user(library="JXUFE"))
    assert client.get("/cataloguing").status_code == 403
    assert client.get("/cataloguing/records/1.mrc").status_code == 403


def _marc_file(*records):
    return b"".join(record.as_marc() for record in records)


def test_a_marc_file_submits_good_records_and_names_the_bad_by_number(client, ctx):
    good = to_pymarc(book_rows(title="文件里的好记录"), "", "marc21")
    bad = to_pymarc(book_rows(isbn="9787302511840"), "", "marc21")
    as_user(client, make_user(library="JXUFE", roles=("librarian",)))
    data = {"csrf_token": csrf_token(client, "/cataloguing/submissions/upload"),
            "file": (io.BytesIO(_marc_file(good, bad)), "batch.mrc")}
    page = visible_text(client.post("/cataloguing/submissions/upload", data=data,
                                    content_type="multipart/form-data").get_data(as_text=True))
    assert "1 record went to the centre." in page
    assert "Record 2: Field 020: 9787302511840 is not a valid ISBN." in page
    assert [s.title for s in db.session.query(CataloguingSubmission)] == ["文件里的好记录"]


def test_a_correction_starts_from_the_union_records_marc(client, ctx):
    record = add_record("corr-page-1", ["NCU"], title="待更正的书", isbn=["9787302511847"])
    as_user(client, make_user(library="JXUFE", roles=("librarian",)))
    page = client.get(f"/cataloguing/submissions/new?record={record.id}").get_data(as_text=True)
    assert 'value="$a待更正的书' in page and "9787302511847" in page


def test_a_returned_record_is_edited_and_sent_again_through_the_page(client, ctx):
    librarian = make_user(library="JXUFE", roles=("librarian",))
    sub = cataloguing.submit_record(librarian, book_rows(title="退回的书"))
    cataloguing.step(make_portal_admin(), sub.id, "return", comment="请补充丛编项")
    as_user(client, librarian)
    path = f"/cataloguing/submissions/{sub.id}/edit"
    assert "请补充丛编项" in client.get(path).get_data(as_text=True)
    response = _post(client, path, _form(book_rows(title="改好的书")), path)
    assert response.status_code == 303 and sub.status == "submitted" and sub.title == "改好的书"


def test_a_step_without_the_forms_token_is_refused_and_changes_nothing(client, ctx):
    sub = cataloguing.submit_record(make_user(library="JXUFE", roles=("librarian",)),
                                    book_rows())
    as_user(client, make_portal_admin())
    response = client.post(f"/cataloguing/submissions/{sub.id}/step", data={"action": "approve"})
    assert response.status_code == 400 and sub.status == "submitted"


def test_the_centre_admin_of_the_submitting_library_is_told_another_admin_decides(client, ctx):
    chair = current_chair_library()
    own = make_user(library=chair.code, roles=("portal_admin", "librarian"))
    sub = cataloguing.submit_record(own, book_rows(title="本馆提交的书"), library_id=chair.id)
    as_user(client, own)
    path = f"/cataloguing/submissions/{sub.id}"
    page = visible_text(client.get(path).get_data(as_text=True))
    assert "another administrator of the union cataloguing centre decides on it" in page
    assert "Approve into the union catalogue" not in page
    response = _post(client, f"{path}/step", {"action": "approve"}, path)
    assert response.status_code == 403 and sub.status == "submitted"
    assert "You work for the library that submitted this record" in visible_text(
        response.get_data(as_text=True))
