"""Reading rules: who changes previews, resolvers and lists, and what each refuses."""
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from jala import clock
from jala.audit import AuditEntry
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.files import StoredFile, open_view_token
from jala.membership import get_library
from jala.reading import lists, previews, resolvers
from jala.reading.models import LinkResolver, PreviewPage, SavedList
from jala.settings import change_setting
from tests.support.factories import add_record, make_user
from tests.support.files import PDF, Upload, png


def audit(action):
    return db.session.execute(select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id.desc())).scalars().first()


def upload(user, record, kind="sample", data=None, name="page.png", caption=None):
    return previews.upload_preview(user, record.id, kind=kind, upload=Upload(data or png(), name),
                                  caption=caption)


# --- previews -----------------------------------------------------------------------------

def test_staff_of_a_holding_library_upload_a_preview_page(book, ncu_librarian):
    page = upload(ncu_librarian, book, caption="Preface")
    assert page.library_id == get_library("NCU").id and page.position == 1
    assert page.file.content_type == "image/png" and page.caption == "Preface"
    entry = audit("reading.preview_upload")
    assert entry.object_id == str(page.id) and entry.details["record_id"] == book.id
    assert previews.preview_pages(book.id) == [page]


@pytest.mark.parametrize("who", ["reader", "staff elsewhere", "public"])
def test_others_cannot_upload_previews(book, who):
    user = {"reader": lambda: make_user(library="NCU"),
            "staff elsewhere": lambda: make_user(library="JXAU", roles=("librarian",)),
            "public": lambda: make_user(library=None)}[who]()
    with pytest.raises(NotAllowed):
        upload(user, book)
    assert previews.preview_pages(book.id) == []
    assert not previews.can_manage_previews(user, book)


def test_staff_of_a_library_that_has_left_cannot_change_previews(book):
    librarian = make_user(library="ECJTU", roles=("librarian",))
    get_library("ECJTU").left_on = clock.local_today() - timedelta(days=1)
    with pytest.raises(NotAllowed):
        upload(librarian, book)


def test_a_portal_admin_may_change_any_records_previews(book, portal_admin):
    page = upload(portal_admin, book)
    assert page.uploaded_by_id == portal_admin.id


def test_uploads_are_checked_by_content(book, ncu_librarian):
    with pytest.raises(RuleViolation, match="not a valid"):
        upload(ncu_librarian, book, data=b"<html>not an image</html>", name="page.png")
    with pytest.raises(RuleViolation, match="cover must be an image"):
        upload(ncu_librarian, book, kind="cover", data=PDF, name="cover.pdf")
    with pytest.raises(RuleViolation, match="Choose what the file shows"):
        upload(ncu_librarian, book, kind="back")
    toc = upload(ncu_librarian, book, kind="toc", data=PDF, name="contents.pdf")
    assert previews.is_pdf(toc)


def test_uploads_larger_than_the_setting_are_refused(book, ncu_librarian, portal_admin):
    change_setting("reading.preview_max_mb", 1, portal_admin)
    big = png() + b"\0" * (1024 * 1024)
    with pytest.raises(RuleViolation, match="larger than 1 MB"):
        upload(ncu_librarian, book, data=big)


def test_a_new_cover_replaces_the_old_one(book, ncu_librarian):
    old = upload(ncu_librarian, book, kind="cover")
    old_file = old.file
    new = upload(ncu_librarian, book, kind="cover", data=png(2))
    assert [p.id for p in previews.preview_pages(book.id)] == [new.id]
    assert old_file.delete_after <= clock.now()
    assert audit("reading.preview_upload").details["replaced"] == [old.id]


def test_a_record_has_at_most_the_configured_number_of_pages(book, ncu_librarian, portal_admin):
    change_setting("reading.preview_pages_per_record", 2, portal_admin)
    upload(ncu_librarian, book)
    upload(ncu_librarian, book, kind="cover")
    with pytest.raises(RuleViolation, match="at most 2 preview pages"):
        upload(ncu_librarian, book)
    upload(ncu_librarian, book, kind="cover", data=png(3))  # replacing the cover still works


def test_pages_read_cover_first_then_in_their_order(book, ncu_librarian):
    one, two, three = (upload(ncu_librarian, book, data=png(n)) for n in (1, 2, 3))
    toc = upload(ncu_librarian, book, kind="toc")
    cover = upload(ncu_librarian, book, kind="cover")
    assert previews.preview_pages(book.id) == [cover, toc, one, two, three]
    previews.move_preview(ncu_librarian, book.id, three.id, "up")
    assert previews.preview_pages(book.id) == [cover, toc, one, three, two]
    previews.move_preview(ncu_librarian, book.id, one.id, "up")  # already first: no change
    assert [p.position for p in previews.preview_pages(book.id)[2:]] == [1, 2, 3]
    assert audit("reading.preview_move").details["direction"] == "up"


