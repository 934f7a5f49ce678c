"""The OAI-PMH provider through the test client: verbs, formats, sets, errors, deletions."""
import pytest
from sqlalchemy import text

from jala.extensions import db
from tests.protocols.oai_support import NS, error_code, valid_response
from tests.support.catalog import import_lines


@pytest.fixture(scope="module")
def app(app_of_its_own):
    return app_of_its_own

@pytest.fixture
def oai(app, db_session, client):
    app.config.update(OAI_SETTLE_SECONDS=0, OAI_PAGE_SIZE=3)
    yield lambda **args: valid_response(client.get("/oai", query_string=args).data)
    app.config.update(OAI_SETTLE_SECONDS=60, OAI_PAGE_SIZE=200)


def _holding(library):
    return [{"library": library, "status": "available", "call_number": "I247.5/1"}]


@pytest.fixture
def records(db_session):
    import_lines([
        {"source_id": "jl1", "type": "book", "title": "平凡的世界", "authors": ["路遥"],
         "publisher": "北京十月文艺出版社", "year": 2012, "isbn": "9787530212004",
         "clc": "I247.5", "language": "chi", "place": "北京", "holdings": _holding("JXUFE")},
        {"source_id": "jl2", "type": "article", "title": "Union catalogues revisited",
         "authors": ["Li Wei", "Jiangxi Library Society"],
         "corporate-authors": ["Jiangxi Library Society"], "journal": "Library Journal",
         "volume": "3", "issue": "2", "pages": "10-20", "year": 2020,
         "doi": "10.1000/xyz", "holdings": _holding("JXUFE")},
        *[{"source_id": f"n{i}", "title": f"Record {i}", "holdings": _holding("NCU")}
          for i in range(5)],
    ], library="JXUFE")
    return db.session.execute(text("SELECT id FROM records ORDER BY id")).scalars().all()


def test_identify_says_persistent_deletions_and_seconds(oai):
    root = oai(verb="Identify")
    assert root.findtext("o:Identify/o:deletedRecord", namespaces=NS) == "persistent"
    assert root.findtext("o:Identify/o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert root.findtext("o:Identify/o:baseURL", namespaces=NS).endswith("/oai")


def test_list_sets_has_one_set_per_library(oai):
    specs = oai(verb="ListSets").xpath("//o:setSpec/text()", namespaces=NS)
    assert "JXUFE" in specs and "NCU" in specs and len(specs) == len(set(specs))


def test_get_record_in_marc21_has_245_for_a_json_lines_record(oai, records):
    root = oai(verb="GetRecord", identifier=f"oai:127.0.0.1:{records[0]}", metadataPrefix="marc21")
    title = root.xpath("//marc:datafield[@tag='245']/marc:subfield[@code='a']/text()",
                       namespaces=NS)
    place = root.xpath("//marc:datafield[@tag='264']/marc:subfield[@code='a']/text()",
                       namespaces=NS)
    assert title == ["平凡的世界"] and place == ["北京"]
    assert root.xpath("//o:header/o:setSpec/text()", namespaces=NS) == ["JXUFE"]


def test_corporate_author_goes_to_710_and_the_journal_to_773(oai, records):
    root = oai(verb="GetRecord", identifier=f"oai:127.0.0.1:{records[1]}", metadataPrefix="marc21")
    assert root.xpath("//marc:datafield[@tag='710']/marc:subfield/text()", namespaces=NS) == [
        "Jiangxi Library Society"]
    assert root.xpath("//marc:datafield[@tag='773']/marc:subfield[@code='t']/text()",
                      namespaces=NS) == ["Library Journal"]


def test_get_record_in_oai_dc(oai, records):
    root = oai(verb="GetRecord", identifier=f"oai:127.0.0.1:{records[0]}", metadataPrefix="oai_dc")
    assert root.xpath("//dc:title/text()", namespaces=NS) == ["平凡的世界"]
    assert "ISBN 9787530212004" in root.xpath("//dc:identifier/text()", namespaces=NS)


def test_list_records_pages_with_tokens_until_every_record_is_sent(oai, records):
    seen, root = [], oai(verb="ListRecords", metadataPrefix="oai_dc")
    while True:
        seen += root.xpath("//o:header/o:identifier/text()", namespaces=NS)
        token = root.find(".//o:resumptionToken", NS)
        assert token.get("completeListSize") == str(len(records))
        if not token.text:
            break
        assert token.get("expirationDate")
        root = oai(verb="ListRecords", resumptionToken=token.text)
    assert seen == [f"oai:127.0.0.1:{i}" for i in records]


def test_a_set_lists_only_its_library(oai, records):
    root = oai(verb="ListIdentifiers", metadataPrefix="marc21", set="JXUFE")
    assert root.xpath("//o:identifier/text()", namespaces=NS) == [
        f"oai:127.0.0.1:{i}" for i in records[:2]]


def test_from_and_until_at_both_granularities(oai, records):
    assert error_code(oai(verb="ListIdentifiers", metadataPrefix="oai_dc",
                          **{"from": "2000-01-01", "until": "2000-01-02"})) == "noRecordsMatch"
    root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set="JXUFE",
               **{"from": "2000-01-01T00:00:00Z", "until": "2999-01-01T00:00:00Z"})
    assert len(root.findall(".//o:header", NS)) == 2


