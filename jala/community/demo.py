"""Demo activities for a new installation: news, events, a practice contest round, a book list.

The centre's things are made by the chair library's portal admin, a library's by its
librarian, all through the services (so they are checked and audited like real ones).
"""
from datetime import timedelta

from sqlalchemy import select

from jala import clock
from jala.accounts.services import find_user_by_email
from jala.catalog.models import Record
from jala.community.contest import services as contest
from jala.community.events import services as events
from jala.community.events.signups import sign_up
from jala.community.news.models import News
from jala.community.news.services import create_news
from jala.community.recognition import book_lists
from jala.extensions import db
from jala.membership import get_library

NEWS = (
    (None, "notice", True, "关于举办第十六届江西高校图书馆搜索大赛的通知",
     "各成员馆：\n\n为提高读者的信息素养，联盟定于本学期举办第十六届搜索大赛。"
     "比赛分**练习轮**和**正式轮**，题目的答案都能在本门户中检索到。\n\n"
     "1. 练习轮即日开放，可反复作答；\n2. 正式轮每人限答一次，限时作答；\n"
     "3. 排行榜在每轮结束后公布。\n\n请各馆组织读者参加。"),
    (None, "news", False, "联盟召开年度工作会议",
     "联盟年度工作会议在轮值主任馆召开，15 个成员馆参会，审议通过了年度工作报告和经费预算。"),
    ("JXUFE", "news", False, "江西财经大学图书馆读书月活动开幕",
     "一年一度的读书月活动开幕，包括名家讲座、书单推荐和读书会，欢迎全省高校读者参加。"),
)


NOTES = ("资料翔实，适合入门查考。", "与上一本对照着读，看一年间的变化。", "可与前两本连起来读。")


def _in_days(days, hour):
    """A moment ``days`` from today at ``hour`` o'clock, Beijing time."""
    day = clock.local_today() + timedelta(days=days)
    return clock.start_of_day(day) + timedelta(hours=hour)


def _seed_events(centre, librarian, jxufe, reader):
    lecture = events.create_event(
        centre, title="百家讲坛：数字时代的阅读", kind="lecture",
        description="联盟百家讲坛第 120 讲。主讲人谈数字阅读与深度阅读。",
        starts_at=_in_days(7, 14), ends_at=_in_days(7, 16), place="江西财经大学图书馆报告厅",
        capacity=120, audience="members")
    events.create_event(
        librarian, library_id=jxufe, title="文献检索与利用培训", kind="training",
        description="面向本科生：如何用联盟门户查找图书、论文和全文。",
        starts_at=_in_days(10, 19), ends_at=_in_days(10, 21), place="江西财经大学图书馆 305 室",
        capacity=2, audience="members")
    events.create_event(
        librarian, library_id=jxufe, title="经典共读读书会", kind="reading_club",
        description="每周一次，共读《乡土中国》。", starts_at=_in_days(3, 19),
        ends_at=_in_days(3, 20) + timedelta(minutes=30), place="江西财经大学图书馆二楼研讨室",
        capacity=20, audience="members", repeat="weekly", sessions=4)
    sign_up(reader, lecture.id)


def _seed_contest(centre, records):
    round_ = contest.create_round(
        centre, title="搜索大赛练习轮", kind="practice",
        description="题目的答案都能在本门户中找到：先检索，再打开记录页。",
        opens_at=clock.now() - timedelta(minutes=1), closes_at=_in_days(30, 23),
        time_limit_minutes=15)
    first, second = records[0], records[1]
    if first.publisher:
        contest.add_question(centre, round_.id, kind="text",
                             prompt=f"《{first.title}》的出版者是？", accepted=[first.publisher],
                             points=2)
    if second.year:
        contest.add_question(centre, round_.id, kind="single",
                             prompt=f"《{second.title}》是哪一年出版的？",
                             choices=[str(second.year - 1), str(second.year),
                                      str(second.year + 1)], correct=[1])
    contest.add_question(centre, round_.id, kind="multiple",
                         prompt="联盟门户能做哪些事？（多选）",
                         choices=["一站式检索成员馆馆藏", "文献传递", "代写论文"],
                         correct=[0, 1])
    contest.publish_round(centre, round_.id)


def _seed_book_list(librarian, jxufe, records):
    found = book_lists.create_book_list(
        librarian, library_id=jxufe, title="读书月推荐书单", theme="读书月",
        introduction="馆员为读书月挑选的几本书，每本都注明了哪些成员馆可借。")
    for record, note in zip(records, NOTES, strict=False):
        book_lists.add_entry(librarian, found.id, record.id, note=note)
    book_lists.publish_book_list(librarian, found.id)


def seed_community():
    """Demo news, events, a practice round and a book list, once; returns lines to print."""
    if db.session.execute(select(News.id).limit(1)).first():
        return []
    centre = find_user_by_email("admin@demo.jala")
    librarian = find_user_by_email("librarian@demo.jala")
    reader = find_user_by_email("reader@demo.jala")
    jxufe = get_library("JXUFE").id
    for code, category, pinned, title, body in NEWS:
        writer = librarian if code else centre
        create_news(writer, title=title, body=body, category=category, pinned=pinned,
                    library_id=get_library(code).id if code else None, publish=True)
    _seed_events(centre, librarian, jxufe, reader)
    records = db.session.execute(
        select(Record).where(Record.type == "book", Record.publisher.is_not(None),
                             Record.year.is_not(None))
        .order_by(Record.holdings_count.desc(), Record.id).limit(3)).scalars().all()
    if len(records) >= 2:
        _seed_contest(centre, records)
        _seed_book_list(librarian, jxufe, records)
    return ["  activities: 3 news, a lecture (reader@demo.jala signed up), a training of 2 "
            "seats, a reading club of 4 sessions, a practice contest round, a book list "
            "(/community)"]
