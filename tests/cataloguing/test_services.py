import io
import json

import pymarc
import pytest
from sqlalchemy import select, text

from jala import clock
from jala.catalog.models import Record, SourceRecord
from jala.cataloguing import services as cataloguing
from jala.cataloguing.credits import credit_table, download_marc
from jala.cataloguing.marc_form import check_rows
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.membership import current_chair_library
from jala.usage.models import UsageEvent
from tests.cataloguing.conftest import book_rows
from tests.support.factories import add_record, make_portal_admin, make_user


def messages(rows, flavour="marc21", leader=""):
    return [message for _row, message in check_rows(rows, leader, flavour)]


def test_a_valid_marc21_book_has_no_problems(ctx):
    assert check_rows(book_rows(), "", "marc21") == []


def test_missing_title_and_008_are_named(ctx):
    rows = [r for r in book_rows() if r[0] not in ("245", "008")]
    found = messages(rows)
    assert "The record needs a title: field 245 with $a." in found
    assert "A MARC 21 record needs field 008 (fixed-length data)." in found


def test_a_bad_isbn_is_refused_with_its_number(ctx):
    found = messages(book_rows(isbn="9787302511840"))
    assert found == ["Field 020: 9787302511840 is not a valid ISBN."]


def test_a_bad_clc_tag_indicator_and_subfields_are_each_reported_on_their_row(ctx):
    rows = book_rows(clc="XYZ")
    rows += [["24", " ", " ", "$ax"], ["500", "!", " ", "$afoo"], ["300", " ", " ", "320页"]]
    problems = check_rows(rows, "", "marc21")
    assert (8, "Field 084: XYZ is not a class number of the Chinese Library "
               "Classification.") in problems
    assert (9, "Field 24: the tag must be three digits.") in problems
    assert (10, "Field 500: an indicator is one digit, one letter or blank.") in problems
    assert (11, "Field 300: write its subfields as $a…$b….") in problems


def test_short_008_two_main_entries_and_a_short_leader(ctx):
    rows = book_rows() + [["110", "2", " ", "$a某出版社"]]
    rows[0] = ["008", " ", " ", "too short"]
    found = messages(rows, leader="00000nam")
    assert "The leader must be 24 characters (it has 8)." in found
    assert "Field 008 must be 40 characters (it has 9)." in found
    assert "A record has at most one main entry (100, 110, 111 or 130)." in found


def test_cnmarc_needs_200_and_100_and_checks_010(ctx):
    rows = [["010", " ", " ", "$a9787302511840"], ["690", " ", " ", "$aTP311"]]
    found = messages(rows, "cnmarc")
    assert "Field 010: 9787302511840 is not a valid ISBN." in found
    assert "The record needs a title: field 200 with $a." in found
    assert "A CNMARC record needs field 100 (general processing data)." in found


def test_an_invalid_record_is_not_submitted(cataloguer):
    with pytest.raises(cataloguing.InvalidMarc) as refused:
        cataloguing.submit_record(cataloguer, book_rows(isbn="123"))
    assert refused.value.problems == [(2, "Field 020: 123 is not a valid ISBN.")]


def test_a_reader_cannot_submit(ctx):
    with pytest.raises(NotAllowed):
        cataloguing.submit_record(make_user(library="JXUFE"), book_rows())


def db_records(title):
    return db.session.execute(select(Record).where(Record.title == title)).scalars().all()


def test_submit_return_resubmit_approve_puts_the_record_in_the_union_catalogue(
        cataloguer, centre):
    sub = cataloguing.submit_record(cataloguer, book_rows(title="初稿题名"))
    with pytest.raises(RuleViolation):
        cataloguing.step(centre, sub.id, "return")  # a return needs a comment
    cataloguing.step(centre, sub.id, "return", comment="题名有误，请核对题名页")
    assert sub.status == "returned"
    cataloguing.edit_submission(cataloguer, sub.id, book_rows(title="联合编目定稿"),
                                comment="已改")
    assert sub.status == "submitted"
    cataloguing.step(centre, sub.id, "approve")
    assert sub.status == "approved" and sub.record_id
    [record] = db_records("联合编目定稿")
    assert record.id == sub.record_id and record.clc == "TP311.13"
    assert [s.library.code for s in record.sources] == ["JXUFE"]
    history = [(e.action, e.to_status, e.comment) for e in sub.events]
    assert history == [("submit", "submitted", None),
                       ("return", "returned", "题名有误，请核对题名页"),
                       ("resubmit", "submitted", "已改"), ("approve", "approved", None)]
    assert sub.events[2].fields[3][3].startswith("$a联合编目定稿")


