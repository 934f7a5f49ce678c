"""Reading pages over HTTP: the record panel, previews, citations, lists, HTMX, CSRF, IDOR."""
import io
import re

import pytest
from sqlalchemy import select

from jala.extensions import db
from jala.reading import lists, previews
from jala.reading.models import PreviewPage, SavedList, SavedListItem
from tests.support.factories import add_record, make_user
from tests.support.files import PDF, Upload, png
from tests.support.web import HTMX, as_user, other_client, post_form


@pytest.fixture
def record(client):
    return add_record("reading-web-1", ["NCU", "ECJTU"], title="鄱阳湖湿地鸟类图志",
                      authors=["刘一", "陈二"], year=2018, publisher="江西科学技术出版社",
                      place="南昌", isbn="9787539062549", doi="10.1000/jala.1",
                      url="https://example.org/full/1")


def items_of(user):
    return db.session.execute(
        select(SavedListItem).join(SavedList).where(SavedList.owner_id == user.id)
    ).scalars().all()


# --- the record page ----------------------------------------------------------------------

def test_a_visitor_sees_links_citation_coins_and_a_login_to_save(client, record):
    post_form(client, "/language", {"lang": "en"})
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert re.search(r'<span class="Z3988" title="ctx_ver=Z39.88-2004&amp;rfr_id=[^"]*'
                     r'rft.btitle=%E9%84%B1', page)
    assert ("刘一, 陈二. 鄱阳湖湿地鸟类图志[M/OL]. 南昌: 江西科学技术出版社, 2018. "
            "https://example.org/full/1. DOI:10.1000/jala.1.") in page
    assert 'href="https://doi.org/10.1000/jala.1"' in page
    assert 'href="https://example.org/full/1"' in page
    assert f"/login?next=/records/{record.id}" in page
    assert "Look inside" not in page  # no preview pages, and not staff


def test_the_record_page_shows_the_preview_strip(client, record):
    librarian = make_user(library="NCU", roles=("librarian",))
    cover = previews.upload_preview(librarian, record.id, kind="cover", upload=Upload(png(0)))
    sample = previews.upload_preview(librarian, record.id, kind="sample", upload=Upload(png(1)))
    toc = previews.upload_preview(librarian, record.id, kind="toc", upload=Upload(PDF, "t.pdf"))
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    strip = page[page.index('class="preview-strip"'):page.index("</ol>", page.index(
        'class="preview-strip"'))]
    assert strip.count("<li") == 3 and strip.count("/files/view/") == 2
    assert 'loading="lazy"' in strip and "1 / 3" in strip and "3 / 3" in strip
    assert f"/records/{record.id}/preview#p-{cover.id}" in strip
    assert f"/records/{record.id}/preview/{toc.id}/file" in strip
    viewer = client.get(f"/records/{record.id}/preview").get_data(as_text=True)
    assert f'id="p-{sample.id}"' in viewer and f'href="#p-{toc.id}"' in viewer
    # a PDF (or a page at full size) opens through a fresh short-lived link
    response = client.get(f"/records/{record.id}/preview/{toc.id}/file")
    assert response.status_code == 302 and "/files/view/" in response.headers["Location"]
    shown = client.get(response.headers["Location"])
    assert shown.status_code == 200 and shown.data == PDF
    other = add_record("reading-web-2", ["NCU"])
    assert client.get(f"/records/{other.id}/preview/{toc.id}/file").status_code == 404


def test_search_results_show_covers(client, record):
    librarian = make_user(library="NCU", roles=("librarian",))
    previews.upload_preview(librarian, record.id, kind="cover", upload=Upload(png(0)))
    page = client.get("/search?q=鄱阳湖湿地鸟类图志").get_data(as_text=True)
    [hit] = [h for h in page.split('<li class="hit card">')[1:]
             if f'class="hit-title" href="/records/{record.id}"' in h.split("</li>")[0]]
    assert re.match(rf'\s*<a class="hit-cover" href="/records/{record.id}"[^>]*><img '
                    r'src="/files/view/[^"]+" alt="" width="56"', hit)


