"""Live availability over SIP2, against pysip2's SIP2 2.00 server on loopback."""
import time
from datetime import date

import pytest
from pysip2.codec import calculate_checksum

from config import load_config
from jala.catalog.models import Holding
from jala.extensions import db
from jala.protocols import live_status
from jala.protocols.live_status import holding_status, item_identifiers, portal_status
from jala.protocols.sip2 import (
    Sip2Error,
    Sip2Server,
    address_refusal,
    check_frame,
    checksum,
    frame,
    items_information,
    parse_item_information,
)
from jala.protocols.sip2_config import set_endpoint
from tests.support.catalog import import_lines
from tests.support.sip2_server import (
    AVAILABLE,
    CHARGED,
    IN_TRANSIT,
    MISSING,
    Sip2TestServer,
    answering_server,
    closed_port,
    silent_server,
)

DUE = "20261231    235959"
ITEMS = {"B-AVAIL": (AVAILABLE, None), "B-OUT": (CHARGED, DUE), "B-MOVING": (IN_TRANSIT, None),
         "B-OUT2": (CHARGED, "20270115    120000"), "B-LOST": (MISSING, None)}


@pytest.fixture(scope="module")
def sip2_server():
    with Sip2TestServer(ITEMS) as server:
        yield server


def test_checksum_is_the_twos_complement_of_the_byte_sum():
    message = b"1720060110    215612AOCERTIFICATION|AB1565921879|AY1AZ"
    assert checksum(message) == calculate_checksum(message)  # pysip2's, written apart from ours
    assert (sum(message) + int(checksum(message), 16)) & 0xFFFF == 0
    sent = frame("9300CNuser|COpass|", 3, "utf-8")
    assert sent.endswith(b"\r") and b"AY3AZ" in sent
    assert check_frame(sent[:-1], 3) == b"9300CNuser|COpass|"


def test_an_answer_with_a_wrong_checksum_or_sequence_is_refused():
    good = frame("941", 2, "utf-8")[:-1]
    with pytest.raises(Sip2Error):
        check_frame(good[:-1] + b"0" if good[-1:] != b"0" else good[:-1] + b"1", 2)
    with pytest.raises(Sip2Error):
        check_frame(good, 5)


def test_an_item_information_response_is_read_with_its_fields():
    answer = parse_item_information(
        "180402012026121112000020261212    093000CF0|AH" + DUE + "|ABX1|AJ题名|APMain|")
    assert (answer.circulation_status, answer.item_identifier, answer.title) == ("04", "X1", "题名")
    assert answer.due_date == DUE and answer.current_location == "Main"


def test_the_client_logs_in_and_asks_about_items(sip2_server):
    server = Sip2Server("127.0.0.1", sip2_server.port, "JXUFE", "portal", "s3cret")
    answers = items_information(server, ["B-AVAIL", "B-OUT"])
    assert [a.circulation_status for a in answers] == [AVAILABLE, CHARGED]
    assert answers[1].due_date == DUE
    assert sip2_server.logins[-1] == "portal"


def test_a_wrong_password_is_a_refused_login(sip2_server):
    with pytest.raises(Sip2Error, match="login"):
        items_information(Sip2Server("127.0.0.1", sip2_server.port, "JXUFE", "portal", "x"),
                          ["B-AVAIL"])


def test_a_local_server_is_refused_when_asked_to():
    with pytest.raises(Sip2Error, match="local"):
        items_information(Sip2Server("127.0.0.1", 6001, refuse_local=True), ["B"])


@pytest.mark.parametrize("code, status", [("03", "available"), ("04", "on_loan"),
                                          ("10", "in_transit"), ("13", "unknown"),
                                          ("02", "unknown")])
def test_circulation_statuses_become_portal_statuses(code, status):
    assert portal_status(code) == status


def _holding(barcodes, status="unknown", library="JXUFE", call_number="TP311/1"):
    source_id = f"sip2-{time.monotonic_ns()}"
    import_lines([{"source_id": source_id, "title": "SIP2 测试", "type": "book",
                   "holdings": [{"library": library, "call_number": call_number,
                                 "status": status, "barcodes": barcodes}]}], library=library)
    return db.session.query(Holding).filter(Holding.call_number == call_number) \
        .order_by(Holding.id.desc()).first()