def test_deleting_a_page_renumbers_the_rest_and_retires_its_file(book, ncu_librarian):
    one, two, three = (upload(ncu_librarian, book, data=png(n)) for n in (1, 2, 3))
    stored = two.file
    url = previews.preview_view_url(two)
    previews.delete_preview(ncu_librarian, book.id, two.id)
    assert previews.preview_pages(book.id) == [one, three] and three.position == 2
    assert db.session.get(PreviewPage, two.id) is None
    assert stored.delete_after <= clock.now()
    assert audit("reading.preview_delete").object_id == str(two.id)
    assert url.startswith("/files/view/")


def test_a_page_of_another_record_is_not_found(book, ncu_librarian):
    other = add_record("reading-2", ["NCU"], title="其他")
    page = upload(ncu_librarian, other)
    with pytest.raises(NotFound):
        previews.delete_preview(ncu_librarian, book.id, page.id)
    with pytest.raises(NotFound):
        previews.move_preview(ncu_librarian, book.id, page.id, "down")


def test_staff_of_another_library_cannot_delete_or_move(book, ncu_librarian):
    page = upload(ncu_librarian, book)
    stranger = make_user(library="JXAU", roles=("librarian",))
    with pytest.raises(NotAllowed):
        previews.delete_preview(stranger, book.id, page.id)
    with pytest.raises(NotAllowed):
        previews.move_preview(stranger, book.id, page.id, "down")
    # staff of the other holding library may: the preview belongs to the record
    ecjtu = make_user(library="ECJTU", roles=("librarian",))
    previews.delete_preview(ecjtu, book.id, page.id)


def test_cover_urls_for_a_page_of_results_take_one_query(book, ncu_librarian):
    other = add_record("reading-3", ["NCU"], title="无封面")
    cover = upload(ncu_librarian, book, kind="cover")
    db.session.flush()
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        urls = previews.cover_urls([book, other])
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert set(urls) == {book.id}
    assert open_view_token(urls[book.id].rsplit("/", 1)[1]).id == cover.file_id
    assert previews.cover_urls([]) == {}


def test_a_preview_image_url_expires(book, ncu_librarian):
    page = upload(ncu_librarian, book)
    token = previews.preview_view_url(page).rsplit("/", 1)[1]
    assert open_view_token(token) == db.session.get(StoredFile, page.file_id)
    clock.advance(timedelta(seconds=previews.PREVIEW_URL_SECONDS + 5))
    with pytest.raises(RuleViolation):
        open_view_token(token)


# --- link resolvers -----------------------------------------------------------------------

def test_a_library_admin_sets_the_resolver(ctx):
    admin = make_user(library="NCU", roles=("library_admin",))
    resolver = resolvers.save_link_resolver(admin, "ncu", " https://sfx.ncu.edu.cn/sfx ", "SFX")
    assert resolver.base_url == "https://sfx.ncu.edu.cn/sfx" and resolver.label == "SFX"
    assert audit("reading.link_resolver_save").details["from"] is None
    resolvers.save_link_resolver(admin, "NCU", "https://sfx.ncu.edu.cn/v2", None)
    entry = audit("reading.link_resolver_save")
    assert entry.details["from"]["base_url"] == "https://sfx.ncu.edu.cn/sfx"
    assert db.session.execute(select(LinkResolver).where(
        LinkResolver.library_id == get_library("NCU").id)).scalar_one().label is None
    resolvers.delete_link_resolver(admin, "NCU")
    assert resolvers.link_resolver_of(admin, "NCU")[1] is None
    assert audit("reading.link_resolver_delete") is not None


@pytest.mark.parametrize("who", ["librarian", "admin elsewhere", "reader"])
def test_only_the_librarys_admins_set_its_resolver(ctx, who):
    user = {"librarian": lambda: make_user(library="NCU", roles=("librarian",)),
            "admin elsewhere": lambda: make_user(library="JXAU", roles=("library_admin",)),
            "reader": lambda: make_user(library="NCU")}[who]()
    with pytest.raises(NotAllowed):
        resolvers.save_link_resolver(user, "NCU", "https://sfx.ncu.edu.cn/sfx")
    with pytest.raises(NotAllowed):
        resolvers.link_resolver_of(user, "NCU")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://x.edu.cn/sfx", "https://",
                                 "sfx.ncu.edu.cn", "https://x.cn/a b", "https://x.cn/#top",
                                 "https://x.cn/" + "a" * 500])
def test_a_resolver_address_must_be_a_web_address(ctx, url):
    admin = make_user(library="NCU", roles=("library_admin",))
    with pytest.raises(RuleViolation, match="full base address"):
        resolvers.save_link_resolver(admin, "NCU", url)


