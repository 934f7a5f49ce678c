"""Looking inside a record (preview pages), full-text link resolvers, saved lists."""

from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db
from jala.files import StoredFile

PREVIEW_KINDS = ("cover", "front", "toc", "sample")


class PreviewPage(db.Model):
    """One preview image or PDF of a record: its cover, front matter, contents or a sample."""

    __tablename__ = "preview_pages"

    id = db.Column(db.Integer, primary_key=True)
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id", ondelete="CASCADE"),
                          nullable=False)
    kind = db.Column(db.String(8), nullable=False)
    position = db.Column(db.Integer, nullable=False)
    file_id = db.Column(db.Integer, db.ForeignKey("stored_files.id"), nullable=False)
    caption = db.Column(db.String(200))
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    uploaded_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    file = db.relationship(StoredFile)
    library = db.relationship(Library)

    __table_args__ = (
        db.CheckConstraint(f"kind IN {PREVIEW_KINDS}", name="known_kind"),
        db.Index("ix_preview_pages_record", record_id, kind, position),
    )


class LinkResolver(db.Model):
    """A member library's OpenURL link resolver (its admin configures it)."""

    __tablename__ = "link_resolvers"

    id = db.Column(db.Integer, primary_key=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False, unique=True)
    base_url = db.Column(db.String(500), nullable=False)
    label = db.Column(db.String(100))
    updated_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    library = db.relationship(Library)


class SavedList(db.Model):
    """A reader's list of records, private unless shared by link."""

    __tablename__ = "saved_lists"

    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    name = db.Column(db.String(200), nullable=False)
    share_token = db.Column(db.String(43), unique=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    owner = db.relationship(User)
    items = db.relationship("SavedListItem", order_by="SavedListItem.id", lazy="selectin",
                            cascade="all, delete-orphan")


class SavedListItem(db.Model):
    """A record in a saved list."""

    __tablename__ = "saved_list_items"

    id = db.Column(db.Integer, primary_key=True)
    list_id = db.Column(db.Integer, db.ForeignKey("saved_lists.id", ondelete="CASCADE"),
                        nullable=False)
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id", ondelete="CASCADE"),
                          nullable=False)
    note = db.Column(db.Text)
    added_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    record = db.relationship("Record")

    __table_args__ = (db.UniqueConstraint("list_id", "record_id"),)


class SavedSearch(db.Model):
    """A search a reader keeps to run again: the results page's query string."""

    __tablename__ = "saved_searches"

    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    query_string = db.Column(db.String(1000), nullable=False)
    label = db.Column(db.String(500), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    __table_args__ = (db.UniqueConstraint(owner_id, query_string),)
