"""At 360 px: an NCU librarian starts a special collection, describes an item in Dublin Core,
uploads a photograph and publishes it; a visitor searches, narrows the results by the
collection facet, opens the item and sees the photograph in the IIIF viewer (OpenSeadragon
drawing the tiles on its canvas); without JavaScript the same page shows a plain image.
"""
import io
import re
import secrets

import pytest
from PIL import Image
from sqlalchemy import text

from jala.extensions import db
from tests.support.browser import (
    fits_the_phone,
    log_in,
    new_phone,
    screenshot,
    small_tap_targets,
)
from tests.support.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

LIBRARIAN_EMAIL = "e2e-collections-librarian@example.edu.cn"


def photograph():
    """A 1600 × 1000 PNG (a gradient, so that tiles differ)."""
    picture = Image.linear_gradient("L").resize((1600, 1000)).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def collections_setup(app):
    """Committed: an NCU librarian; afterwards the collections they built are removed."""
    with app.app_context():
        librarian = make_user(library="NCU", roles=["librarian"], email=LIBRARIAN_EMAIL
                              + "." + secrets.token_hex(3), name="特藏馆员")
        secret, email, librarian_id = librarian.totp_secret, librarian.email, librarian.id
        db.session.commit()
    yield {"totp_secret": secret, "email": email}
    with app.app_context():  # the user stays (the audit log names them); the rest goes
        ids = {"u": librarian_id}
        collection_ids = db.session.execute(text(
            "SELECT id FROM special_collections WHERE created_by_id = :u"), ids).scalars().all()
        for collection_id in collection_ids:
            c = {"c": collection_id}
            records = db.session.execute(text(
                "SELECT record_id FROM collection_items WHERE collection_id = :c "
                "AND record_id IS NOT NULL"), c).scalars().all()
            files = db.session.execute(text(
                "DELETE FROM collection_images WHERE item_id IN (SELECT id FROM "
                "collection_items WHERE collection_id = :c) RETURNING stored_file_id"),
                c).scalars().all()
            db.session.execute(text("DELETE FROM collection_items WHERE collection_id = :c"), c)
            db.session.execute(text("DELETE FROM special_collections WHERE id = :c"), c)
            for record_id in records:
                db.session.execute(text("DELETE FROM records WHERE id = :r"), {"r": record_id})
            for file_id in files:
                db.session.execute(text("DELETE FROM stored_files WHERE id = :f"), {"f": file_id})
        db.session.commit()