def test_an_approved_record_is_found_by_search(cataloguer, centre, client):
    sub = cataloguing.submit_record(cataloguer, book_rows(title="赣鄱联合编目检索试验"))
    cataloguing.step(centre, sub.id, "approve")
    page = client.get("/search?q=赣鄱联合编目检索试验").get_data(as_text=True)
    assert f"/records/{sub.record_id}" in page


def test_the_centre_merges_a_duplicate_into_the_existing_record(cataloguer, centre):
    existing = add_record("dup-1", ["NCU"], title="重复的书", isbn=["9787302511847"])
    sub = cataloguing.submit_record(cataloguer, book_rows(title="重复的书"))
    assert existing in cataloguing.possible_duplicates(sub)
    with pytest.raises(RuleViolation):
        cataloguing.step(centre, sub.id, "merge")
    cataloguing.step(centre, sub.id, "merge", merge_into=existing.id)
    assert sub.status == "merged" and sub.record_id == existing.id
    assert len(db_records("重复的书")) == 1


def test_a_correction_rewrites_the_union_record(cataloguer, centre):
    record = add_record("c-1", ["NCU"], title="错误的题名")
    sub = cataloguing.submit_record(cataloguer, book_rows(title="更正后的题名"),
                                    record_id=record.id)
    assert sub.kind == "correction"
    cataloguing.step(centre, sub.id, "approve")
    assert db_records("更正后的题名")[0].id == record.id
    assert not db_records("错误的题名")


def test_a_librarian_cannot_review_or_edit_another_librarys_submission(cataloguer, centre):
    sub = cataloguing.submit_record(cataloguer, book_rows())
    other = make_user(library="NCU", roles=("librarian",))
    for action in ("approve", "withdraw"):
        with pytest.raises(NotFound):
            cataloguing.step(other, sub.id, action)
    with pytest.raises(NotFound):
        cataloguing.edit_submission(other, sub.id, book_rows())
    with pytest.raises(NotAllowed):
        cataloguing.step(cataloguer, sub.id, "approve")  # the submitter is not the centre
    with pytest.raises(NotAllowed):
        cataloguing.submissions_for(cataloguer, centre=True)


def _approved(cataloguer, centre, title):
    sub = cataloguing.submit_record(cataloguer, book_rows(title=title))
    cataloguing.step(centre, sub.id, "approve")
    return sub


def test_marc_downloads_read_back_by_pymarc_with_the_same_fields(cataloguer, centre):
    sub = _approved(cataloguer, centre, "可下载的书")
    member = make_user(library="NCU", roles=("librarian",))
    body, mimetype, name = download_marc(member, sub.record_id, "mrc")
    [marc] = list(pymarc.MARCReader(io.BytesIO(body), to_unicode=True, force_utf8=True))
    assert marc["245"]["a"] == "可下载的书" and marc["020"]["a"] == "9787302511847"
    assert marc["084"]["a"] == "TP311.13" and marc["008"].data.startswith("261201")
    body, mimetype, name = download_marc(member, sub.record_id, "xml")
    [xml] = pymarc.parse_xml_to_array(io.BytesIO(body))
    assert [f.tag for f in xml.fields] == [f.tag for f in marc.fields]
    assert xml["245"].value() == marc["245"].value()
    body, _m, name = download_marc(member, sub.record_id, "cnmarc")
    [cn] = list(pymarc.MARCReader(io.BytesIO(body), to_unicode=True, force_utf8=True))
    assert name.endswith("-cnmarc.mrc")
    assert cn["200"]["a"] == "可下载的书" and cn["010"]["a"] == "9787302511847"
    assert cn["690"]["a"] == "TP311.13" and len(cn["100"]["a"]) == 36


def test_downloads_are_counted_as_usage_and_in_the_credit_table(cataloguer, centre):
    sub = _approved(cataloguer, centre, "计数的书")
    member = make_user(library="NCU", roles=("librarian",))
    download_marc(member, sub.record_id, "mrc")
    download_marc(member, sub.record_id, "xml")
    events = db.session.execute(select(UsageEvent).where(
        UsageEvent.kind == "catalogue_download",
        UsageEvent.record_id == sub.record_id)).scalars().all()
    assert len(events) == 2 and {e.library_id for e in events} == {member.home_library_id}
    rows = {row["library"].code: row for row in credit_table(clock.local_now().year)}
    assert rows["JXUFE"]["submitted"] >= 1 and rows["JXUFE"]["approved"] >= 1
    assert rows["JXUFE"]["used"] >= 2 and rows["NCU"]["downloaded"] >= 2


