"""Demo data for a new installation: an account for every role, and records to search."""
import hashlib
from pathlib import Path

import pyotp

from jala import clock
from jala.accounts.models import (
    ROLE_COMMITTEE_MEMBER,
    ROLE_LIBRARIAN,
    ROLE_LIBRARY_ADMIN,
    ROLE_PORTAL_ADMIN,
)
from jala.accounts.roles import create_user_with_role
from jala.accounts.services import find_user_by_email, register_user
from jala.community.demo import seed_community
from jala.extensions import db
from jala.membership import current_chair_library

DEMO_PASSWORD = "jala-demo-2026"


def _demo_accounts(chair_code):
    # email, name, library, card, role (None: reader), verified, second factor
    return [
        ("reader@demo.jala", "李明", "JXUFE", "JX2026001", None, True, False),
        ("newreader@demo.jala", "王芳", "ECJTU", "EC2026002", None, False, False),
        ("public@demo.jala", "张伟", None, None, None, False, False),
        ("librarian@demo.jala", "刘洋", "JXUFE", "JX-STAFF-01", ROLE_LIBRARIAN, True, True),
        ("libadmin@demo.jala", "陈静", "JXUFE", "JX-STAFF-02", ROLE_LIBRARY_ADMIN, True, True),
        ("committee@demo.jala", "杨帆", "JXUFE", "JX-STAFF-03", ROLE_COMMITTEE_MEMBER, True,
         True),
        ("admin@demo.jala", "赵磊", chair_code, "CHAIR-ADMIN-01", ROLE_PORTAL_ADMIN, True, True),
        # the library the demo reader's requests go to (it alone holds the demo MARC21 books),
        # which also verifies the reader waiting at ECJTU
        ("librarian-ecjtu@demo.jala", "周敏", "ECJTU", "EC-STAFF-01", ROLE_LIBRARIAN, True, True),
        # works the reference desk (the reference working group, which this account leads)
        ("reference@demo.jala", "吴涛", "NCU", "NCU-STAFF-01", ROLE_LIBRARIAN, True, True),
    ]


LABELS = {"librarian-ecjtu@demo.jala": "librarian (ECJTU)",
          "reference@demo.jala": "librarian (reference desk)"}
DEMO_DIR = Path(__file__).parent / "demo"
CODES = ("JXUFE", "ECJTU", "JXAU", "NCHU", "ECUT", "JXUTCM", "JXSTNU", "NCU", "JJU", "NIT",
         "SRNU", "JDZU", "YCU", "JXEMC", "JCU")
STATUSES = ("available", "available", "available", "on_loan", "in_transit", "unknown")
MARC_SAMPLES = (("dp2-sample_cnmarcxml.xml", "NCU"), ("dp2-sample_unimarcxml.xml", "JXAU"),
                ("dp2-sample_marcxml.xml", "ECJTU"))


def _spread_holdings(items):
    """Give each demo article 1–4 holding libraries, the same ones on every run."""
    for position, item in items:
        if isinstance(item, dict):
            seed = int(hashlib.sha1(str(item.get("source_id")).encode()).hexdigest()[:12], 16)
            count = 1 + seed % 4
            picked = []
            for k in range(count):
                code = CODES[(seed >> (4 * k)) % len(CODES)]
                if code not in picked:
                    picked.append(code)
            item = dict(item, holdings=[
                {"library": code, "status": STATUSES[(seed >> (3 * i)) % len(STATUSES)],
                 "call_number": f"{item.get('category') or 'Z'}-{seed % 9973}"}
                for i, code in enumerate(picked)])
        yield position, item


def seed_catalog():
    """Load the demo records shipped in ``jala/demo`` (skipped when already there)."""
    from jala.catalog.importer import import_stream
    from jala.catalog.readers import open_records

    lines = []
    with open(DEMO_DIR / "csl-dev.jsonl", "rb") as raw:
        _, items, fmt = open_records(raw, "csl-dev.jsonl")
        stats = import_stream(_spread_holdings(items), "JXUFE", format_name=fmt)
    lines.append(f"CSL articles: {stats.summary()}")
    for name, code in MARC_SAMPLES:
        with open(DEMO_DIR / name, "rb") as raw:
            _, items, fmt = open_records(raw, name)
            stats = import_stream(items, code, format_name=fmt)
        lines.append(f"{name} for {code}: {stats.summary()}")
    return lines