def test_a_librarian_publishes_a_photograph_and_a_visitor_finds_it_by_its_collection(
        live_server, browser, collections_setup, app, monkeypatch):
    base = live_server
    # the IIIF documents name their URLs on PUBLIC_URL (never the request's Host): here the
    # server the browser loads them from
    monkeypatch.setitem(app.config, "PUBLIC_URL", base)
    librarian = new_phone(browser)
    visitor = new_phone(browser)
    word = "八一起义" + secrets.token_hex(2)  # this run's title, found by this run only
    errors = []
    visitor.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        # --- the librarian starts a collection ------------------------------------------
        log_in(librarian, base, collections_setup["email"], collections_setup["totp_secret"])
        librarian.goto(base + "/collections/manage")
        fits_the_phone(librarian)
        librarian.fill("input[name=title]", "红色记忆图片库")
        librarian.select_option("select[name=kind]", "red")
        librarian.fill("textarea[name=description]", "南昌起义相关的历史照片。")
        screenshot(librarian, "collections-start-360")
        librarian.click("form[action='/collections/manage'] button[type=submit]")
        librarian.wait_for_url(re.compile(r".*/collections/\d+$"))
        collection_id = librarian.url.rsplit("/", 1)[1]
        fits_the_phone(librarian)

        # --- describes an item in Dublin Core -------------------------------------------
        librarian.click(f"a[href='/collections/{collection_id}/items/new']")
        librarian.wait_for_url("**/items/new")
        librarian.fill("textarea[name=dc_title]", f"{word}旧址照片")
        librarian.fill("textarea[name=dc_creator]", "江西省档案馆")
        librarian.fill("textarea[name=dc_date]", "1957-08")
        librarian.fill("textarea[name=dc_type]", "StillImage")
        librarian.fill("textarea[name=dc_language]", "chi")
        fits_the_phone(librarian)
        screenshot(librarian, "collections-describe-360")
        librarian.click("form[action$='/items/new'] button[type=submit]")
        librarian.wait_for_url(re.compile(r".*/collections/items/\d+/edit$"))
        item_id = librarian.url.split("/")[-2]

        # --- uploads the photograph and publishes -----------------------------------------
        librarian.locator("input[type=file][name=image]").set_input_files(
            {"name": "旧址.png", "mimeType": "image/png", "buffer": photograph()})
        librarian.fill("input[name=label]", "正面")
        librarian.click("form[action$='/images'] button[type=submit]")
        librarian.locator(".sc-thumbs img").wait_for()
        assert "1600 × 1000" in librarian.locator(".sc-thumbs").inner_text()
        librarian.click("button[data-testid=publish]")
        librarian.wait_for_url(f"**/collections/items/{item_id}/edit")
        assert librarian.locator(".flash-success").count() == 1
        fits_the_phone(librarian)
        screenshot(librarian, "collections-published-360")

        # --- a visitor searches and narrows by the collection facet ----------------------
        visitor.goto(base + "/search?q=" + word)
        visitor.click("details.facets summary")
        facet = visitor.locator("[data-testid=collection-facet] a", has_text="红色记忆图片库")
        fits_the_phone(visitor)
        screenshot(visitor, "collections-facet-360")
        facet.click()
        visitor.wait_for_url(re.compile(rf".*collection={collection_id}\b.*"))
        hits = visitor.locator("ol.hits > li")
        hits.first.wait_for()
        assert hits.count() == 1 and f"{word}旧址照片" in hits.first.inner_text()
        assert "红色记忆图片库" in visitor.locator(".chips").inner_text()
        hits.first.locator("a").first.click()
        visitor.wait_for_url(re.compile(r".*/records/\d+$"))
        item_link = visitor.locator(f"main a[href$='/collections/items/{item_id}']")
        path = re.sub(r"^https?://[^/]+", "", item_link.get_attribute("href"))

        # --- the item page: the IIIF viewer draws the photograph --------------------------
        visitor.goto(base + path)
        visitor.locator(".sc-viewer canvas").wait_for()
        visitor.wait_for_function(
            "() => { const c = document.querySelector('.sc-viewer canvas');"
            " return c && c.width > 0 && c.height > 0; }")
        visitor.locator(".sc-viewer[data-loaded=true]").wait_for()
        # the tiles arrived: OpenSeadragon asked the tile set for them
        visitor.wait_for_function(
            "() => performance.getEntriesByType('resource')"
            ".some(e => /\\/iiif\\/3\\/[0-9a-f]{32}\\/\\d+,\\d+,\\d+,\\d+\\//.test(e.name))")
        # and drew them: the canvas's middle is the photograph's grey, not the empty black
        grey = visitor.evaluate(
            "() => { const c = document.querySelector('.sc-viewer canvas');"
            " const p = c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data;"
            " return [p[0], p[1], p[2]]; }")
        assert 60 < grey[0] < 200 and grey[0] == grey[1] == grey[2], grey
        assert "江西省档案馆" in visitor.locator(".sc-dc").inner_text()
        fits_the_phone(visitor)
        screenshot(visitor, "collections-viewer-360")
        assert errors == []  # no CSP refusal, no failed tile
        assert small_tap_targets(visitor, ".sc-actions a") == []

        # --- the collections page lists it -------------------------------------------------
        visitor.goto(base + "/collections")
        assert "红色记忆图片库" in visitor.locator("main").inner_text()
        assert small_tap_targets(visitor, ".sc-list h2 a") == []
        fits_the_phone(visitor)
        screenshot(visitor, "collections-index-360")
    finally:
        librarian.context.close()
        visitor.context.close()


def test_without_javascript_the_item_shows_a_sized_image(live_server, browser,
                                                          collections_setup, app):
    from jala.collections import services as collections
    from tests.support.factories import library_id
    with app.app_context():
        from jala.accounts.models import User
        librarian = db.session.execute(db.select(User).where(
            User.email == collections_setup["email"])).scalar_one()
        collection = collections.create_collection(librarian, library_id("NCU"),
                                                   title="无脚本测试", description="",
                                                   kind="images")
        item = collections.create_item(librarian, collection.id, {"title": "无脚本照片"})

        class Upload:
            filename = "p.png"
            stream = io.BytesIO(photograph())
        collections.add_image(librarian, item.id, Upload())
        collections.publish_item(librarian, item.id)
        item_id = item.id
        db.session.commit()
    context = browser.new_context(viewport={"width": 360, "height": 740},
                                  java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{live_server}/collections/items/{item_id}")
        image = page.locator(".sc-viewer img.sc-still")
        assert image.is_visible()
        assert page.locator(".sc-viewer canvas").count() == 0
        width = int(image.get_attribute("width"))
        assert width == 800 and image.evaluate("i => i.complete && i.naturalWidth") == 800
        fits_the_phone(page)
        screenshot(page, "collections-no-js-360")
    finally:
        context.close()