def test_readers_cannot_download_marc(cataloguer, centre):
    sub = _approved(cataloguer, centre, "读者不可下载")
    with pytest.raises(NotAllowed):
        download_marc(make_user(library="JXUFE"), sub.record_id, "mrc")


def _source_of(record_id):
    return db.session.execute(select(SourceRecord).where(
        SourceRecord.record_id == record_id)).scalar_one()


def test_an_approved_record_with_the_librarys_own_001_leaves_its_existing_record_alone(
        cataloguer, centre):
    existing = add_record("JX0042", ["JXUFE"], title="本馆早已导入的书")
    sub = cataloguing.submit_record(
        cataloguer, [["001", " ", " ", "JX0042"]] + book_rows(title="同号的新编目记录"))
    cataloguing.step(centre, sub.id, "approve")
    assert sub.record_id != existing.id
    assert [r.id for r in db_records("本馆早已导入的书")] == [existing.id]
    assert _source_of(existing.id).source_id == "JX0042"
    source = _source_of(sub.record_id)
    assert source.source_id == f"JALA-UC{sub.id}" and source.library.code == "JXUFE"
    assert "(JXUFE)JX0042" in json.dumps(source.raw, ensure_ascii=False)


def test_two_submissions_with_the_same_001_become_two_union_records(cataloguer, centre):
    first = cataloguing.submit_record(cataloguer, [["001", " ", " ", "ocm123"]] + book_rows(
        title="同号之一", isbn="9787111213826"))
    second = cataloguing.submit_record(cataloguer, [["001", " ", " ", "ocm123"]] + book_rows(
        title="同号之二", isbn="9787040505122"))
    cataloguing.step(centre, first.id, "approve")
    cataloguing.step(centre, second.id, "approve")
    assert first.record_id != second.record_id
    assert db_records("同号之一")[0].id == first.record_id
    assert db_records("同号之二")[0].id == second.record_id
    assert {_source_of(first.record_id).source_id, _source_of(second.record_id).source_id} == {
        f"JALA-UC{first.id}", f"JALA-UC{second.id}"}


def test_approvals_leave_the_requests_commit_durable(cataloguer, centre):
    record = add_record("durable-1", ["NCU"], title="要更正的书")
    db.session.execute(text("SET LOCAL synchronous_commit = on"))  # the import above set it off
    correction = cataloguing.submit_record(cataloguer, book_rows(title="更正过的书"),
                                           record_id=record.id)
    cataloguing.step(centre, correction.id, "approve")
    assert db.session.execute(text("SHOW synchronous_commit")).scalar() == "on"
    _approved(cataloguer, centre, "新编的书")
    assert db.session.execute(text("SHOW synchronous_commit")).scalar() == "on"


def test_a_step_sees_the_status_as_it_is_once_the_row_is_locked(cataloguer, centre):
    sub = cataloguing.submit_record(cataloguer, book_rows(title="被撤回的书"))
    cataloguing.step(centre, sub.id, "return", comment="请核对")
    # another request withdraws it; this session still holds the object as "returned"
    db.session.execute(text("UPDATE cataloguing_submissions SET status = 'withdrawn' "
                            "WHERE id = :id"), {"id": sub.id})
    with pytest.raises(RuleViolation) as refused:
        cataloguing.edit_submission(cataloguer, sub.id, book_rows(title="改过的书"))
    assert refused.value.status == 409 and sub.status == "withdrawn"


def test_a_centre_admin_does_not_approve_their_own_librarys_submission(ctx):
    chair = current_chair_library()
    own = make_user(library=chair.code, roles=("portal_admin", "librarian"))
    sub = cataloguing.submit_record(own, book_rows(title="中心自己馆的书"), library_id=chair.id)
    assert cataloguing.can_do(own, sub) == {"return", "withdraw"}
    for action in ("approve", "merge"):
        with pytest.raises(NotAllowed, match="another administrator of the union cataloguing"):
            cataloguing.step(own, sub.id, action, merge_into=1)
    assert sub.status == "submitted"
    cataloguing.step(make_portal_admin(), sub.id, "approve")
    assert sub.status == "approved" and sub.record_id
