"""Union records, the source records they were built from, holdings, and import runs."""
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import relationship

from jala import clock
from jala.accounts.models import Library
from jala.extensions import db

RECORD_TYPES = ("book", "article", "journal", "thesis", "ebook", "conference", "report",
                "newspaper", "standard", "patent", "map", "score", "audio", "video", "other")
HOLDING_STATUSES = ("available", "on_loan", "in_transit", "unknown")


class Record(db.Model):
    """One work in the union catalogue, with the holdings of every member library."""

    __tablename__ = "records"

    id = Column(BigInteger, primary_key=True)
    type = Column(String(20), nullable=False)
    title = Column(Text, nullable=False)
    title_key = Column(Text, nullable=False)
    title_pinyin = Column(Text)
    authors = Column(ARRAY(Text), nullable=False, server_default="{}")
    keywords = Column(ARRAY(Text), nullable=False, server_default="{}")
    subjects = Column(ARRAY(Text), nullable=False, server_default="{}")
    abstract = Column(Text)
    publisher = Column(Text)
    year = Column(Integer)
    isbn = Column(ARRAY(Text), nullable=False, server_default="{}")
    issn = Column(ARRAY(Text), nullable=False, server_default="{}")
    clc = Column(Text)
    journal = Column(Text)
    volume = Column(Text)
    issue = Column(Text)
    pages = Column(Text)
    page_count = Column(Integer)
    doi = Column(Text)
    language = Column(String(20))
    discipline = Column(Text)
    category = Column(Text)
    url = Column(Text)
    extra = Column(JSONB, nullable=False, server_default="{}")
    match_key = Column(Text)
    holdings_count = Column(Integer, nullable=False, server_default="0")
    library_ids = Column(ARRAY(Integer), nullable=False, server_default="{}")
    search_vector = Column(TSVECTOR, nullable=False)
    title_vector = Column(TSVECTOR, nullable=False)
    search_text = Column(Text, nullable=False)
    # the title run together in pinyin (jala.search.pinyin.romanize_with_key)
    pinyin_key = Column(Text, nullable=False, server_default="")
    created_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    holdings = relationship("Holding", back_populates="record", order_by="Holding.library_id",
                            lazy="selectin")
    sources = relationship("SourceRecord", back_populates="record", lazy="selectin")

    __table_args__ = (
        Index("ix_records_search_vector", search_vector, postgresql_using="gin"),
        Index("ix_records_title_vector", title_vector, postgresql_using="gin"),
        Index("ix_records_search_text_trgm", search_text, postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}),
        Index("ix_records_title_key", title_key),
        Index("ix_records_pinyin_key", pinyin_key,
              postgresql_ops={"pinyin_key": "text_pattern_ops"}),
        # (year, id): newest first, walked backwards, in the order sorting by year shows
        Index("ix_records_year_id", year, id),
        Index("ix_records_match_key", match_key, postgresql_where=text("match_key IS NOT NULL")),
    )

    @property
    def public_id(self):
        return str(self.id)


class RecordIdentifier(db.Model):
    """An ISBN-13 or ISSN that points at one union record (how imports find the same work)."""

    __tablename__ = "record_identifiers"

    kind = Column(String(8), primary_key=True)
    value = Column(String(20), primary_key=True)
    record_id = Column(BigInteger, ForeignKey("records.id", ondelete="CASCADE"), nullable=False,
                       index=True)


class SourceRecord(db.Model):
    """A library's record as imported (kept whole for provenance), linked to its union record."""

    __tablename__ = "source_records"

    id = Column(BigInteger, primary_key=True)
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    source_id = Column(String(200), nullable=False)
    record_id = Column(BigInteger, ForeignKey("records.id", ondelete="CASCADE"), nullable=False,
                       index=True)
    format = Column(String(10), nullable=False)
    raw = Column(JSONB, nullable=False)
    content_hash = Column(String(40), nullable=False)
    imported_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    library = relationship(Library)
    record = relationship(Record, back_populates="sources")

    __table_args__ = (UniqueConstraint("library_id", "source_id"),)


class Holding(db.Model):
    """A copy (or copies) of a record at a member library, as of the last import."""

    __tablename__ = "holdings"

    id = Column(BigInteger, primary_key=True)
    record_id = Column(BigInteger, ForeignKey("records.id", ondelete="CASCADE"), nullable=False,
                       index=True)
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False, index=True)
    source_record_id = Column(BigInteger, ForeignKey("source_records.id", ondelete="CASCADE"),
                              index=True)
    call_number = Column(Text)
    status = Column(String(12), nullable=False, default="unknown")
    location = Column(Text)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)

    record = relationship(Record, back_populates="holdings")
    library = relationship(Library, lazy="joined")


class ImportRun(db.Model):
    """One import of a file into the catalogue (from the CLI or an upload), with its report."""

    __tablename__ = "import_runs"

    id = Column(Integer, primary_key=True)
    library_id = Column(Integer, ForeignKey("libraries.id"), nullable=False)
    user_id = Column(Integer, ForeignKey("users.id"))
    stored_file_id = Column(Integer, ForeignKey("stored_files.id"))
    filename = Column(String(255), nullable=False)
    format = Column(String(10))
    options = Column(JSONB, nullable=False, default=dict)
    status = Column(String(10), nullable=False, default="queued")
    read = Column(Integer, nullable=False, default=0)
    created = Column(Integer, nullable=False, default=0)
    merged = Column(Integer, nullable=False, default=0)
    updated = Column(Integer, nullable=False, default=0)
    unchanged = Column(Integer, nullable=False, default=0)
    skipped = Column(Integer, nullable=False, default=0)
    errors = Column(JSONB, nullable=False, default=list)
    message = Column(Text)
    created_at = Column(DateTime(timezone=True), nullable=False, default=clock.now)
    started_at = Column(DateTime(timezone=True))
    finished_at = Column(DateTime(timezone=True))
    enqueued_at = Column(DateTime(timezone=True))

    library = relationship(Library)
