"""Special collections: who builds them, items in Dublin Core, images, publishing.

Staff of a member library (librarians and library admins) build their library's collections:
nobody else may change them, whatever page they come from (NotAllowed). Readers see
published items only: a draft, its images and its manifest do not exist for them (404);
its library's staff see it to check it before publishing. A published item is a union record
(imported like a library's record, its collection kept in the record's ``extra`` as
``special_collection`` for the search's collection facet); withdrawing it takes the record
out again.
"""
import secrets

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text

from jala import clock
from jala.audit import record_audit
from jala.catalog.importer import import_stream
from jala.catalog.models import Record, SourceRecord
from jala.checks import typed_text
from jala.collections import dublin_core, iiif
from jala.collections.models import (
    COLLECTION_KINDS,
    CollectionItem,
    ItemImage,
    SpecialCollection,
)
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.files import note_written, storage_dir, store_upload
from jala.permissions import can_staff_library, require_staff_of, staff_library_ids
from jala.urls import external_url

KIND_NAMES = {"local": _l("Local documents (地方文献)"), "red": _l("Red documents (红色文献)"),
              "theses": _l("Theses and dissertations"), "images": _l("Images and photographs"),
              "audio_video": _l("Audio and video"), "other": _l("Other special resources")}
IMAGE_KINDS = ("png", "jpeg", "tiff")
MAX_IMAGE_BYTES = 50 * 1024 * 1024
MAX_IMAGES = 200
SOURCE_PREFIX = "special-collections:item:"


# --- who sees what --------------------------------------------------------------------------

def _user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def can_edit(actor, collection):
    """Whether ``actor`` works for the library that owns ``collection``."""
    actor = _user(actor)
    return bool(actor and can_staff_library(actor, collection.library_id))


def _require_edit(actor, collection):
    if _user(actor) is None:
        raise NotAllowed(_("Only librarians of that library can do this."))
    require_staff_of(actor, collection.library_id)


def get_collection(collection_id):
    """A collection (collections are public; their drafts are not)."""
    collection = db.session.get(SpecialCollection, collection_id)
    if collection is None:
        raise NotFound(_("No such special collection."))
    return collection


def get_item(actor, item_id):
    """An item ``actor`` may see: published, or a draft of a library they work for."""
    item = db.session.get(CollectionItem, item_id)
    if item is None or not (item.is_published or can_edit(actor, item.collection)):
        raise NotFound(_("No such item."))
    return item


def get_image(actor, key):
    """An image by its IIIF identifier, if ``actor`` may see its item."""
    image = db.session.execute(select(ItemImage).where(ItemImage.key == key)).scalar_one_or_none()
    if image is None or not (image.item.is_published or can_edit(actor, image.item.collection)):
        raise NotFound(_("No such image."))
    return image


def public_collections():
    """Every collection with the number of its published items, those with items first."""
    counts = (select(CollectionItem.collection_id, func.count().label("n"))
              .where(CollectionItem.status == "published")
              .group_by(CollectionItem.collection_id).subquery())
    rows = db.session.execute(
        select(SpecialCollection, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.collection_id == SpecialCollection.id)
        .order_by(func.coalesce(counts.c.n, 0).desc(), SpecialCollection.id)).all()
    return [(collection, n) for collection, n in rows if n]


def items_of(actor, collection, *, page_size=50, page=1):
    """The collection's items ``actor`` may see, newest first."""
    query = select(CollectionItem).where(CollectionItem.collection_id == collection.id)
    if not can_edit(actor, collection):
        query = query.where(CollectionItem.status == "published")
    return db.session.execute(query.order_by(CollectionItem.id.desc())
                              .limit(page_size).offset((page - 1) * page_size)).scalars().all()


def staff_collections(actor):
    """The collections of the libraries ``actor`` works for."""
    library_ids = staff_library_ids(actor)
    return db.session.execute(select(SpecialCollection).where(
        SpecialCollection.library_id.in_(library_ids)).order_by(
        SpecialCollection.id.desc())).scalars().all()


# --- collections ----------------------------------------------------------------------------