def seed_demo():
    """Create the demo accounts that do not exist yet; returns lines to print."""
    chair = current_chair_library()
    lines = [f"Demo accounts (password for all: {DEMO_PASSWORD}):"]
    for email, name, library, card, role, verified, second_factor in _demo_accounts(chair.code):
        user = find_user_by_email(email)
        if user is None:
            if role:
                user = create_user_with_role(email=email, password=DEMO_PASSWORD,
                                             display_name=name, library_code=library, role=role,
                                             card_number=card)
            else:
                user = register_user(email=email, password=DEMO_PASSWORD, display_name=name,
                                     library_code=library, card_number=card)
                user.email_confirmed_at = clock.now()
                if verified:
                    user.verified_at = clock.now()
            if second_factor:
                user.totp_secret = pyotp.random_base32()
                user.totp_enabled_at = clock.now()
        label = role or ("public user" if library is None else
                         "reader" if verified else "reader awaiting verification")
        label = LABELS.get(email, label)
        extra = f"  second factor: `jala totp-code {email}`" if user.totp_enabled_at else ""
        lines.append(f"  {label:<30} {email}{extra}")
    db.session.commit()
    lines += seed_catalog()
    lines += seed_delivery()
    lines += seed_reader_journeys()
    lines += seed_governance()
    db.session.commit()
    lines += seed_community()
    db.session.commit()
    return lines


DIRECTORS = (("ECJTU", "director-ecjtu@demo.jala", "孙建国"),
             ("JXAU", "director-jxau@demo.jala", "何丽华"),
             ("NCU", "director-ncu@demo.jala", "郭志强"))
DEMO_LETTER = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages"
               b"/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def seed_governance():
    """Committee directors, a committee chair, an application and a meeting to vote at."""
    import io
    from datetime import timedelta

    from sqlalchemy import select

    from jala.governance import applications, meetings, resolutions
    from jala.governance.models import CommitteeOffice, Meeting

    lines = []
    for code, email, name in DIRECTORS:
        if find_user_by_email(email) is None:
            user = create_user_with_role(email=email, password=DEMO_PASSWORD, display_name=name,
                                         library_code=code, role=ROLE_COMMITTEE_MEMBER,
                                         card_number=f"{code}-DIRECTOR")
            user.totp_secret = pyotp.random_base32()
            user.totp_enabled_at = clock.now()
        lines.append(f"  {'committee_member':<30} {email}")
    if db.session.execute(select(Meeting.id).limit(1)).first():
        return lines
    chair = find_user_by_email("committee@demo.jala")
    db.session.add(CommitteeOffice(office="chair", user_id=chair.id,
                                   library_id=chair.home_library_id, started_at=clock.now()))
    db.session.flush()

    class Letter:
        stream = io.BytesIO(DEMO_LETTER)
        filename = "jxnu-application.pdf"

    application = applications.submit_application(
        name_zh="江西师范大学图书馆", name_en="Jiangxi Normal University Library", code="JXNU",
        city="南昌", contact_name="林晓红", contact_email="contact@jxnu.demo.jala",
        letter=Letter())
    application.status = "complete"
    starts = (clock.local_now() + timedelta(days=7)).replace(hour=14, minute=30, second=0,
                                                             microsecond=0)
    meeting = meetings.convene_meeting(chair, title="联盟委员会年度会议",
                                       starts_at=starts, place="江西财经大学图书馆",
                                       online_url="https://meeting.example.cn/jala")
    resolutions.add_agenda_item(chair, meeting.id, kind="application",
                                application_id=application.id)
    resolutions.add_agenda_item(chair, meeting.id, kind="budget", title="2027 年度经费预算",
                                amount="150000")
    _seed_meetings_held_and_in_session(chair)
    return lines + ["  committee chair: committee@demo.jala; a meeting with 2 items is convened"
                    " for next week, one is in session now (check in and vote), and one was"
                    " held two weeks ago (its minutes are published)"]


def _seed_meetings_held_and_in_session(chair):
    """A meeting held two weeks ago (minutes out) and one in session now.

    So a visitor sees the committee at work: check in, vote, close, read the minutes.
    """
    from datetime import timedelta

    from jala.governance import meetings, resolutions

    directors = [find_user_by_email(email) for _code, email, _name in DIRECTORS]
    held_at = (clock.local_now() - timedelta(days=14)).replace(hour=9, minute=30, second=0,
                                                               microsecond=0)
    clock.freeze(held_at - timedelta(hours=2))
    try:
        held = meetings.convene_meeting(chair, title="联盟委员会第十五次会议", starts_at=held_at,
                                        place="南昌大学图书馆报告厅")
        report = resolutions.add_agenda_item(chair, held.id, kind="information",
                                             title="2025 年度联盟工作报告")
        plan = resolutions.add_agenda_item(chair, held.id, kind="resolution",
                                           title="2026 年读书月联合活动方案",
                                           body="各成员馆四月联合举办读书月，联盟统一宣传。")
        clock.freeze(held_at)
        for member, choice in zip([chair, *directors], ("yes", "yes", "yes", "abstain"),
                                  strict=True):
            meetings.check_in(member, held.id, "in_person")
            meetings.cast_vote(member, plan.id, choice)
        resolutions.close_item(chair, report.id)
        resolutions.close_item(chair, plan.id)
        meetings.close_meeting(chair, held.id, minutes_note=(
            "会议听取了 2025 年度联盟工作报告，通过读书月联合活动方案。"))
    finally:
        clock.reset()
    starts = clock.local_now().replace(second=0, microsecond=0) + timedelta(minutes=50)
    now_meeting = meetings.convene_meeting(chair, title="联盟委员会临时会议（进行中）",
                                           starts_at=starts,
                                           online_url="https://meeting.example.cn/jala-now")
    resolutions.add_agenda_item(chair, now_meeting.id, kind="resolution",
                                title="联合采购中心 2027 年试点方案",
                                body="由轮值主任馆牵头，三家成员馆试点联合采购外文原版图书。")
    meetings.check_in(directors[0], now_meeting.id, "online")