def test_a_library_that_has_left_cannot_set_a_resolver_and_its_link_goes(book):
    admin = make_user(library="JJU", roles=("library_admin",))
    resolvers.save_link_resolver(admin, "JJU", "https://sfx.jju.edu.cn/sfx")
    assert [link[0].code for link in resolvers.resolver_links(None, book)].count("JJU") == 1
    get_library("JJU").left_on = clock.local_today()
    with pytest.raises(RuleViolation, match="has left"):
        resolvers.save_link_resolver(admin, "JJU", "https://sfx.jju.edu.cn/v2")
    assert "JJU" not in [link[0].code for link in resolvers.resolver_links(None, book)]


def test_the_readers_own_library_comes_first(book):
    for code in ("JXUFE", "NCU", "YCU"):
        resolvers.save_link_resolver(make_user(library=code, roles=("library_admin",)), code,
                                   f"https://sfx.{code.lower()}.edu.cn/sfx?x=1")
    reader = make_user(library="YCU")
    codes = [link[0].code for link in resolvers.resolver_links(reader, book)]
    assert codes[0] == "YCU" and codes.index("JXUFE") < codes.index("NCU")
    library, label, url = resolvers.resolver_links(reader, book)[0]
    assert url.startswith("https://sfx.ycu.edu.cn/sfx?x=1&url_ver=Z39.88-2004&")
    assert "rft.btitle=" in url


# --- saved lists --------------------------------------------------------------------------

def test_the_first_save_makes_the_default_list(book, reader):
    saved, item = lists.save_record(reader, book.id)
    assert saved.name == "My list" and saved.owner_id == reader.id and saved.share_token is None
    again, same = lists.save_record(reader, book.id)
    assert again.id == saved.id and same.id == item.id
    assert lists.my_lists(reader) == [saved]
    assert lists.list_records(saved) == [book]
    assert lists.lists_with_record(reader, book.id) == [saved]


def test_a_reader_saves_to_a_list_of_their_choice(book, reader):
    lists.save_record(reader, book.id)
    reading_list = lists.create_list(reader, "  Thesis   sources ")
    assert reading_list.name == "Thesis sources"
    lists.save_record(reader, book.id, reading_list.id)
    assert len(lists.lists_with_record(reader, book.id)) == 2
    lists.remove_record(reader, reading_list.id, book.id)
    lists.remove_record(reader, reading_list.id, book.id)  # gone already: no error
    assert lists.list_records(reading_list) == []


def test_another_users_list_is_not_found(book, reader):
    saved, _item = lists.save_record(reader, book.id)
    other = make_user(library="NCU")
    for attempt in (lambda: lists.save_record(other, book.id, saved.id),
                    lambda: lists.remove_record(other, saved.id, book.id),
                    lambda: lists.rename_list(other, saved.id, "mine now"),
                    lambda: lists.delete_list(other, saved.id),
                    lambda: lists.share_list(other, saved.id),
                    lambda: lists.stop_sharing(other, saved.id),
                    lambda: lists.get_own_list(other, saved.id)):
        with pytest.raises(NotFound):
            attempt()
    assert saved.name == "My list" and lists.list_records(saved) == [book]
    assert saved.share_token is None


def test_sharing_by_link_and_stopping(book, reader):
    saved, _item = lists.save_record(reader, book.id)
    lists.share_list(reader, saved.id)
    token = saved.share_token
    assert len(token) == 43
    assert lists.share_list(reader, saved.id).share_token == token  # one link at a time
    assert lists.shared_list(token) == saved
    lists.stop_sharing(reader, saved.id)
    with pytest.raises(NotFound):
        lists.shared_list(token)
    lists.share_list(reader, saved.id)
    assert saved.share_token != token  # sharing again makes a new link


@pytest.mark.parametrize("token", ["", "short", "x" * 43, "../" * 15, None])
def test_a_wrong_share_token_is_not_found(ctx, token):
    with pytest.raises(NotFound):
        lists.shared_list(token)


def test_list_names_and_limits(book, reader, portal_admin):
    with pytest.raises(RuleViolation, match="name"):
        lists.create_list(reader, "   ")
    change_setting("reading.lists_per_user", 2, portal_admin)
    first = lists.create_list(reader, "A")
    lists.create_list(reader, "B")
    with pytest.raises(RuleViolation, match="at most 2 lists"):
        lists.create_list(reader, "C")
    change_setting("reading.items_per_list", 10, portal_admin)
    for n in range(10):
        lists.save_record(reader, add_record(f"reading-many-{n}", ["NCU"]).id, first.id)
    with pytest.raises(RuleViolation, match="already holds 10 records"):
        lists.save_record(reader, book.id, first.id)
    assert lists.rename_list(reader, first.id, "Renamed").name == "Renamed"
    lists.delete_list(reader, first.id)
    assert db.session.get(SavedList, first.id) is None


def test_saving_a_missing_record_is_not_found(ctx, reader):
    with pytest.raises(NotFound):
        lists.save_record(reader, 2 ** 40)
