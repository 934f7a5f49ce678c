"""IIIF: info.json and tiles of a published item's images, its manifest, 404s for drafts."""
import io
import json
import math
import struct
import zlib
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

from jala.collections import services as collections
from tests.collections.conftest import image_bytes, upload
from tests.collections.test_services import DC, make_collection

SCHEMA = json.loads((Path(__file__).parent / "data" / "iiif_3_0.json").read_text("utf-8"))


@pytest.fixture
def published(staff):
    """A published item with two images (1200 × 700 and 300 × 500)."""
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    big = collections.add_image(staff["ncu"], item.id, upload(image_bytes(1200, 700)), "正面")
    small = collections.add_image(staff["ncu"], item.id, upload(image_bytes(300, 500)))
    collections.publish_item(staff["ncu"], item.id)
    return item, big, small


def _image(response):
    data = response.data
    response.close()  # send_file's file
    return Image.open(io.BytesIO(data))


def test_info_json_lists_sizes_and_tiles_and_allows_any_origin(client, published):
    _, big, _ = published
    response = client.get(f"/iiif/3/{big.key}/info.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    info = response.get_json()
    assert info["@context"] == "http://iiif.io/api/image/3/context.json"
    assert info["type"] == "ImageService3" and info["profile"] == "level0"
    assert info["id"].endswith(f"/iiif/3/{big.key}")
    assert (info["width"], info["height"]) == (1200, 700)
    assert info["tiles"] == [{"width": 512, "scaleFactors": [1, 2, 4]}]
    assert {"width": 600, "height": 350} in info["sizes"]


def test_every_tile_info_json_promises_is_served_at_its_size(client, published):
    _, big, _ = published
    info = client.get(f"/iiif/3/{big.key}/info.json").get_json()
    tile = info["tiles"][0]["width"]
    served = 0
    for factor in info["tiles"][0]["scaleFactors"]:
        span = tile * factor
        for y in range(0, info["height"], span):
            for x in range(0, info["width"], span):
                w, h = min(span, info["width"] - x), min(span, info["height"] - y)
                size = (math.ceil(w / factor), math.ceil(h / factor))
                # the canonical form, and the "w," form viewers also write
                for written in (f"{size[0]},{size[1]}", f"{size[0]},"):
                    response = client.get(f"/iiif/3/{big.key}/{x},{y},{w},{h}/{written}"
                                          "/0/default.jpg")
                    assert response.status_code == 200, (x, y, w, h, written)
                    assert response.headers["Access-Control-Allow-Origin"] == "*"
                    assert response.headers["Cache-Control"].startswith("public")
                    assert _image(response).size == size
                    served += 1
    assert served == 2 * (6 + 2 + 1)  # 3 × 2 tiles at 1, 2 × 1 at 2, one at 4


def test_sizes_and_full_max_are_served(client, published):
    _, big, _ = published
    for width, height in big.tiles["sizes"]:
        response = client.get(f"/iiif/3/{big.key}/full/{width},{height}/0/default.jpg")
        assert _image(response).size == (width, height)
    assert _image(client.get(f"/iiif/3/{big.key}/full/max/0/default.jpg")).size == (1200, 700)


def test_what_level_0_does_not_have_is_404(client, published):
    _, big, _ = published
    for path in ("full/max/90/default.jpg", "full/333,/0/default.jpg", "full/max/0/gray.jpg",
                 "0,0,100,100/100,100/0/default.jpg", "full/max/0/default.png"):
        assert client.get(f"/iiif/3/{big.key}/{path}").status_code == 404, path


def test_the_manifest_validates_against_the_iiif_presentation_3_schema(client, published):
    item, big, small = published
    response = client.get(f"/iiif/3/{item.id}/manifest.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    manifest = response.get_json()
    jsonschema.validate(manifest, SCHEMA)
    assert manifest["type"] == "Manifest" and manifest["label"] == {"zh": [DC["title"]]}
    assert manifest["rights"] == DC["rights"]
    assert manifest["requiredStatement"]["value"]["zh"] == ["南昌大学图书馆"]
    labels = [entry["label"]["en"][0] for entry in manifest["metadata"]]
    assert labels[:3] == ["Title", "Creator", "Subject"]
    assert manifest["metadata"][0]["label"]["zh"] == ["题名"]
    canvases = manifest["items"]
    assert [(c["width"], c["height"]) for c in canvases] == [(1200, 700), (300, 500)]
    annotation = canvases[0]["items"][0]["items"][0]
    assert annotation["motivation"] == "painting" and annotation["target"] == canvases[0]["id"]
    service = annotation["body"]["service"][0]
    assert service["type"] == "ImageService3" and service["id"].endswith(big.key)
    # the body's image is there, at the size it says
    body = annotation["body"]
    path = body["id"].split("://", 1)[1].split("/", 1)[1]
    assert _image(client.get("/" + path)).size == (body["width"], body["height"])


def test_the_manifest_fails_the_schema_without_its_items(client, published):
    item, _, _ = published
    manifest = client.get(f"/iiif/3/{item.id}/manifest.json").get_json()
    del manifest["items"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, SCHEMA)


def test_an_unpublished_items_images_and_manifest_are_404_to_the_public(client, published,
                                                                        staff):
    item, big, _ = published
    collections.withdraw_item(staff["ncu"], item.id)
    for path in (f"/iiif/3/{item.id}/manifest.json", f"/iiif/3/{big.key}/info.json",
                 f"/iiif/3/{big.key}/full/max/0/default.jpg", f"/iiif/3/{big.key}",
                 f"/collections/items/{item.id}"):
        assert client.get(path).status_code == 404, path


def test_an_unknown_image_is_404(client, ctx):
    assert client.get("/iiif/3/0123456789abcdef0123456789abcdef/info.json").status_code == 404


def test_the_librarys_staff_preview_a_drafts_images_uncached(client, staff):
    from tests.support.web import as_user
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    image = collections.add_image(staff["ncu"], item.id, upload(image_bytes(600, 400)))
    as_user(client, staff["ncu"])
    response = client.get(f"/iiif/3/{image.key}/info.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert client.get(f"/iiif/3/{item.id}/manifest.json").status_code == 200
    other = client.application.test_client()
    as_user(other, staff["jxau"])
    assert other.get(f"/iiif/3/{image.key}/info.json").status_code == 404


def test_a_refused_upload_leaves_no_file_behind(client, staff, app):
    from tests.support.web import as_user, post_form
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    root = Path(app.config["INSTANCE_PATH"])
    before = {p for p in root.rglob("*") if p.is_file()}
    as_user(client, staff["ncu"])
    edit = f"/collections/items/{item.id}/edit"
    response = post_form(client, f"/collections/items/{item.id}/images",
                         {"image": (io.BytesIO(b"\x89PNG\r\n\x1a\n not really"), "x.png")},
                         token_from=edit, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "cannot be read" in response.get_data(as_text=True)
    assert {p for p in root.rglob("*") if p.is_file()} == before


def test_iiif_documents_name_the_public_url_whatever_the_host_asked(client, published, app,
                                                                     monkeypatch):
    # they are cached publicly: a forged Host must not end up in what others are served
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://jala.example.edu.cn")
    item, big, _ = published
    forged = {"Host": "evil.example.com"}
    info = client.get(f"/iiif/3/{big.key}/info.json", headers=forged).get_json()
    assert info["id"] == f"https://jala.example.edu.cn/iiif/3/{big.key}"
    manifest = client.get(f"/iiif/3/{item.id}/manifest.json", headers=forged)
    assert "evil.example.com" not in manifest.get_data(as_text=True)
    assert manifest.get_json()["id"] == \
        f"https://jala.example.edu.cn/iiif/3/{item.id}/manifest.json"


def test_documents_whose_type_follows_accept_say_so_to_caches(client, published):
    item, big, _ = published
    for path in (f"/iiif/3/{big.key}/info.json", f"/iiif/3/{item.id}/manifest.json"):
        plain = client.get(path)
        linked = client.get(path, headers={"Accept": "application/ld+json"})
        assert plain.headers["Content-Type"] != linked.headers["Content-Type"], path
        for response in (plain, linked):
            assert "Accept" in response.headers.get("Vary", ""), path
            assert response.headers["Cache-Control"].startswith("public"), path


def test_the_image_base_uri_is_cached_publicly_only_when_published(client, staff):
    from tests.support.web import as_user
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    image = collections.add_image(staff["ncu"], item.id, upload(image_bytes(300, 200)))
    as_user(client, staff["ncu"])
    draft = client.get(f"/iiif/3/{image.key}")
    assert draft.status_code == 303
    assert draft.headers["Cache-Control"] == "private, no-store"
    collections.publish_item(staff["ncu"], item.id)
    published = client.get(f"/iiif/3/{image.key}")
    assert published.status_code == 303
    assert published.headers["Cache-Control"].startswith("public")


def _png_claiming(width, height):
    """A small PNG whose header claims ``width`` × ``height`` (a decompression bomb's)."""
    data = bytearray(image_bytes(8, 8))
    header = struct.pack(">II", width, height) + bytes(data[24:29])  # IHDR: size, then the rest
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(data)


@pytest.mark.parametrize("size", [(8_000, 8_000), (12_000, 12_000), (60_000, 60_000)])
def test_an_image_over_60_megapixels_is_refused_before_it_is_decoded(staff, size):
    from jala.errors import RuleViolation
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    with pytest.raises(RuleViolation, match="larger than 60 megapixels"):
        collections.add_image(staff["ncu"], item.id, upload(_png_claiming(*size)))


def test_a_librarian_uploads_at_most_20_images_an_hour(client, staff):
    from tests.support.web import as_user, post_form
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    as_user(client, staff["ncu"])
    edit = f"/collections/items/{item.id}/edit"

    def send():
        return post_form(client, f"/collections/items/{item.id}/images",
                         {"image": (io.BytesIO(b"\x89PNG\r\n\x1a\n not really"), "x.png")},
                         token_from=edit, content_type="multipart/form-data")
    assert [send().status_code for _ in range(20)] == [400] * 20
    assert send().status_code == 429
