"""Special collections (特色资源数据库): collections, their Dublin Core items, IIIF images."""
from sqlalchemy.dialects.postgresql import JSONB

from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db
from jala.files import StoredFile

COLLECTION_KINDS = ("local", "red", "theses", "images", "audio_video", "other")
ITEM_STATUSES = ("draft", "published")


class SpecialCollection(db.Model):
    """A member library's collection of local or special resources (地方文献, 红色文献, …)."""

    __tablename__ = "special_collections"

    id = db.Column(db.Integer, primary_key=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False, index=True)
    title = db.Column(db.String(200), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    kind = db.Column(db.String(20), nullable=False)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    library = db.relationship(Library, lazy="joined")
    created_by = db.relationship(User)

    __table_args__ = (db.CheckConstraint(f"kind IN {COLLECTION_KINDS}", name="known_kind"),)


class CollectionItem(db.Model):
    """One resource of a collection, described in Dublin Core; a draft until published."""

    __tablename__ = "collection_items"

    id = db.Column(db.Integer, primary_key=True)
    collection_id = db.Column(db.Integer, db.ForeignKey("special_collections.id"),
                              nullable=False, index=True)
    status = db.Column(db.String(10), nullable=False, default="draft")
    # {element: [values]} for the 15 elements of the Dublin Core Metadata Element Set
    dc = db.Column(JSONB, nullable=False, default=dict)
    # the union record a published item is in the catalogue as
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id", ondelete="SET NULL"))
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    published_at = db.Column(db.DateTime(timezone=True))

    collection = db.relationship(SpecialCollection, lazy="joined")
    images = db.relationship("ItemImage", order_by="(ItemImage.position, ItemImage.id)",
                             lazy="selectin", back_populates="item")

    __table_args__ = (db.CheckConstraint(f"status IN {ITEM_STATUSES}", name="known_status"),)

    @property
    def title(self):
        return (self.dc.get("title") or [""])[0]

    @property
    def is_published(self):
        return self.status == "published"


class ItemImage(db.Model):
    """An image of an item: the upload kept privately, and its static IIIF tile set."""

    __tablename__ = "collection_images"

    id = db.Column(db.Integer, primary_key=True)
    item_id = db.Column(db.Integer, db.ForeignKey("collection_items.id"), nullable=False,
                        index=True)
    # the image's IIIF identifier (random: image URLs cannot be counted through)
    key = db.Column(db.String(32), nullable=False, unique=True)
    stored_file_id = db.Column(db.Integer, db.ForeignKey("stored_files.id"), nullable=False)
    label = db.Column(db.String(200), nullable=False, default="")
    position = db.Column(db.Integer, nullable=False, default=0)
    width = db.Column(db.Integer, nullable=False)
    height = db.Column(db.Integer, nullable=False)
    # the tile set: {"tile": 512, "scale_factors": [...], "sizes": [[w, h], ...]}
    tiles = db.Column(JSONB, nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    item = db.relationship(CollectionItem, back_populates="images")
    stored_file = db.relationship(StoredFile)