def _collection_fields(title, description, kind):
    title = typed_text(title, 200, missing=_("Give the collection a title."), one_line=True)
    description = (description or "").strip()
    if len(description) > 5000:
        raise RuleViolation(_("The description is longer than 5000 characters."))
    if kind not in COLLECTION_KINDS:
        raise RuleViolation(_("Choose the kind of collection."))
    return title, description


def create_collection(actor, library_id, *, title, description, kind):
    """Start a collection for a library ``actor`` works for."""
    if _user(actor) is None:
        raise NotAllowed(_("Only librarians of that library can do this."))
    require_staff_of(actor, library_id)
    title, description = _collection_fields(title, description, kind)
    collection = SpecialCollection(library_id=library_id, title=title, description=description,
                                   kind=kind, created_by_id=actor.id)
    db.session.add(collection)
    db.session.flush()
    record_audit(actor, "collections.create", "special_collection", collection.id,
                 library_id=library_id, details={"title": title, "kind": kind})
    return collection


def update_collection(actor, collection_id, *, title, description, kind):
    """Change a collection's title, description or kind (its library's staff)."""
    collection = get_collection(collection_id)
    _require_edit(actor, collection)
    collection.title, collection.description = _collection_fields(title, description, kind)
    collection.kind = kind
    collection.updated_at = clock.now()
    db.session.flush()
    for item in items_of(actor, collection, page_size=10_000):
        if item.is_published:
            _index(item)
    record_audit(actor, "collections.update", "special_collection", collection.id,
                 library_id=collection.library_id, details={"title": collection.title})
    return collection


# --- items ----------------------------------------------------------------------------------

def create_item(actor, collection_id, dc):
    """Describe a new item of a collection in Dublin Core (a draft)."""
    collection = get_collection(collection_id)
    _require_edit(actor, collection)
    item = CollectionItem(collection_id=collection.id, dc=dublin_core.clean(dc),
                          created_by_id=actor.id, status="draft")
    db.session.add(item)
    db.session.flush()
    record_audit(actor, "collections.item_create", "collection_item", item.id,
                 library_id=collection.library_id, details={"title": item.title})
    return item


def _item_for_edit(actor, item_id):
    item = db.session.get(CollectionItem, item_id)
    if item is None:
        raise NotFound(_("No such item."))
    _require_edit(actor, item.collection)
    return item


def update_item(actor, item_id, dc):
    """Change an item's Dublin Core (a published item's union record follows)."""
    item = _item_for_edit(actor, item_id)
    item.dc = dublin_core.clean(dc)
    item.updated_at = clock.now()
    db.session.flush()
    if item.is_published:
        _index(item)
    record_audit(actor, "collections.item_update", "collection_item", item.id,
                 library_id=item.collection.library_id, details={"title": item.title})
    return item


def add_image(actor, item_id, upload, label=""):
    """Keep an uploaded image (PNG, JPEG or TIFF, checked by content) and cut its IIIF tiles."""
    item = _item_for_edit(actor, item_id)
    if len(item.images) >= MAX_IMAGES:
        raise RuleViolation(_("An item has at most %(n)d images.", n=MAX_IMAGES))
    if upload is None or not getattr(upload, "filename", ""):
        raise RuleViolation(_("Choose an image to upload."))
    stored = store_upload(upload.stream, upload.filename, allowed_kinds=IMAGE_KINDS,
                          max_bytes=MAX_IMAGE_BYTES, owner=actor)
    picture = iiif.open_image(storage_dir() / stored.storage_name)
    key = secrets.token_hex(16)
    tiles, written = iiif.make_tiles(picture, key)
    # a rolled-back request deletes the tiles it wrote (as it does the upload)
    note_written(written)
    position = max((i.position for i in item.images), default=-1) + 1
    image = ItemImage(item_id=item.id, key=key, stored_file_id=stored.id, position=position,
                      label=(label or "").strip()[:200], width=picture.width,
                      height=picture.height, tiles=tiles)
    db.session.add(image)
    db.session.flush()
    db.session.refresh(item, ["images"])
    record_audit(actor, "collections.image_add", "collection_image", image.id,
                 library_id=item.collection.library_id,
                 details={"item": item.id, "file": stored.original_name,
                          "size": [picture.width, picture.height]})
    return image


