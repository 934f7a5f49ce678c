"""Private files: content checks, signed links that expire and count, deletion by the sweeper."""
import io
from datetime import timedelta

import pytest

from jala import clock
from jala.errors import RuleViolation
from jala.files import create_link, open_link, storage_dir, store_upload
from jala.jobs import sweep
from tests.support.files import PDF, PNG


def test_pdf_is_accepted_by_content_not_by_name(ctx):
    stored = store_upload(io.BytesIO(PDF), "scan.jpg", allowed_kinds=("pdf",), max_bytes=10_000)
    assert stored.content_type == "application/pdf" and stored.size == len(PDF)
    assert (storage_dir() / stored.storage_name).read_bytes() == PDF


def test_png_named_pdf_is_refused_and_nothing_is_kept(ctx):
    before = set(storage_dir().iterdir())
    with pytest.raises(RuleViolation):
        store_upload(io.BytesIO(PNG), "letter.pdf", allowed_kinds=("pdf",), max_bytes=10_000)
    assert set(storage_dir().iterdir()) == before


def test_oversized_upload_is_refused_and_its_partial_file_removed(ctx):
    before = set(storage_dir().iterdir())
    with pytest.raises(RuleViolation):
        store_upload(io.BytesIO(PDF + b"x" * 200_000), "big.pdf", allowed_kinds=("pdf",),
                     max_bytes=100_000)
    assert set(storage_dir().iterdir()) == before


def test_path_in_original_name_is_dropped(ctx):
    stored = store_upload(io.BytesIO(PDF), "../../etc/passwd.pdf", allowed_kinds=("pdf",),
                          max_bytes=10_000)
    assert stored.original_name == "passwd.pdf"


def test_link_counts_downloads_and_explains_when_used_up(client):
    stored = store_upload(io.BytesIO(PDF), "article.pdf", allowed_kinds=("pdf",), max_bytes=10_000)
    _, url = create_link(stored, valid_for=timedelta(days=20), max_downloads=2)
    path = url.split("127.0.0.1:5000")[1]
    with client.get(path) as first:
        assert first.status_code == 200 and first.data == PDF
        assert first.headers["X-Downloads-Remaining"] == "1"
    with client.get(path) as second:
        assert second.status_code == 200
    used_up = client.get(path)
    assert used_up.status_code == 410
    assert "Traceback" not in used_up.get_data(as_text=True)


def test_link_expires(ctx):
    stored = store_upload(io.BytesIO(PDF), "a.pdf", allowed_kinds=("pdf",), max_bytes=10_000)
    _, url = create_link(stored, valid_for=timedelta(days=20))
    token = url.rsplit("/", 1)[1]
    clock.advance(timedelta(days=20, seconds=1))
    with pytest.raises(RuleViolation) as expired:
        open_link(token)
    assert expired.value.status == 410


def test_tampered_token_is_not_found(client):
    stored = store_upload(io.BytesIO(PDF), "a.pdf", allowed_kinds=("pdf",), max_bytes=10_000)
    _, url = create_link(stored, valid_for=timedelta(days=1))
    token = url.rsplit("/", 1)[1]
    assert client.get("/files/" + token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
                      ).status_code == 404


def test_sweeper_deletes_expired_files(ctx):
    stored = store_upload(io.BytesIO(PDF), "a.pdf", allowed_kinds=("pdf",), max_bytes=10_000,
                          delete_after=clock.now() + timedelta(days=20))
    name = stored.storage_name
    sweep()
    assert (storage_dir() / name).exists()
    clock.advance(timedelta(days=21))
    sweep()
    assert not (storage_dir() / name).exists()


def test_a_view_url_shows_the_file_inline_until_it_expires(client, app):
    import io

    from jala.files import signed_view_url, store_upload

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    with app.test_request_context("/"):
        stored = store_upload(io.BytesIO(png), "cover.png", allowed_kinds=("png",),
                              max_bytes=1024)
        url = signed_view_url(stored, max_age_seconds=600)
    response = client.get(url)
    assert response.status_code == 200 and response.data == png
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == "inline"
    response.close()
    assert client.get(url[:-3] + "abc").status_code == 410
    from datetime import timedelta

    from jala import clock

    clock.advance(timedelta(seconds=601))
    assert client.get(url).status_code == 410
