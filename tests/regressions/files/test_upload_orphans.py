"""A refused multi-file preview upload leaves the accepted files on disk with no row."""
import io

from jala.files import storage_dir
from tests.support.factories import add_record, make_user
from tests.support.files import png
from tests.support.web import as_user, post_form


def test_a_refused_upload_leaves_no_file_behind(client):
    # reading/routes.py manage_previews: "all the files or none" rolls back the savepoint,
    # which removes the StoredFile rows of the files already written by files.store_stream,
    # but not the files themselves; with no row the sweeper never deletes them (disk leak,
    # and copyright material kept that staff believe was refused).
    record = add_record("rlr-orphan-1", ["NCU"], title="Orphans")
    librarian = make_user(library="NCU", roles=("librarian",))
    as_user(client, librarian)
    before = {p.name for p in storage_dir().iterdir()}
    response = post_form(
        client, f"/records/{record.id}/previews",
        {"kind": "sample", "files": [(io.BytesIO(png(1)), "p1.png"),
                                     (io.BytesIO(png(2)), "p2.png"),
                                     (io.BytesIO(b"MZ not an image"), "p3.png")]},
        token_from=f"/records/{record.id}/previews", content_type="multipart/form-data")
    assert response.status_code == 400
    after = {p.name for p in storage_dir().iterdir()}
    assert after - before == set()