def test_citation_downloads_and_the_all_formats_page(client, record):
    ris = client.get(f"/records/{record.id}/cite.ris")
    assert ris.status_code == 200 and ris.mimetype == "application/x-research-info-systems"
    assert ris.headers["Content-Disposition"] == \
        f"attachment; filename=jala-record-{record.id}.ris"
    assert ris.get_data(as_text=True).startswith("TY  - BOOK\nAU  - 刘一\n")
    bib = client.get(f"/records/{record.id}/cite.bib").get_data(as_text=True)
    assert bib.startswith("@book{liu2018poyang,\n")
    txt = client.get(f"/records/{record.id}/cite.txt")
    assert txt.mimetype == "text/plain" and txt.get_data(as_text=True).startswith("刘一, 陈二.")
    assert client.get(f"/records/{record.id}/cite.doc").status_code == 404
    csl = client.get(f"/records/{record.id}/cite.json")
    assert csl.mimetype == "application/vnd.citationstyles.csl+json"
    assert csl.headers["Content-Disposition"] == \
        f"attachment; filename=jala-record-{record.id}.json"
    assert csl.get_json()[0]["type"] == "book" and csl.get_json()[0]["id"] == str(record.id)
    page = client.get(f"/records/{record.id}/cite").get_data(as_text=True)
    assert page.count('class="citation-text"') == 4 and "TY  - BOOK" in page


# --- saving to lists ----------------------------------------------------------------------

def test_a_reader_saves_with_htmx_and_gets_the_box_back(client, record):
    reader = make_user()
    as_user(client, reader)
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert "Save to my list" in page
    response = post_form(client, "/lists/save", {"record_id": str(record.id)}, headers=HTMX)
    assert response.status_code == 200
    box = response.get_data(as_text=True)
    assert box.lstrip().startswith(f'<section class="card save-box" id="save-{record.id}"')
    assert "Saved" in box and "My list" in box and "<html" not in box
    [item] = items_of(reader)
    assert item.record_id == record.id
    # taking it out from the record page gives the box back too
    response = post_form(client, f"/lists/{item.list_id}/records/{record.id}/remove", {},
                         headers={**HTMX, "HX-Target": f"save-{record.id}"})
    assert response.status_code == 200 and "Save to “My list”" in response.get_data(as_text=True)
    assert items_of(reader) == []


