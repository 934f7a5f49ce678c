"""At 360 px: a reader takes an official round of the search contest, finding the answers by
searching the portal and opening the record; a second tab finds the same attempt; they hand in
and see only their own score; a second attempt is refused; another reader's answer after the
deadline is refused; once the round closes (the clock moved) the leaderboards by person and by
library and the answers with their hints are published. Markup in questions and answers stays
text.
"""
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from jala import clock
from jala.community.contest import services as contest
from jala.extensions import db
from tests.support.browser import (
    fits_the_phone,
    log_in,
    new_phone,
    screenshot,
    small_tap_targets,
)
from tests.support.factories import add_record, make_portal_admin, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

SOURCE_ID = "contest-e2e-1"
TITLE = "鄱阳湖候鸟图志"
PUBLISHER = "江西科学技术出版社"
READER_EMAIL = "e2e-contest-reader@example.edu.cn"
LATE_EMAIL = "e2e-contest-late@example.edu.cn"
NICKNAME = "赣鄱书虫"
SCRIPT_PROMPT = ("本题写着 <script>window.pwned = 1</script> 也不会运行："
                 "**《鄱阳湖候鸟图志》的题名首字**是？")
SCRIPT_ANSWER = '<img src=x onerror="window.pwned=2">'


@pytest.fixture
def contest_setup(app):
    """Committed: a record held by NCU, an official round about it, two JXUFE readers."""
    with app.test_request_context("/"):
        record = add_record(SOURCE_ID, ["NCU"], title=TITLE, publisher=PUBLISHER, year=2019,
                            authors=["江西省林业科学院"])
        centre = make_portal_admin()
        make_user(library="JXUFE", email=READER_EMAIL, name="欧阳小琳")
        make_user(library="JXUFE", email=LATE_EMAIL, name="迟到者")
        now = clock.now()
        found = contest.create_round(
            centre, title="2026年联盟搜索大赛（初赛）", kind="official",
            description="答案都在**门户**里：检索联合目录，打开书目记录。",
            opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(minutes=40),
            time_limit_minutes=15, ranking="average", top_n=3)
        contest.add_question(centre, found.id, kind="single",
                             prompt=f"《{TITLE}》由哪家出版社出版？",
                             choices=["人民出版社", PUBLISHER, "江西人民出版社"], correct=[1],
                             points=2, hint_url=f"/records/{record.id}")
        contest.add_question(centre, found.id, kind="text",
                             prompt=f"《{TITLE}》是哪一年出版的？（填数字）", accepted=["2019"],
                             points=3, hint_url=f"/search?q={TITLE}")
        contest.add_question(centre, found.id, kind="text", prompt=SCRIPT_PROMPT,
                             accepted=["鄱"])
        contest.publish_round(centre, found.id)
        ids = {"round": found.id, "record": record.id}
        db.session.commit()
    yield ids
    with app.app_context():  # the users and the audit log stay; the rest goes
        db.session.execute(text("DELETE FROM contest_rounds WHERE id = :round"), ids)
        db.session.execute(text("DELETE FROM records WHERE id = :record"), ids)
        db.session.commit()


def _answer_screen(page, year_answer):
    """Answer whichever question is on the screen (the order is the attempt's own)."""
    prompt = page.locator("#contest-attempt .contest-prompt").inner_text()
    if "出版社" in prompt:
        page.locator(".contest-choice", has_text=PUBLISHER).click()
    elif "哪一年" in prompt:
        page.fill("#contest-text", year_answer)
    else:
        page.fill("#contest-text", SCRIPT_ANSWER)
    return prompt