def seed_delivery():
    """Journal lists for a few libraries, and requests waiting in the demo librarian's queue."""
    import csv

    from sqlalchemy import select

    from jala.catalog.models import Record
    from jala.delivery.coverage import parse_coverage, upsert_coverage
    from jala.delivery.models import DeliveryRequest
    from jala.delivery.services import submit_request
    from jala.membership import get_library

    with open(DEMO_DIR / "journal-coverage.csv", encoding="utf-8") as raw:
        rows = list(csv.DictReader(raw))
    for row in rows:
        upsert_coverage(get_library(row["library"]), parse_coverage(
            row["issn"], row["title"], row["year_from"], row["year_to"]))
    if db.session.execute(select(DeliveryRequest.id).limit(1)).first():
        return [f"Journal lists: {len(rows)} entries"]
    public = find_user_by_email("public@demo.jala")
    jxufe = get_library("JXUFE").id
    held = db.session.execute(
        select(Record).where(Record.library_ids.contains([jxufe])).order_by(Record.id).limit(2)
    ).scalars().all()
    made = 0
    for record in held:
        req = submit_request(public, kind="article", title=record.title, record_id=record.id,
                             note="演示请求")
        if req.library_id != jxufe:  # the demo librarian works at JXUFE: ask it first
            req.rota = [jxufe] + [lib for lib in req.rota if lib != jxufe]
            req.library_id = req.events[-1].library_id = jxufe
        made += 1
    submit_request(public, kind="article", title="高校图书馆联盟文献传递服务研究",
                   container_title="中国图书馆学报", issn="1001-8867", year=2019, pages="45-52")
    return [f"Journal lists: {len(rows)} entries", f"Delivery requests: {made + 1}"]


def seed_reader_journeys():
    """The demo reader's requests at ECJTU, and the reference desk's librarian.

    The demo reader (JXUFE) asks ECJTU, the only holder of the demo MARC21 books, for pages
    of one by document delivery and borrows it by interlibrary loan with a card JXUFE issued:
    so each journey can be walked as the reader, as ECJTU's librarian and as JXUFE's.
    """
    from sqlalchemy import select

    from jala.catalog.models import Holding, Record
    from jala.delivery.models import DeliveryRequest
    from jala.delivery.services import submit_request
    from jala.governance.models import WorkingGroupMember
    from jala.loans import cards, ill
    from jala.membership import get_library

    lines = []
    desk = find_user_by_email("reference@demo.jala")
    if not db.session.execute(select(WorkingGroupMember.id).where(
            WorkingGroupMember.group == "reference", WorkingGroupMember.user_id == desk.id)
    ).first():
        db.session.add(WorkingGroupMember(group="reference", user_id=desk.id, is_lead=True,
                                          added_at=clock.now()))
        lines.append("  reference desk: reference@demo.jala leads the reference working group")
    reader = find_user_by_email("reader@demo.jala")
    if db.session.execute(select(DeliveryRequest.id).where(
            DeliveryRequest.reader_id == reader.id).limit(1)).first():
        return lines
    ecjtu = get_library("ECJTU").id
    books = db.session.execute(
        select(Record).where(Record.library_ids == [ecjtu], Record.type == "book")
        .order_by(Record.id).limit(2)).scalars().all()
    if len(books) < 2:
        return lines
    submit_request(reader, kind="book_part", title=books[0].title, record_id=books[0].id,
                   pages="1-12", note="第一章")
    card = cards.apply_for_card(reader)
    cards.approve_card(find_user_by_email("librarian@demo.jala"), card.id)
    holding = db.session.execute(select(Holding).where(
        Holding.record_id == books[1].id, Holding.library_id == ecjtu).order_by(Holding.id)
    ).scalars().first()
    ill.request_loan(reader, holding.id, note="课程论文需要")
    return lines + ["  reader@demo.jala: a delivery request and an interlibrary loan wait at "
                    "ECJTU (librarian-ecjtu@demo.jala)"]
