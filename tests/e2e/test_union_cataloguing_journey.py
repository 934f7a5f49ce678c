"""At 360 px: a JXUFE cataloguer submits a record through the MARC editor; the union cataloguing
centre (a portal admin of the chair library) reviews and approves it; an NCU cataloguer finds it
and downloads it as MARC 21 and MARCXML, which pymarc reads back with the same fields.
"""
import io

import pymarc
import pytest
from sqlalchemy import text

from jala.extensions import db
from jala.membership import current_chair_library
from tests.support.browser import fits_the_phone, log_in, new_phone, screenshot
from tests.support.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

TITLE = "赣鄱书院文献考略"
ROWS = [("008", "", "", "261201s2026    cc            000 0 chi d"),
        ("020", "", "", "$a9787302511847"),
        ("100", "1", "", "$a欧阳修远"),
        ("245", "1", "0", f"$a{TITLE}$c欧阳修远著"),
        ("264", "", "1", "$a南昌$b江西人民出版社$c2026"),
        ("300", "", "", "$a286页"),
        ("650", "", "7", "$a书院$2cct"),
        ("084", "", "", "$aG649.299.56$2clc")]


@pytest.fixture
def people(app):
    """Committed: a JXUFE and an NCU cataloguer, and a centre admin at the chair library."""
    with app.app_context():
        made = {"jxufe": make_user(library="JXUFE", roles=["librarian"],
                                   email="e2e-cat-jxufe@example.edu.cn"),
                "ncu": make_user(library="NCU", roles=["librarian"],
                                 email="e2e-cat-ncu@example.edu.cn"),
                "centre": make_user(library=current_chair_library().code,
                                    roles=["portal_admin"],
                                    email="e2e-cat-centre@example.edu.cn")}
        out = {k: (u.email, u.totp_secret, u.id) for k, u in made.items()}
        db.session.commit()
    yield out
    with app.app_context():
        ids = {"u": out["jxufe"][2]}
        records = db.session.execute(text(
            "SELECT record_id FROM cataloguing_submissions WHERE submitter_id = :u "
            "AND record_id IS NOT NULL"), ids).scalars().all()
        db.session.execute(text("DELETE FROM cataloguing_submissions WHERE submitter_id = :u"),
                           ids)
        for record_id in records:
            r = {"r": record_id}
            db.session.execute(text("DELETE FROM cataloguing_downloads WHERE record_id = :r"), r)
            db.session.execute(text("DELETE FROM usage_events WHERE record_id = :r"), r)
            db.session.execute(text("DELETE FROM records WHERE id = :r"), r)
        db.session.commit()


def test_submitted_record_is_reviewed_approved_and_downloaded_as_marc(
        app, live_server, browser, people):
    base = live_server
    cataloguer, centre, member = new_phone(browser), new_phone(browser), new_phone(browser)
    try:
        email, secret, _id = people["jxufe"]
        log_in(cataloguer, base, email, secret)
        cataloguer.goto(base + "/cataloguing")
        fits_the_phone(cataloguer)
        cataloguer.click("a[href='/cataloguing/submissions/new']")
        cataloguer.wait_for_url("**/cataloguing/submissions/new")
        fits_the_phone(cataloguer)
        for n, (tag, ind1, ind2, value) in enumerate(ROWS):
            cataloguer.fill(f"input[name=tag-{n}]", tag)
            cataloguer.fill(f"input[name=ind1-{n}]", ind1)
            cataloguer.fill(f"input[name=ind2-{n}]", ind2)
            cataloguer.fill(f"input[name=value-{n}]", value)
        screenshot(cataloguer, "cataloguing-editor-360")
        cataloguer.click("button[name=send]")
        cataloguer.wait_for_url("**/cataloguing/submissions/*")
        path = cataloguer.url[len(base):]
        assert TITLE in cataloguer.inner_text("main")
        fits_the_phone(cataloguer)
        screenshot(cataloguer, "cataloguing-submitted-360")

        email, secret, _id = people["centre"]
        log_in(centre, base, email, secret)
        centre.goto(base + "/cataloguing/submissions?centre=1")
        fits_the_phone(centre)
        centre.click(f"a[href='{path}']")
        centre.wait_for_url(base + path)
        fits_the_phone(centre)
        screenshot(centre, "cataloguing-review-360")
        centre.click("button[value=approve]")
        centre.wait_for_url(base + path)
        download = centre.locator("a[href$='.mrc']").get_attribute("href")
        fits_the_phone(centre)
        screenshot(centre, "cataloguing-approved-360")

        email, secret, _id = people["ncu"]
        log_in(member, base, email, secret)
        member.goto(base + "/search?q=" + TITLE)
        record_path = download.replace("/cataloguing", "").removesuffix(".mrc")
        assert member.locator(f"a[href='{record_path}']").count() >= 1
        marc_bytes = member.request.get(base + download).body()
        [marc] = list(pymarc.MARCReader(io.BytesIO(marc_bytes), to_unicode=True,
                                        force_utf8=True))
        xml_bytes = member.request.get(base + download.replace(".mrc", ".xml")).body()
        [xml] = pymarc.parse_xml_to_array(io.BytesIO(xml_bytes))
        expected = [(tag, value) for tag, _i1, _i2, value in ROWS]
        for read in (marc, xml):
            got = {(f.tag, f.data if f.is_control_field() else
                    "".join(f"${s.code}{s.value}" for s in f.subfields)) for f in read.fields}
            assert set(expected) <= got
            assert read["245"].indicators == pymarc.Indicators("1", "0")
        member.goto(base + "/cataloguing")
        fits_the_phone(member)
        screenshot(member, "cataloguing-credits-360")
    finally:
        for page in (cataloguer, centre, member):
            page.context.close()
