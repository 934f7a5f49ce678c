"""Signed view links (jala/files.py signed_view_url/open_view_token, core.view_file)."""
import io

import pytest
from sqlalchemy import select

from jala import clock
from jala.errors import RuleViolation
from jala.extensions import db
from jala.files import open_view_token, signed_view_url
from jala.reading import previews
from jala.reference.models import Question, QuestionMessage
from tests.support.factories import add_record, make_user
from tests.support.files import PNG, Upload, png
from tests.support.web import as_user, post_form


def test_a_private_question_image_is_not_served_as_publicly_cacheable(client):
    # core/routes.py view_file: send_file(..., max_age=300) sets
    # "Cache-Control: public, max-age=300" (and web.py's setdefault("no-store") then does
    # nothing): a reader's private attachment may be kept by shared proxies/CDNs and served
    # to others for 5 minutes.
    reader = make_user(library="JXUFE")
    as_user(client, reader)
    response = post_form(client, "/reference/ask",
                         {"subject": "my ID card", "body": "see picture",
                          "attachment": (io.BytesIO(PNG), "id-card.png")},
                         token_from="/reference/ask", content_type="multipart/form-data")
    assert response.status_code == 303
    question = db.session.execute(
        select(Question).where(Question.asker_id == reader.id)).scalar_one()
    message = db.session.execute(select(QuestionMessage).where(
        QuestionMessage.question_id == question.id)).scalar_one()
    redirect = client.get(f"/reference/questions/{question.id}/attachments/{message.id}")
    assert redirect.status_code == 302
    image = client.get(redirect.headers["Location"])
    assert image.status_code == 200 and image.mimetype == "image/png"
    cache = image.headers.get("Cache-Control", "")
    assert "public" not in cache and ("private" in cache or "no-store" in cache), cache


def test_a_deleted_preview_page_is_no_longer_served_by_an_issued_view_url(ctx):
    # reading/previews.py delete_preview -> _retire_file sets delete_after=now and deletes
    # the page; files.py open_view_token checks deleted_at only (set later by the sweeper),
    # so every URL already handed out keeps serving the withdrawn page for up to an hour
    # (PREVIEW_URL_SECONDS) or until the next sweep.
    record = add_record("rlr-view-1", ["NCU"], title="Preview delete")
    librarian = make_user(library="NCU", roles=("librarian",))
    page = previews.upload_preview(librarian, record.id, kind="sample", upload=Upload(png(1)))
    url = signed_view_url(page.file, 3600)
    token = url.rsplit("/", 1)[1]
    stored = page.file
    previews.delete_preview(librarian, record.id, page.id)
    assert stored.delete_after <= clock.now()
    with pytest.raises(RuleViolation):
        open_view_token(token)
