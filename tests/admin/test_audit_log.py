"""The audit log in words: who did what to which object, details readable, Beijing time."""
from datetime import UTC, datetime, timedelta

from jala import clock
from jala.audit import record_audit
from jala.extensions import db
from jala.governance import meetings, resolutions
from tests.support.factories import make_user
from tests.support.governance import make_chair, seat_committee
from tests.support.web import HTMX, login


def _chair_closes_a_vote():
    members = seat_committee(("NCU",))
    chair = members["NCU"]
    make_chair(chair)
    meeting = meetings.convene_meeting(chair, title="第十五次委员会会议", place="南昌大学图书馆",
                                       starts_at=clock.now() + timedelta(minutes=30))
    item = resolutions.add_agenda_item(chair, meeting.id, kind="resolution",
                                       title="通过年度工作计划")
    meetings.check_in(chair, meeting.id, "in_person")
    resolutions.close_item(chair, item.id)
    return chair


def test_the_audit_log_says_in_chinese_who_did_what_to_which_object(client):
    chair = _chair_closes_a_vote()
    admin = make_user(library="JXSTNU", roles=["portal_admin"], name="王管理")
    login(client, admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert f"{chair.display_name} 关闭了表决：“通过年度工作计划”" in page
    assert f"{chair.display_name} 召集了会议“第十五次委员会会议”" in page
    assert "王管理 登录" in page
    assert "agenda.close" not in page and "user.login" not in page
    assert "\\u" not in page and "{&#34;" not in page  # no JSON, no escapes


def test_details_are_lines_of_words_not_escaped_json(client):
    admin = make_user(library="JXSTNU", roles=["portal_admin"], name="王管理")
    record_audit(admin, "application.review", "application", 999999,
                 details={"complete": False, "note": "缺少馆长签字"})
    login(client, admin)
    rows = client.get("/admin/audit?action=application.", headers=HTMX).get_data(as_text=True)
    assert "备注：缺少馆长签字" in rows and "完整：否" in rows
    assert "\\u" not in rows


def test_times_are_beijing_time_in_the_ui_language(client):
    admin = make_user(library="JXSTNU", roles=["portal_admin"])
    entry = record_audit(admin, "setting.change", "setting", "delivery.requests_per_day",
                         details={"from": 10, "to": 12})
    entry.at = datetime(2026, 3, 1, 16, 30, 5, tzinfo=UTC)  # 00:30 on 2 March in Beijing
    db.session.flush()
    login(client, admin)
    rows = client.get("/admin/audit?action=setting.", headers=HTMX).get_data(as_text=True)
    assert "2026年3月2日 00:30:05" in rows
