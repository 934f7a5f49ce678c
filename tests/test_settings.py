import pytest

from jala.errors import NotAllowed, RuleViolation
from jala.extensions import db
from jala.settings import change_setting, get_setting
from tests.support.factories import make_user
from tests.support.web import csrf_token, login, post_form


def test_defaults_until_an_admin_changes_them(ctx):
    assert get_setting("delivery.requests_per_day") == 10
    admin = make_user(library="JXSTNU", roles=["portal_admin"])
    change_setting("delivery.requests_per_day", "12", admin)
    assert get_setting("delivery.requests_per_day") == 12


def test_settings_are_bounded_and_only_for_portal_admins(ctx):
    admin = make_user(library="JXSTNU", roles=["portal_admin"])
    with pytest.raises(RuleViolation):
        change_setting("delivery.requests_per_day", "-1", admin)
    with pytest.raises(RuleViolation):
        change_setting("delivery.requests_per_day", "ten", admin)
    with pytest.raises(NotAllowed):
        change_setting("delivery.requests_per_day", "5", make_user(roles=["library_admin"]))


def test_settings_page_saves_and_audits(client):
    from jala.audit import AuditEntry

    admin = make_user(library="JXSTNU", roles=["portal_admin"])
    login(client, admin)
    response = post_form(client, "/admin/settings", {"delivery.pages_per_request": "60"},
                         token_from="/admin/settings")
    assert response.status_code == 303
    assert get_setting("delivery.pages_per_request") == 60
    entry = db.session.query(AuditEntry).filter_by(action="setting.change").one()
    assert entry.details == {"from": 50, "to": 60}
    bad = post_form(client, "/admin/settings", {"delivery.pages_per_request": "0"},
                    token_from="/admin/settings")
    assert bad.status_code == 400 and "field-error" in bad.get_data(as_text=True)


def test_audit_page_filters_by_action_and_returns_rows_to_htmx(client):
    admin = make_user(library="JXSTNU", roles=["portal_admin"], name="Wang Admin")
    login(client, admin)
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client)})
    full = client.get("/admin/audit?action=user.").get_data(as_text=True)
    assert "Wang Admin signed in" in full and "<html" in full
    rows = client.get("/admin/audit?action=role.", headers={"HX-Request": "true"})
    html = rows.get_data(as_text=True)
    assert "<html" not in html and "signed in" not in html
    assert client.get("/admin/audit?since=yesterday").status_code == 400