def _served_by(port, library="JXUFE", password="s3cret"):
    set_endpoint(None, library, host="127.0.0.1", port=port, institution_id="JXUFE",
                 login_user="portal", password=password)


@pytest.fixture
def fresh_cache(ctx, redis_service):
    redis_service.clear()


@pytest.mark.parametrize("barcodes, status, due", [
    (["B-AVAIL"], "available", None),
    (["B-OUT"], "on_loan", date(2026, 12, 31)),
    (["B-MOVING"], "in_transit", None),
    (["B-OUT2", "B-OUT"], "on_loan", date(2026, 12, 31)),  # the copy back first
    (["B-OUT", "B-AVAIL"], "available", None),  # any copy on the shelf
])
def test_a_holding_shows_what_the_library_system_says(fresh_cache, sip2_server, barcodes, status,
                                                      due):
    holding = _holding(barcodes, status="unknown")
    _served_by(sip2_server.port)
    shown = holding_status(holding)
    assert (shown.status, shown.due_date, shown.live) == (status, due, True)


def test_the_barcodes_the_import_kept_are_asked_about(fresh_cache):
    assert item_identifiers(_holding(["B1", "B2"])) == ["B1", "B2"]
    assert item_identifiers(_holding([], call_number="I247.5/9")) == ["I247.5/9"]


def test_an_item_the_library_does_not_know_keeps_the_imported_status(fresh_cache, sip2_server):
    holding = _holding(["NO-SUCH-BARCODE"], status="available")
    _served_by(sip2_server.port)
    assert holding_status(holding).live is False
    assert holding_status(holding).status == "available"


def test_a_server_that_hangs_falls_back_within_a_second(fresh_cache):
    holding = _holding(["B-AVAIL"], status="on_loan")
    with silent_server() as port:
        _served_by(port)
        started = time.monotonic()
        shown = holding_status(holding)
        took = time.monotonic() - started
    assert (shown.status, shown.live) == ("on_loan", False)
    assert took < 1.5


def test_a_server_slower_than_a_second_falls_back(fresh_cache):
    holding = _holding(["B-AVAIL"], status="on_loan")
    with Sip2TestServer(ITEMS, delay=2.5) as slow:
        _served_by(slow.port)
        started = time.monotonic()
        shown = holding_status(holding)
        assert time.monotonic() - started < 1.5
    assert (shown.status, shown.live) == ("on_loan", False)


def test_a_server_that_is_down_falls_back(fresh_cache):
    holding = _holding(["B-AVAIL"], status="on_loan")
    _served_by(closed_port())
    assert (holding_status(holding).status, holding_status(holding).live) == ("on_loan", False)


def test_an_answer_is_kept_for_a_minute(fresh_cache, sip2_server, redis_service, app):
    holding = _holding(["B-MOVING"])
    _served_by(sip2_server.port)
    asked = len(sip2_server.asked)
    assert holding_status(holding).status == "in_transit"
    assert holding_status(holding).status == "in_transit"
    assert len(sip2_server.asked) == asked + 1
    key = f"{app.config['REDIS_KEY_PREFIX']}:sip2:holding:{holding.id}"
    from jala.jobs import redis_connection
    assert 0 < redis_connection().ttl(key) <= 60
    redis_connection().delete(key)
    holding_status(holding)
    assert len(sip2_server.asked) == asked + 2


def test_a_failure_is_kept_for_a_minute_too(fresh_cache):
    holding = _holding(["B-AVAIL"], status="on_loan")
    with silent_server() as port:
        _served_by(port)
        holding_status(holding)
        started = time.monotonic()
        assert holding_status(holding).live is False
        assert time.monotonic() - started < 0.2


def test_without_a_sip2_server_the_imported_status_is_shown(fresh_cache):
    holding = _holding(["B-AVAIL"], status="available", library="NCU")
    assert holding_status(holding).live is False


def test_a_message_the_servers_encoding_cannot_carry_is_a_sip2_error():
    with pytest.raises(Sip2Error, match="cp850"):
        frame("1720261212    093000AOJXUFE|ABI247.5/题|", 0, "cp850")


