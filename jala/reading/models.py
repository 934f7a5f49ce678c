"""Looking inside a record (preview pages), full-text link resolvers, saved lists."""
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db
from jala.files import StoredFile

PREVIEW_KINDS = ("cover", "front", "toc", "sample")


class PreviewPage(db.Model):
    """One preview image or PDF of a record: its cover, front matter, contents or a sample."""

    __tablename__ = "preview_pages"

    id = Column(Integer, primary_key=True)
    record_id = Column(BigInteger, ForeignKey("records.id", ondelete="CASCADE"), nullable=False)
    kind = Column(String(8), nullable=False)
    position = Column(Integer, nullable=False)
    file_id = Column(Integer, ForeignKey("stored_files.id"), nullable=False)
    caption = Column(String(200))
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    uploaded_by_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    file = relationship(StoredFile)
    library = relationship(Library)

    __table_args__ = (
        CheckConstraint(f"kind IN {PREVIEW_KINDS}", name="known_kind"),
        Index("ix_preview_pages_record", record_id, kind, position),
    )


class LinkResolver(db.Model):
    """A member library's OpenURL link resolver (its admin configures it)."""

    __tablename__ = "link_resolvers"

    id = Column(Integer, primary_key=True)
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False, unique=True)
    base_url = Column(String(500), nullable=False)
    label = Column(String(100))
    updated_by_id = Column(Integer, ForeignKey("users.id"))
    updated_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    library = relationship(Library)


class SavedList(db.Model):
    """A reader's list of records, private unless shared by link."""

    __tablename__ = "saved_lists"

    id = Column(Integer, primary_key=True)
    owner_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    name = Column(String(200), nullable=False)
    share_token = Column(String(43), unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    owner = relationship(User)
    items = relationship("SavedListItem", order_by="SavedListItem.id", lazy="selectin",
                         cascade="all, delete-orphan")


class SavedListItem(db.Model):
    """A record in a saved list."""

    __tablename__ = "saved_list_items"

    id = Column(Integer, primary_key=True)
    list_id = Column(Integer, ForeignKey("saved_lists.id", ondelete="CASCADE"), nullable=False)
    record_id = Column(BigInteger, ForeignKey("records.id", ondelete="CASCADE"), nullable=False)
    note = Column(Text)
    added_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    record = relationship("Record")

    __table_args__ = (UniqueConstraint("list_id", "record_id"),)