@pytest.mark.parametrize(("args", "code"), [
    ({}, "badVerb"),
    ({"verb": "Frobnicate"}, "badVerb"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "Identify", "extra": "1"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-02-30"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-01-01",
      "until": "2026-01-02T00:00:00Z"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-02-01",
      "until": "2026-01-01"}, "badArgument"),
    ({"verb": "ListRecords", "resumptionToken": "garbage"}, "badResumptionToken"),
    ({"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "mods"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:elsewhere:1"},
     "idDoesNotExist"),
    ({"verb": "ListSets", "resumptionToken": "x"}, "badResumptionToken"),
])
def test_errors_are_oai_errors_in_a_200(client, oai, args, code):
    response = client.get("/oai", query_string=args)
    assert response.status_code == 200
    assert error_code(valid_response(response.data)) == code


def test_a_repeated_argument_is_bad(client, oai):
    response = client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc")
    assert error_code(valid_response(response.data)) == "badArgument"


def test_post_works_without_a_csrf_token(app, client, oai):
    before = app.config.get("WTF_CSRF_ENABLED", True)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/oai", data={"verb": "Identify"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = before
    assert response.status_code == 200
    assert error_code(valid_response(response.data)) is None


def test_a_record_leaving_a_set_is_deleted_there_and_a_deleted_record_everywhere(oai, records):
    import_lines([{"source_id": "jl1", "type": "book", "title": "平凡的世界", "authors": ["路遥"],
                   "holdings": _holding("NCU")}], library="JXUFE")
    root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set="JXUFE")
    statuses = {h.findtext("o:identifier", namespaces=NS): h.get("status")
                for h in root.iterfind(".//o:header", NS)}
    assert statuses[f"oai:127.0.0.1:{records[0]}"] == "deleted"
    db.session.execute(text("DELETE FROM records WHERE id = :id"), {"id": records[1]})
    root = oai(verb="GetRecord", identifier=f"oai:127.0.0.1:{records[1]}", metadataPrefix="oai_dc")
    assert root.find(".//o:header", NS).get("status") == "deleted"


def _poison(record_id):
    """Control characters in a record, as an import keeps them from a JSON Lines file."""
    db.session.execute(text(
        "UPDATE records SET title = :title, authors = ARRAY[:author], "
        "extra = extra || CAST(:extra AS jsonb) WHERE id = :id"),
        {"title": "Bad\x01title\x0bx", "author": "Li\x02 Wei",
         "extra": '{"place": "Bei\\u001fjing"}', "id": record_id})


@pytest.mark.parametrize("prefix", ["oai_dc", "marc21"])
def test_control_characters_in_a_record_leave_the_answer_well_formed(oai, records, prefix):
    _poison(records[0])
    root = oai(verb="GetRecord", identifier=f"oai:127.0.0.1:{records[0]}", metadataPrefix=prefix)
    titles = root.xpath("//dc:title/text() | //marc:datafield[@tag='245']/marc:subfield"
                        "[@code='a']/text()", namespaces=NS)
    assert titles == ["Badtitlex"]
    listed = oai(verb="ListRecords", metadataPrefix=prefix, set="JXUFE")
    assert "Li Wei" in listed.xpath("//dc:creator/text() | //marc:subfield/text()",
                                    namespaces=NS)


@pytest.mark.parametrize("args", [
    {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "x\x01"},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "\x01"},
    {"verb": "ListRecords", "metadataPrefix": "\x01"},
    {"verb": "ListRecords", "resumptionToken": "abc\x01"},
    {"verb": "Identify", "\x01": "1"},
])
def test_control_characters_in_arguments_are_a_bad_argument_in_well_formed_xml(client, oai,
                                                                               args):
    response = client.get("/oai", query_string=args)
    assert response.status_code == 200
    root = valid_response(response.data)
    assert error_code(root) == "badArgument"
    assert root.find("o:request", NS).attrib == {}


@pytest.mark.parametrize("until", ["9999-12-31", "9999-12-31T23:59:59Z"])
def test_an_until_at_the_end_of_time_lists_everything(oai, records, until):
    root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set="JXUFE", until=until)
    assert len(root.findall(".//o:header", NS)) == 2


def test_a_long_list_is_not_counted(app, oai, records):
    app.config["OAI_COUNT_LIMIT"] = 5
    try:
        seen, root = [], oai(verb="ListIdentifiers", metadataPrefix="oai_dc")
        while True:
            seen += root.xpath("//o:header/o:identifier/text()", namespaces=NS)
            token = root.find(".//o:resumptionToken", NS)
            assert token.get("completeListSize") is None
            if not token.text:
                break
            root = oai(verb="ListIdentifiers", resumptionToken=token.text)
    finally:
        app.config.pop("OAI_COUNT_LIMIT")
    assert len(seen) == len(records) == 7


def test_harvesting_draws_on_the_search_budget(app, client, oai):
    saved = app.config["RATELIMIT_SEARCH"]
    app.config["RATELIMIT_SEARCH"] = "3 per minute"
    try:
        statuses = [client.get("/oai?verb=Identify").status_code for _ in range(4)]
    finally:
        app.config["RATELIMIT_SEARCH"] = saved
    assert statuses == [200, 200, 200, 429]


def test_a_tombstone_is_stamped_when_the_record_is_deleted_not_when_its_transaction_began(
        oai, records):
    before = db.session.execute(text("SELECT clock_timestamp()")).scalar()
    db.session.execute(text("DELETE FROM records WHERE id = :id"), {"id": records[2]})
    deleted_at = db.session.execute(text(
        "SELECT deleted_at FROM oai_deletions WHERE record_id = :id AND library_id IS NULL"),
        {"id": records[2]}).scalar()
    assert deleted_at >= before