@pytest.mark.parametrize("trailer", [b"12G4", b"+FFF", b" 1_F", b"\xe9\xa2\x98!"])
def test_a_checksum_that_is_not_four_hex_digits_is_refused(trailer):
    with pytest.raises(Sip2Error, match="checksum"):
        check_frame(b"941AY0AZ" + trailer, 0)


def test_a_chinese_identifier_is_not_asked_of_a_cp850_server(fresh_cache):
    holding = _holding(["B-AVAIL", "条码-1", "B|1"], status="on_loan")
    with Sip2TestServer(ITEMS, encoding="cp850") as server:
        set_endpoint(None, "JXUFE", host="127.0.0.1", port=server.port, institution_id="JXUFE",
                     login_user="portal", password="s3cret", encoding="cp850")
        assert (holding_status(holding).status, holding_status(holding).live) == ("available",
                                                                                  True)
        by_call_number = _holding([], status="on_loan", call_number="I247.5/题")
        assert (holding_status(by_call_number).status,
                holding_status(by_call_number).live) == ("on_loan", False)
    assert server.asked == ["B-AVAIL"]


def test_a_garbled_answer_keeps_the_imported_status(fresh_cache):
    holding = _holding(["B-AVAIL"], status="on_loan")
    with answering_server(b"180302012026121212000020261212    093000ABB-AVAIL|AY0AZ12G4") as port:
        _served_by(port)
        shown = holding_status(holding)
    assert (shown.status, shown.live) == ("on_loan", False)


def test_any_failure_of_the_client_keeps_the_imported_status(fresh_cache, sip2_server,
                                                            monkeypatch):
    def broken(*_args):
        raise RuntimeError("a bug in the client")

    monkeypatch.setattr(live_status, "items_information", broken)
    holding = _holding(["B-AVAIL"], status="on_loan")
    _served_by(sip2_server.port)
    assert (holding_status(holding).status, holding_status(holding).live) == ("on_loan", False)


def test_an_ipv4_loopback_written_as_ipv6_is_refused_too(sip2_server):
    server = Sip2Server("::ffff:127.0.0.1", sip2_server.port, "JXUFE", "portal", "s3cret",
                        refuse_local=True)
    with pytest.raises(Sip2Error, match="local"):
        items_information(server, ["B-AVAIL"])


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1", "::127.0.0.1",
                                     "169.254.169.254", "::ffff:169.254.169.254", "fe80::1%eth0",
                                     "100.100.100.200", "fd00:ec2::254", "0.0.0.0", "0.1.2.3",
                                     "255.255.255.255", "224.0.0.1"])
def test_local_and_metadata_addresses_are_always_refused(address):
    assert address_refusal(address, allow_private=True) == "a local address is not allowed"


@pytest.mark.parametrize("address", ["10.2.3.4", "172.16.8.1", "192.168.1.20", "fd12:3456::7",
                                     "100.64.0.9"])
def test_a_private_address_is_refused_only_when_the_alliance_says_so(address):
    assert address_refusal(address, allow_private=True) is None
    assert address_refusal(address, allow_private=False) == "a private address is not allowed"
    assert address_refusal("202.101.224.68", allow_private=False) is None


def test_private_networks_are_allowed_unless_configured_otherwise():
    assert load_config({})["SIP2_ALLOW_PRIVATE_NETWORKS"] is True
    assert load_config({"SIP2_ALLOW_PRIVATE_NETWORKS": "false"})[
        "SIP2_ALLOW_PRIVATE_NETWORKS"] is False


def test_a_server_that_failed_is_not_asked_again_for_a_minute(fresh_cache, sip2_server):
    first, second = _holding(["B-AVAIL"], "on_loan"), _holding(["B-OUT"], "on_loan")
    with silent_server() as port:
        _served_by(port)
        holding_status(first)
        started = time.monotonic()
        assert holding_status(second).live is False  # another holding, the same dead server
        assert time.monotonic() - started < 0.2
    _served_by(sip2_server.port)  # the admin points the portal at the right server
    assert holding_status(_holding(["B-MOVING"])).live is True
