"""Special collections: Dublin Core checks, who may edit, images cut into IIIF tiles, publishing."""
import pytest
from sqlalchemy import select

from jala.audit import AuditEntry
from jala.catalog.models import Record
from jala.collections import dublin_core
from jala.collections import services as collections
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from tests.collections.conftest import image_bytes, upload
from tests.support.factories import library_id, make_user

DC = {"title": "南昌起义纪念馆旧照", "creator": "佚名\n江西省档案馆",
      "subject": "南昌起义\n红色文献", "date": "1957-08", "type": "StillImage",
      "format": "image/jpeg", "language": "chi", "rights": "http://rightsstatements.org/vocab/InC/1.0/"}


def make_collection(actor, **changes):
    fields = {"title": "红色文献图片库", "description": "馆藏红色文献的数字化图片。", "kind": "red",
              **changes}
    return collections.create_collection(actor, library_id("NCU"), **fields)


def test_dublin_core_keeps_repeated_values_one_a_line_in_element_order(ctx):
    dc = dublin_core.clean(DC)
    assert dc["creator"] == ["佚名", "江西省档案馆"]
    assert list(dc) == [e for e in dublin_core.ELEMENTS if e in dc]
    assert dc["language"] == ["chi"]


def test_dublin_core_knows_all_fifteen_elements(ctx):
    assert len(dublin_core.ELEMENTS) == 15
    dc = dublin_core.clean({element: f"{element} value" for element in dublin_core.ELEMENTS
                            if element not in ("date", "type", "language", "format")})
    assert len(dc) == 11


@pytest.mark.parametrize("element, value", [
    ("date", "August 1957"), ("date", "1957-13"), ("type", "Photograph"),
    ("language", "Klingon"), ("format", "a jpeg"), ("nonsense", "x")])
def test_dublin_core_refuses_a_value_outside_its_scheme(ctx, element, value):
    with pytest.raises(RuleViolation):
        dublin_core.clean({"title": "题名", element: value})


def test_dublin_core_needs_a_title_and_accepts_a_date_range(ctx):
    with pytest.raises(RuleViolation, match="title"):
        dublin_core.clean({"creator": "某人"})
    assert dublin_core.clean({"title": "题名", "date": "1927/1937"})["date"] == ["1927/1937"]


def test_a_librarian_starts_a_collection_for_their_library_and_it_is_audited(staff):
    collection = make_collection(staff["ncu"])
    assert collection.library_id == library_id("NCU")
    entry = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == "collections.create")).scalars().all()[-1]
    assert entry.object_id == str(collection.id)


def test_a_reader_cannot_start_a_collection(staff, reader):
    with pytest.raises(NotAllowed):
        make_collection(reader)


def test_staff_of_another_library_cannot_edit_its_collection_or_items(staff):
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    other = staff["jxau"]
    with pytest.raises(NotAllowed):
        collections.update_collection(other, collection.id, title="改名", description="",
                                      kind="red")
    with pytest.raises(NotAllowed):
        collections.create_item(other, collection.id, DC)
    with pytest.raises(NotAllowed):
        collections.update_item(other, item.id, {"title": "改"})
    with pytest.raises(NotAllowed):
        collections.add_image(other, item.id, upload())
    with pytest.raises(NotAllowed):
        collections.publish_item(other, item.id)
    assert item.title == DC["title"] and item.status == "draft"


def test_a_draft_is_not_found_by_readers_nor_other_libraries_staff(staff, reader):
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    image = collections.add_image(staff["ncu"], item.id, upload())
    for outsider in (reader, staff["jxau"], None):
        with pytest.raises(NotFound):
            collections.get_item(outsider, item.id)
        with pytest.raises(NotFound):
            collections.get_image(outsider, image.key)
    assert collections.get_item(staff["ncu"], item.id) is item


def test_an_image_is_cut_into_tiles_at_every_scale_factor(staff):
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    image = collections.add_image(staff["ncu"], item.id, upload(image_bytes(1200, 700)))
    assert (image.width, image.height) == (1200, 700)
    assert image.tiles["scale_factors"] == [1, 2, 4]
    assert [600, 350] in image.tiles["sizes"] and [1200, 700] in image.tiles["sizes"]


def test_a_file_that_is_not_an_image_is_refused(staff):
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    with pytest.raises(RuleViolation):
        collections.add_image(staff["ncu"], item.id, upload(b"%PDF-1.4 not an image",
                                                            name="x.png"))
    with pytest.raises(RuleViolation):
        collections.add_image(staff["ncu"], item.id, upload(b"\x89PNG\r\n\x1a\n broken"))


def test_a_tiff_and_a_jpeg_are_accepted(staff):
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    tiff = collections.add_image(staff["ncu"], item.id, upload(image_bytes(300, 200, "TIFF"),
                                                               "scan.tif"))
    jpeg = collections.add_image(staff["ncu"], item.id, upload(image_bytes(300, 200, "JPEG"),
                                                               "scan.jpg"))
    assert tiff.stored_file.content_type == "image/tiff"
    assert jpeg.tiles["scale_factors"] == [1]


def test_publishing_puts_the_item_in_the_union_catalogue_with_its_collection(staff):
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    collections.publish_item(staff["ncu"], item.id)
    record = db.session.get(Record, item.record_id)
    assert record.title == DC["title"] and record.type == "image" and record.year == 1957
    assert record.extra["special_collection"] == str(collection.id)
    assert library_id("NCU") in record.library_ids
    collections.update_item(staff["ncu"], item.id, dict(DC, title="南昌起义纪念馆旧照（一）"))
    db.session.expire_all()
    assert db.session.get(Record, item.record_id).title == "南昌起义纪念馆旧照（一）"


def test_withdrawing_takes_the_record_out_of_the_catalogue(staff):
    collection = make_collection(staff["ncu"])
    item = collections.create_item(staff["ncu"], collection.id, DC)
    collections.publish_item(staff["ncu"], item.id)
    record_id = item.record_id
    collections.withdraw_item(staff["ncu"], item.id)
    assert db.session.get(Record, record_id) is None
    assert item.status == "draft" and item.record_id is None


def test_a_library_admin_of_the_library_may_edit_but_a_portal_reader_may_not(staff):
    admin = make_user(library="NCU", roles=("library_admin",))
    collection = make_collection(staff["ncu"])
    collections.update_collection(admin, collection.id, title="地方文献", description="",
                                  kind="local")
    assert collection.kind == "local"