def publish_item(actor, item_id):
    """Publish an item: readers see it, and it is a union record the search finds."""
    item = _item_for_edit(actor, item_id)
    if item.is_published:
        raise RuleViolation(_("This item is published already."))
    item.status, item.published_at = "published", clock.now()
    db.session.flush()
    _index(item)
    record_audit(actor, "collections.item_publish", "collection_item", item.id,
                 library_id=item.collection.library_id, details={"record": item.record_id})
    return item


def withdraw_item(actor, item_id):
    """Take a published item back to a draft, and its union record out of the search."""
    item = _item_for_edit(actor, item_id)
    if not item.is_published:
        raise RuleViolation(_("This item is not published."))
    item.status, item.published_at = "draft", None
    _unindex(item)
    db.session.flush()
    record_audit(actor, "collections.item_withdraw", "collection_item", item.id,
                 library_id=item.collection.library_id)
    return item


# --- the union catalogue ------------------------------------------------------------------

def catalogue_fields(item):
    """The item as a record of the import contract (JSON Lines), its collection in extra."""
    dc, collection = item.dc, item.collection
    fields = {
        "source_id": f"{SOURCE_PREFIX}{item.id}",
        "type": dublin_core.record_type(dc, collection.kind),
        "title": dc["title"][0],
        "authors": dc.get("creator", []) + dc.get("contributor", []),
        "subjects": dc.get("subject", []) + dc.get("coverage", []),
        "abstract": "\n".join(dc.get("description", [])) or None,
        "publisher": (dc.get("publisher") or [None])[0],
        "year": dublin_core.year_of(dc),
        "language": (dc.get("language") or [None])[0],
        "url": external_url("collections.item", item_id=item.id),
        "holdings": [{"library": collection.library.code, "status": "available"}],
        "special_collection": str(collection.id),
        "special_collection_title": collection.title,
    }
    return {k: v for k, v in fields.items() if v not in (None, [], "")}


def _index(item):
    import_stream([(1, catalogue_fields(item))], item.collection.library.code,
                  format_name="jsonl", commit=False)
    source = db.session.execute(select(SourceRecord).where(
        SourceRecord.library_id == item.collection.library_id,
        SourceRecord.source_id == f"{SOURCE_PREFIX}{item.id}")).scalar_one()
    item.record_id = source.record_id
    # a record it joined (the same work held elsewhere) is in the collection too
    db.session.execute(text(
        "UPDATE records SET extra = extra || jsonb_build_object('special_collection', "
        "CAST(:collection AS text)) WHERE id = :id AND extra ->> 'special_collection' "
        "IS DISTINCT FROM CAST(:collection AS text)"), {"id": source.record_id,
                                        "collection": str(item.collection_id)})
    db.session.expire_all()


def _unindex(item):
    source = db.session.execute(select(SourceRecord).where(
        SourceRecord.library_id == item.collection.library_id,
        SourceRecord.source_id == f"{SOURCE_PREFIX}{item.id}")).scalar_one_or_none()
    if source is None:
        return
    record_id = source.record_id
    others = db.session.execute(select(func.count()).select_from(SourceRecord).where(
        SourceRecord.record_id == record_id, SourceRecord.id != source.id)).scalar_one()
    if not others:
        db.session.execute(text("DELETE FROM records WHERE id = :id"), {"id": record_id})
    else:
        db.session.execute(text("DELETE FROM source_records WHERE id = :id"), {"id": source.id})
        db.session.execute(text(
            "UPDATE records r SET extra = r.extra - 'special_collection', holdings_count = s.n, "
            "library_ids = s.libs FROM (SELECT count(*) AS n, "
            "coalesce(array_agg(DISTINCT library_id), '{}') AS libs FROM holdings "
            "WHERE record_id = :id) s WHERE r.id = :id"), {"id": record_id})
    item.record_id = None
    db.session.expire_all()


def record_of(item):
    """The union record of a published item, or None."""
    return db.session.get(Record, item.record_id) if item.record_id else None


def collection_titles(ids):
    """``{str(id): title}`` of the collections the search's facet names."""
    wanted = [int(i) for i in ids if str(i).isdecimal() and len(str(i)) < 10]
    if not wanted:
        return {}
    return {str(cid): title for cid, title in db.session.execute(
        select(SpecialCollection.id, SpecialCollection.title).where(
            SpecialCollection.id.in_(wanted))).all()}