def test_saving_without_htmx_redirects_to_the_record(client, record):
    reader = make_user()
    as_user(client, reader)
    response = post_form(client, "/lists/save", {"record_id": str(record.id)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/records/{record.id}")
    assert "Saved in “My list”" in client.get(f"/records/{record.id}").get_data(as_text=True)


def test_saving_needs_a_login_and_the_csrf_token(client, record):
    response = post_form(client, "/lists/save", {"record_id": str(record.id)}, headers=HTMX)
    assert "/login" in response.headers["HX-Redirect"]
    reader = make_user()
    as_user(client, reader)
    client.get(f"/records/{record.id}")  # the session has its CSRF token: this is a forgery
    response = client.post("/lists/save", data={"record_id": str(record.id)})
    assert response.status_code == 400
    assert items_of(reader) == []


def test_a_refused_save_comes_back_in_the_box_with_status_200(client, record):
    reader = make_user()
    admin = make_user(library=reading_chair_code(), roles=("portal_admin",))
    from jala.settings import change_setting

    change_setting("reading.items_per_list", 10, admin)
    saved = lists.create_list(reader, "Full")
    for n in range(10):
        lists.save_record(reader, add_record(f"reading-full-{n}", ["NCU"]).id, saved.id)
    as_user(client, reader)
    response = post_form(client, "/lists/save", {"record_id": str(record.id),
                                                 "list_id": str(saved.id)}, headers=HTMX)
    assert response.status_code == 200
    assert "already holds 10 records" in response.get_data(as_text=True)
    assert record.id not in [i.record_id for i in items_of(reader)]


def reading_chair_code():
    from jala.membership import current_chair_library

    return current_chair_library().code


def test_saving_into_someone_elses_list_is_not_found(client, record):
    owner = make_user()
    saved = lists.create_list(owner, "Private")
    intruder = make_user()
    as_user(client, intruder)
    response = post_form(client, "/lists/save", {"record_id": str(record.id),
                                                 "list_id": str(saved.id)}, headers=HTMX)
    assert response.status_code == 404
    assert items_of(owner) == [] and items_of(intruder) == []


# --- the owner's lists ------------------------------------------------------------------------

def test_lists_pages_create_rename_export_and_delete(client, record):
    reader = make_user()
    as_user(client, reader)
    response = post_form(client, "/lists", {"name": "Birds"}, token_from="/lists")
    assert response.status_code == 303
    [saved] = lists.my_lists(reader)
    assert response.headers["Location"].endswith(f"/lists/{saved.id}")
    lists.save_record(reader, record.id, saved.id)
    page = client.get(f"/lists/{saved.id}").get_data(as_text=True)
    assert "鄱阳湖湿地鸟类图志" in page and "刘一, 陈二. 鄱阳湖湿地鸟类图志[M/OL]" in page
    assert "Birds" in client.get("/lists").get_data(as_text=True)
    response = post_form(client, f"/lists/{saved.id}/rename", {"name": "Wetland birds"})
    assert response.status_code == 303 and saved.name == "Wetland birds"
    assert post_form(client, f"/lists/{saved.id}/rename", {"name": ""}).status_code == 400
    export = client.get(f"/lists/{saved.id}/export.bib")
    assert export.headers["Content-Disposition"] == \
        f"attachment; filename=jala-list-{saved.id}.bib"
    assert export.get_data(as_text=True).startswith("@book{liu2018poyang,")
    listed = client.get(f"/lists/{saved.id}/export.json").get_json()
    assert [item["title"] for item in listed] == ["鄱阳湖湿地鸟类图志"]
    assert post_form(client, "/lists", {"name": ""}, token_from="/lists").status_code == 400
    response = post_form(client, f"/lists/{saved.id}/delete", {})
    assert response.status_code == 303 and lists.my_lists(reader) == []


def test_another_readers_list_is_not_found_anywhere(client, record):
    owner = make_user()
    saved, _item = lists.save_record(owner, record.id)
    intruder = other_client(client, make_user())
    assert intruder.get(f"/lists/{saved.id}").status_code == 404
    assert intruder.get(f"/lists/{saved.id}/export.ris").status_code == 404
    for action in ("rename", "delete", "share", "unshare", f"records/{record.id}/remove"):
        response = post_form(intruder, f"/lists/{saved.id}/{action}", {"name": "x"},
                             token_from="/lists")
        assert response.status_code == 404, action
    # made by a service call outside any page, so named in Chinese, the portal's default
    assert saved.name in ("My list", "默认收藏夹") and saved.share_token is None
    assert [i.record_id for i in items_of(owner)] == [record.id]


def test_sharing_a_list_by_link_then_stopping(client, record):
    reader = make_user()
    saved, _item = lists.save_record(reader, record.id)
    as_user(client, reader)
    response = post_form(client, f"/lists/{saved.id}/share", {}, headers=HTMX)
    box = response.get_data(as_text=True)
    assert response.status_code == 200 and box.lstrip().startswith('<div id="share-box"')
    token = saved.share_token
    assert f"/shared/lists/{token}" in box
    visitor = client.application.test_client()
    shared = visitor.get(f"/shared/lists/{token}")
    page = shared.get_data(as_text=True)
    assert shared.status_code == 200 and "鄱阳湖湿地鸟类图志" in page
    assert shared.headers["X-Robots-Tag"] == "noindex"
    assert "/remove" not in page and "/rename" not in page and reader.email not in page
    assert visitor.get(f"/shared/lists/{token}/export.ris").get_data(as_text=True).startswith(
        "TY  - BOOK")
    response = post_form(client, f"/lists/{saved.id}/unshare", {}, headers=HTMX)
    assert "Share by link" in response.get_data(as_text=True)
    assert visitor.get(f"/shared/lists/{token}").status_code == 404
    assert visitor.get(f"/shared/lists/{token}/export.txt").status_code == 404


def test_removing_from_the_list_page_with_htmx(client, record):
    reader = make_user()
    saved, _item = lists.save_record(reader, record.id)
    as_user(client, reader)
    response = post_form(client, f"/lists/{saved.id}/records/{record.id}/remove", {},
                         headers={**HTMX, "HX-Target": f"item-{record.id}"})
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    assert items_of(reader) == []


# --- staff: previews ----------------------------------------------------------------------

def upload_files(client, record, files, kind="sample"):
    data = {"kind": kind, "caption": "", "files": [(io.BytesIO(d), n) for d, n in files]}
    return post_form(client, f"/records/{record.id}/previews", data,
                     token_from=f"/records/{record.id}/previews",
                     content_type="multipart/form-data")


def test_a_librarian_uploads_reorders_and_deletes_pages(client, record):
    librarian = make_user(library="NCU", roles=("librarian",))
    as_user(client, librarian)
    assert "Manage preview pages" in client.get(f"/records/{record.id}").get_data(as_text=True)
    response = upload_files(client, record, [(png(1), "1.png"), (png(2), "2.png")])
    assert response.status_code == 303
    first, second = previews.preview_pages(record.id)
    response = post_form(client, f"/records/{record.id}/previews/{second.id}/move",
                         {"direction": "up"}, headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="preview-admin">')
    assert html.index(f'id="preview-{second.id}"') < html.index(f'id="preview-{first.id}"')
    response = post_form(client, f"/records/{record.id}/previews/{first.id}/delete", {},
                         headers=HTMX)
    assert response.status_code == 200 and f'id="preview-{first.id}"' not in \
        response.get_data(as_text=True)
    assert previews.preview_pages(record.id) == [second]


def test_one_bad_file_keeps_the_whole_upload_out(client, record):
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    response = upload_files(client, record, [(png(1), "1.png"), (b"MZ\x90\x00evil", "2.png")])
    assert response.status_code == 400
    assert "2.png: The file is not a valid" in response.get_data(as_text=True)
    assert previews.preview_pages(record.id) == []
    response = upload_files(client, record, [(PDF, "cover.pdf")], kind="cover")
    assert response.status_code == 400 and "cover must be an image" in \
        response.get_data(as_text=True)


def test_a_refused_move_comes_back_in_the_list(client, record):
    librarian = make_user(library="NCU", roles=("librarian",))
    page = previews.upload_preview(librarian, record.id, kind="sample", upload=Upload(png()))
    as_user(client, librarian)
    response = post_form(client, f"/records/{record.id}/previews/{page.id}/move",
                         {"direction": "sideways"}, headers=HTMX)
    assert response.status_code == 200 and 'role="alert"' in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["reader", "staff elsewhere"])
def test_others_cannot_manage_previews(client, record, who):
    librarian = make_user(library="NCU", roles=("librarian",))
    page = previews.upload_preview(librarian, record.id, kind="sample", upload=Upload(png()))
    user = make_user(library="JXAU", roles=("librarian",) if who == "staff elsewhere" else ())
    as_user(client, user)
    assert client.get(f"/records/{record.id}/previews").status_code == 403
    assert upload_files(client, record, [(png(), "x.png")]).status_code == 403
    token_page = f"/records/{record.id}"
    for action, data in (("move", {"direction": "up"}), ("delete", {})):
        response = post_form(client, f"/records/{record.id}/previews/{page.id}/{action}", data,
                             token_from=token_page, headers=HTMX)
        assert response.status_code == 403
    assert db.session.get(PreviewPage, page.id) is not None


def test_a_visitor_is_sent_to_log_in_to_manage(client, record):
    response = client.get(f"/records/{record.id}/previews")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- library admins: link resolvers -------------------------------------------------------

def test_a_library_admin_sets_the_resolver_and_its_readers_see_it_first(client, record):
    admin = make_user(library="NCU", roles=("library_admin",))
    as_user(client, admin)
    response = post_form(client, "/libraries/NCU/link-resolver",
                         {"base_url": "https://sfx.ncu.edu.cn/sfx", "label": "Full text at NCU"},
                         token_from="/libraries/NCU/link-resolver")
    assert response.status_code == 303
    bad = post_form(client, "/libraries/NCU/link-resolver", {"base_url": "javascript:alert(1)"},
                    token_from="/libraries/NCU/link-resolver")
    assert bad.status_code == 400 and "full base address" in bad.get_data(as_text=True)
    reader = other_client(client, make_user(library="NCU"))
    page = reader.get(f"/records/{record.id}").get_data(as_text=True)
    assert re.search(rf'<a class="button primary" href="/records/{record.id}/full-text/NCU"'
                     r' rel="noopener nofollow" data-resolver="NCU">Full text at NCU</a>', page)
    assert reader.get(f"/records/{record.id}/full-text/NCU").location.startswith(
        "https://sfx.ncu.edu.cn/sfx?url_ver=Z39.88-2004&")  # counted, then on to the resolver
    outsider = other_client(client, make_user(library="JXAU"))
    page = outsider.get(f"/records/{record.id}").get_data(as_text=True)
    assert "Through a member library" in page and 'data-resolver="NCU"' in page
    response = post_form(client, "/libraries/NCU/link-resolver/delete", {},
                         token_from="/libraries/NCU/link-resolver")
    assert response.status_code == 303
    assert 'data-resolver="NCU"' not in reader.get(f"/records/{record.id}").get_data(as_text=True)


def test_a_librarian_cannot_set_the_resolver(client):
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    assert client.get("/libraries/NCU/link-resolver").status_code == 403
    response = post_form(client, "/libraries/NCU/link-resolver",
                         {"base_url": "https://evil.example/sfx"})
    assert response.status_code == 403
    assert post_form(client, "/libraries/NCU/link-resolver/delete", {}).status_code == 403
