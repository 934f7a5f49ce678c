"""Setting up a library's SIP2 server (page and command line) and the record page's live cells."""
import pytest
from sqlalchemy import select

from jala.audit import AuditEntry
from jala.catalog.models import Holding
from jala.extensions import db
from jala.protocols.models import Sip2Endpoint
from jala.protocols.sip2_cli import sip2
from jala.protocols.sip2_config import server_of, set_endpoint
from tests.support.catalog import import_lines
from tests.support.factories import make_user
from tests.support.sip2_server import CHARGED, Sip2TestServer
from tests.support.web import as_user, post_form


@pytest.fixture
def record(client):
    import_lines([{"source_id": "live-1", "title": "实时馆藏", "type": "book", "holdings": [
        {"library": "JXUFE", "call_number": "TP3/9", "status": "available", "barcode": "LV1"},
        {"library": "NCU", "call_number": "TP3/9", "status": "available"}]}])
    return db.session.execute(select(Holding).where(Holding.call_number == "TP3/9")
                              .order_by(Holding.library_id)).scalars().first().record


def test_the_password_is_sealed_and_never_stored_plainly(ctx):
    endpoint = set_endpoint(None, "JXUFE", host="sip.jxufe.edu.cn", port=6001,
                            login_user="portal", password="秘密-s3cret")
    assert "s3cret" not in endpoint.password_sealed
    assert server_of(endpoint).login_password == "秘密-s3cret"
    again = set_endpoint(None, "JXUFE", host="sip.jxufe.edu.cn", port=6002, login_user="portal")
    assert server_of(again).login_password == "秘密-s3cret"  # a blank password keeps it


@pytest.mark.parametrize("changes", [{"host": "http://sip.example"}, {"port": 70000},
                                     {"login_user": "a|b"}, {"encoding": "latin-1"}])
def test_a_bad_setting_is_refused(ctx, changes):
    from jala.errors import RuleViolation

    values = {"host": "sip.example", "port": 6001, **changes}
    with pytest.raises(RuleViolation):
        set_endpoint(None, "JXUFE", **values)


def test_the_record_page_loads_the_live_status_after_the_page(client, record, redis_service):
    jxufe = next(h for h in record.holdings if h.library.code == "JXUFE")
    ncu = next(h for h in record.holdings if h.library.code == "NCU")
    with Sip2TestServer({"LV1": (CHARGED, "20270301    000000")}) as server:
        set_endpoint(None, "JXUFE", host="127.0.0.1", port=server.port, institution_id="JXUFE",
                     login_user="portal", password="s3cret")
        page = client.get(f"/records/{record.id}").get_data(as_text=True)
        assert f'hx-get="/holdings/{jxufe.id}/status"' in page
        assert f"/holdings/{ncu.id}/status" not in page  # NCU has no SIP2 server
        assert server.asked == []  # the page never waits for the library
        cell = client.get(f"/holdings/{jxufe.id}/status", headers={"HX-Request": "true"})
    text = cell.get_data(as_text=True)
    assert cell.status_code == 200 and "2027-03-01" in text and "badge warn" in text


def test_a_library_admin_sets_up_and_removes_the_server(client, ctx):
    admin = make_user(library="JXUFE", roles=("library_admin",))
    as_user(client, admin)
    assert client.get("/libraries/JXUFE/sip2").status_code == 200
    response = post_form(client, "/libraries/JXUFE/sip2", {
        "host": "10.2.3.4", "port": "6001", "institution_id": "JXUFE", "login_user": "portal",
        "password": "s3cret", "location_code": "", "encoding": "gb18030"},
        token_from="/libraries/JXUFE/sip2")
    assert response.status_code == 303
    endpoint = db.session.get(Sip2Endpoint, admin.home_library_id)
    assert (endpoint.host, endpoint.encoding) == ("10.2.3.4", "gb18030")
    assert "s3cret" not in client.get("/libraries/JXUFE/sip2").get_data(as_text=True)
    assert post_form(client, "/libraries/JXUFE/sip2/remove", {},
                     token_from="/libraries/JXUFE/sip2").status_code == 303
    assert db.session.get(Sip2Endpoint, admin.home_library_id) is None
    actions = db.session.execute(select(AuditEntry.action).where(
        AuditEntry.actor_id == admin.id)).scalars().all()
    assert {"sip2.endpoint_set", "sip2.endpoint_removed"} <= set(actions)


def test_another_librarys_admin_may_not(client, ctx):
    as_user(client, make_user(library="NCU", roles=("library_admin",)))
    assert client.get("/libraries/JXUFE/sip2").status_code == 403


def test_the_command_line_sets_shows_and_removes(app, ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(sip2, ["set", "JXUFE", "--host", "sip.jxufe.edu.cn", "--port", "6001",
                                  "--user", "portal", "--password", "s3cret"])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(sip2, ["show", "JXUFE"]).output
    assert "sip.jxufe.edu.cn:6001" in shown and "s3cret" not in shown
    assert runner.invoke(sip2, ["remove", "JXUFE"]).exit_code == 0
    assert "no SIP2 server" in runner.invoke(sip2, ["show", "JXUFE"]).output
    assert runner.invoke(sip2, ["set", "JXUFE", "--host", "a b", "--port", "1"]).exit_code == 1
