"""Special collections over HTTP: the staff's forms, no IDOR, readers' pages, the search facet."""
import io
import re

from sqlalchemy import select

from jala.collections import services as collections
from jala.collections.models import CollectionItem, SpecialCollection
from jala.extensions import db
from tests.collections.conftest import image_bytes, upload
from tests.collections.test_services import DC, make_collection
from tests.support.factories import add_record, library_id
from tests.support.web import as_user, post_form, visible_text


def test_a_librarian_builds_a_collection_and_an_item_through_the_forms(client, staff):
    as_user(client, staff["ncu"])
    response = post_form(client, "/collections/manage", {
        "library_id": library_id("NCU"), "title": "赣南客家地方文献", "kind": "local",
        "description": "客家族谱与方志。"}, token_from="/collections/manage")
    assert response.status_code == 303
    collection = db.session.execute(select(SpecialCollection).where(
        SpecialCollection.title == "赣南客家地方文献")).scalar_one()
    new_item = f"/collections/{collection.id}/items/new"
    response = post_form(client, new_item, {f"dc_{k}": v for k, v in DC.items()},
                         token_from=new_item)
    assert response.status_code == 303
    item = db.session.execute(select(CollectionItem).where(
        CollectionItem.collection_id == collection.id)).scalar_one()
    edit = f"/collections/items/{item.id}/edit"
    response = post_form(client, f"/collections/items/{item.id}/images",
                         {"image": (io.BytesIO(image_bytes(800, 600)), "照片.png"),
                          "label": "正面"}, token_from=edit,
                         content_type="multipart/form-data")
    assert response.status_code == 303
    response = post_form(client, f"/collections/items/{item.id}/publish", {}, token_from=edit)
    assert response.status_code == 303
    db.session.expire_all()
    assert item.status == "published" and len(item.images) == 1
    page = client.get(f"/collections/items/{item.id}").get_data(as_text=True)
    assert "data-info=" in page and f"/iiif/3/{item.images[0].key}/full/" in page


def test_a_bad_dublin_core_value_is_shown_on_the_form(client, staff):
    collection = make_collection(staff["ncu"])
    as_user(client, staff["ncu"])
    path = f"/collections/{collection.id}/items/new"
    response = post_form(client, path, {"dc_title": "题名", "dc_date": "去年"}, token_from=path)
    assert response.status_code == 400
    assert "YYYY-MM-DD" in visible_text(response.get_data(as_text=True))


def test_a_non_image_upload_is_refused_on_the_form(client, staff):
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    as_user(client, staff["ncu"])
    edit = f"/collections/items/{item.id}/edit"
    response = post_form(client, f"/collections/items/{item.id}/images",
                         {"image": (io.BytesIO(b"%PDF-1.4 x"), "a.png")}, token_from=edit,
                         content_type="multipart/form-data")
    assert response.status_code == 400
    assert "PNG, JPEG, TIFF" in response.get_data(as_text=True)
    db.session.expire_all()
    assert item.images == []


def test_another_librarys_staff_cannot_edit_through_the_pages(client, staff):
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    as_user(client, staff["jxau"])
    assert client.get(f"/collections/{collection.id}/edit").status_code == 403
    assert client.get(f"/collections/{collection.id}/items/new").status_code == 403
    # the draft does not exist for them
    assert client.get(f"/collections/items/{item.id}/edit").status_code == 404
    token_page = "/collections"
    for path, data in ((f"/collections/{collection.id}/edit",
                        {"title": "占用", "kind": "red", "library_id": library_id("JXAU")}),
                       (f"/collections/{collection.id}/items/new", {"dc_title": "混入"}),
                       (f"/collections/items/{item.id}/publish", {}),
                       (f"/collections/items/{item.id}/images",
                        {"image": (io.BytesIO(image_bytes(50, 50)), "x.png")})):
        response = post_form(client, path, data, token_from=token_page,
                             content_type="multipart/form-data")
        assert response.status_code in (403, 404), path
    db.session.expire_all()
    assert collection.title == "红色文献图片库" and item.status == "draft"
    assert len(collection_items(collection)) == 1


def collection_items(collection):
    return db.session.execute(select(CollectionItem).where(
        CollectionItem.collection_id == collection.id)).scalars().all()


def test_forms_need_the_csrf_token(client, staff):
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    as_user(client, staff["ncu"])
    assert client.post(f"/collections/items/{item.id}/publish").status_code == 400
    db.session.expire_all()
    assert item.status == "draft"


def test_readers_see_published_items_only(client, staff, reader):
    collection = make_collection(staff["ncu"])
    draft = collections.create_item(staff["ncu"], collection.id, dict(DC, title="未发布的草稿"))
    shown = collections.create_item(staff["ncu"], collection.id, DC)
    collections.publish_item(staff["ncu"], shown.id)
    as_user(client, reader)
    listing = visible_text(client.get("/collections").get_data(as_text=True))
    assert "红色文献图片库" in listing
    page = visible_text(client.get(f"/collections/{collection.id}").get_data(as_text=True))
    assert DC["title"] in page and "未发布的草稿" not in page
    assert client.get(f"/collections/items/{draft.id}").status_code == 404
    item_page = visible_text(client.get(f"/collections/items/{shown.id}").get_data(as_text=True))
    assert "江西省档案馆" in item_page and "Nanchang University Library" in item_page


def test_the_search_facets_and_filters_on_the_collection(client, staff):
    red = make_collection(staff["ncu"])
    local = make_collection(staff["ncu"], title="地方志图库", kind="local")
    add_record("sc-book-1", ["NCU"], title="南昌起义研究")
    for title, collection in (("南昌起义旧址照片", red), ("南昌起义纪念塔", red),
                              ("南昌老城区地图", local)):
        item = collections.create_item(staff["ncu"], collection.id, dict(DC, title=title))
        collections.publish_item(staff["ncu"], item.id)
    api = client.get("/api/v1/search?q=南昌").get_json()
    facet = {entry["value"]: entry["count"] for entry in api["facets"]["collection"]}
    assert facet == {str(red.id): 2, str(local.id): 1}
    filtered = client.get(f"/api/v1/search?q=南昌起义&collection={red.id}").get_json()
    assert sorted(hit["title"] for hit in filtered["hits"]) == ["南昌起义旧址照片",
                                                                "南昌起义纪念塔"]
    browse = client.get(f"/api/v1/search?collection={local.id}").get_json()
    assert [hit["title"] for hit in browse["hits"]] == ["南昌老城区地图"]
    page = client.get("/search?q=南昌").get_data(as_text=True)
    facet_html = re.search(r'data-testid="collection-facet".*?</div>', page, re.S).group(0)
    assert "红色文献图片库" in facet_html and f"collection={red.id}" in facet_html
    chip_page = visible_text(client.get(f"/search?q=南昌&collection={local.id}")
                             .get_data(as_text=True))
    assert "地方志图库 ✕" in chip_page


def test_a_withdrawn_item_leaves_the_search(client, staff):
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, dict(DC, title="撤回的照片"))
    collections.publish_item(staff["ncu"], item.id)
    assert client.get("/api/v1/search?q=撤回的照片").get_json()["total"] == 1
    collections.withdraw_item(staff["ncu"], item.id)
    assert client.get("/api/v1/search?q=撤回的照片").get_json()["total"] == 0


def test_the_item_page_works_without_an_image(client, staff):
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, {"title": "无图条目"})
    collections.publish_item(staff["ncu"], item.id)
    assert client.get(f"/collections/items/{item.id}").status_code == 200


def test_the_upload_fixture_is_a_png(ctx):
    assert upload().stream.read(4) == b"\x89PNG"