def test_a_reader_takes_a_round_by_searching_and_appears_on_the_leaderboard(
        app, live_server, browser, contest_setup):
    base, round_id = live_server, contest_setup["round"]
    reader, late = new_phone(browser), new_phone(browser)
    reader.on("dialog", lambda dialog: dialog.accept())
    try:
        # --- the reader finds the round and starts --------------------------------------------
        log_in(reader, base, READER_EMAIL)
        reader.goto(base + "/contest")
        fits_the_phone(reader)
        screenshot(reader, "contest-list-360")
        reader.click(f"#open-rounds a[href='/contest/{round_id}']")
        reader.wait_for_url(f"**/contest/{round_id}")
        assert "3道题" in reader.locator("#contest-round").inner_text()
        reader.fill("input[name=public_name]", NICKNAME)
        fits_the_phone(reader)
        screenshot(reader, "contest-round-360")
        reader.click("#contest-take button[type=submit].primary")
        reader.wait_for_url(f"**/contest/{round_id}/attempt")
        assert reader.locator("[data-testid=progress]").inner_text() == "第1题，共3题"
        countdown = reader.locator("[data-countdown-text]")
        assert re.fullmatch(r"1[45]:\d\d", countdown.inner_text())
        assert reader.evaluate("window.pwned") is None
        assert not small_tap_targets(reader, ".contest-choice, .contest-number, "
                                             ".contest-nav button, .contest-hand-in")
        fits_the_phone(reader)
        screenshot(reader, "contest-attempt-360")
        order = [reader.locator("#contest-attempt input[name=question]").input_value()]

        # --- the answers are in the portal: a search, the record's page (another tab) --------
        tab = reader.context.new_page()
        tab.goto(base + "/search?q=" + TITLE)
        tab.locator(".hit-title", has_text=TITLE).first.click()
        tab.wait_for_url(f"**/records/{contest_setup['record']}")
        record_text = tab.locator("main").inner_text()
        assert PUBLISHER in record_text and "2019" in record_text
        # the second tab cannot start afresh: it lands on the same running attempt
        tab.goto(base + f"/contest/{round_id}")
        tab.click(f"#contest-take a[href='/contest/{round_id}/attempt']")
        tab.wait_for_url(f"**/contest/{round_id}/attempt")
        assert tab.locator("#contest-attempt input[name=question]").input_value() == order[0]
        tab.close()

        # --- one question a screen, saved as they go (HTMX) -----------------------------------
        for number in (1, 2, 3):
            _answer_screen(reader, "２０１９")  # full-width digits count too
            if number < 3:
                reader.click("#contest-attempt button[value=next]")
                reader.wait_for_url(f"**/contest/{round_id}/attempt?n={number + 1}")
                reader.locator("[data-testid=progress]", has_text=f"第{number + 1}题").wait_for()
                order.append(reader.locator("#contest-attempt input[name=question]")
                             .input_value())
        assert len(set(order)) == 3
        assert reader.locator(".contest-number.answered").count() == 2
        screenshot(reader, "contest-last-question-360")
        reader.click("#contest-attempt button.contest-hand-in")  # confirmed by the dialog
        reader.wait_for_url(f"**/contest/{round_id}")
        assert reader.locator("[data-testid=my-score]").inner_text() == "5分（满分6分）"
        assert reader.locator("#people-board").count() == 0  # not before the round closes
        assert reader.locator("#contest-answers").count() == 0
        fits_the_phone(reader)
        screenshot(reader, "contest-handed-in-360")

        # --- a second attempt at the official round is refused --------------------------------
        status = reader.evaluate("""async (url) => {
            const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
            const response = await fetch(url, {method: 'POST', body: 'public_name=',
                headers: {'X-CSRFToken': token,
                          'Content-Type': 'application/x-www-form-urlencoded'}});
            return [response.status, await response.text()];
        }""", base + f"/contest/{round_id}/start")
        assert status[0] == 409 and "每位选手只有一次答题机会" in status[1]

        # --- another reader's answer after the deadline is refused -----------------------------
        log_in(late, base, LATE_EMAIL)
        late.goto(base + f"/contest/{round_id}")
        late.click("#contest-take button[type=submit].primary")
        late.wait_for_url(f"**/contest/{round_id}/attempt")
        _answer_screen(late, "2019")
        clock.advance(timedelta(minutes=16))  # past the late reader's 15 minutes
        late.click("#contest-attempt button[value=next]")
        late.wait_for_url(f"**/contest/{round_id}")
        assert "时间到" in late.locator(".flash-error").inner_text()
        assert late.locator("[data-testid=my-score]").inner_text() == "0分（满分6分）"
        screenshot(late, "contest-too-late-360")

        # --- the round closes: leaderboards and answers for everyone ---------------------------
        clock.advance(timedelta(minutes=25))
        reader.reload()
        people = reader.locator("#people-board").inner_text()
        assert NICKNAME in people and "迟**" in people
        assert READER_EMAIL not in reader.content() and "欧阳小琳" not in people
        first_row = reader.locator("#people-board tbody tr").first.inner_text()
        assert NICKNAME in first_row and "江西财经大学图书馆" in first_row
        libraries = reader.locator("#library-board").inner_text()
        assert "平均分" in libraries and "江西财经大学图书馆" in libraries
        answers = reader.locator("#contest-answers")
        assert PUBLISHER in answers.inner_text() and SCRIPT_ANSWER in answers.inner_text()
        assert "<script>" in answers.inner_text()  # shown as text, never run
        assert reader.evaluate("window.pwned") is None
        hint = answers.locator(f"a[href='/records/{contest_setup['record']}']")
        assert hint.count() == 1
        fits_the_phone(reader)
        screenshot(reader, "contest-leaderboard-360")
        hint.click()
        reader.wait_for_url(f"**/records/{contest_setup['record']}")
    finally:
        reader.context.close()
        late.context.close()
