"""Union records, the source records they were built from, holdings, and import runs."""
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR

from jala import clock
from jala.accounts.models import Library
from jala.extensions import db

RECORD_TYPES = ("book", "article", "journal", "thesis", "ebook", "conference", "report",
                "newspaper", "standard", "patent", "map", "score", "image", "audio", "video",
                "compilation",
                "database", "software", "other")
HOLDING_STATUSES = ("available", "on_loan", "in_transit", "unknown")


class Record(db.Model):
    """One work in the union catalogue, with the holdings of every member library."""

    __tablename__ = "records"

    id = db.Column(db.BigInteger, primary_key=True)
    type = db.Column(db.String(20), nullable=False)
    title = db.Column(db.Text, nullable=False)
    title_key = db.Column(db.Text, nullable=False)
    title_pinyin = db.Column(db.Text)
    authors = db.Column(ARRAY(db.Text), nullable=False, server_default="{}")
    keywords = db.Column(ARRAY(db.Text), nullable=False, server_default="{}")
    subjects = db.Column(ARRAY(db.Text), nullable=False, server_default="{}")
    abstract = db.Column(db.Text)
    publisher = db.Column(db.Text)
    year = db.Column(db.Integer)
    isbn = db.Column(ARRAY(db.Text), nullable=False, server_default="{}")
    issn = db.Column(ARRAY(db.Text), nullable=False, server_default="{}")
    clc = db.Column(db.Text)
    journal = db.Column(db.Text)
    volume = db.Column(db.Text)
    issue = db.Column(db.Text)
    pages = db.Column(db.Text)
    page_count = db.Column(db.Integer)
    doi = db.Column(db.Text)
    language = db.Column(db.String(20))
    discipline = db.Column(db.Text)
    category = db.Column(db.Text)
    url = db.Column(db.Text)
    extra = db.Column(JSONB, nullable=False, server_default="{}")
    match_key = db.Column(db.Text)
    holdings_count = db.Column(db.Integer, nullable=False, server_default="0")
    library_ids = db.Column(ARRAY(db.Integer), nullable=False, server_default="{}")
    search_vector = db.Column(TSVECTOR, nullable=False)
    title_vector = db.Column(TSVECTOR, nullable=False)
    search_text = db.Column(db.Text, nullable=False)
    # the title run together in pinyin (jala.search.pinyin.romanize_with_key)
    pinyin_key = db.Column(db.Text, nullable=False, server_default="")
    # the title's pinyin initials (jala.search.pinyin.pinyin_initials): zgfzbg
    initials_key = db.Column(db.Text, nullable=False, server_default="")
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    holdings = db.relationship("Holding", back_populates="record", order_by="Holding.library_id",
                               lazy="selectin")
    sources = db.relationship("SourceRecord", back_populates="record", lazy="selectin")

    __table_args__ = (
        db.Index("ix_records_search_vector", search_vector, postgresql_using="gin"),
        db.Index("ix_records_title_vector", title_vector, postgresql_using="gin"),
        db.Index("ix_records_search_text_trgm", search_text, postgresql_using="gin",
                 postgresql_ops={"search_text": "gin_trgm_ops"}),
        db.Index("ix_records_title_key", title_key),
        db.Index("ix_records_pinyin_key", pinyin_key,
                 postgresql_ops={"pinyin_key": "text_pattern_ops"}),
        # pinyin typed with a slip the syllables around it cannot place: pg_trgm's similarity
        db.Index("ix_records_pinyin_key_trgm", pinyin_key, postgresql_using="gin",
                 postgresql_ops={"pinyin_key": "gin_trgm_ops"}),
        # ... or, when it is long, by how it begins or ends (``spelling.py``): the end reversed
        db.Index("ix_records_pinyin_key_reversed",
                 db.text("reverse(pinyin_key) text_pattern_ops")),
        db.Index("ix_records_initials_key", initials_key,
                 postgresql_ops={"initials_key": "text_pattern_ops"}),
        # (year, id): newest first, walked backwards, in the order sorting by year shows
        db.Index("ix_records_year_id", year, id),
        # (updated_at, id): OAI-PMH lists walk it from where the last page stopped
        db.Index("ix_records_updated_at_id", updated_at, id),
        db.Index("ix_records_match_key", match_key,
                 postgresql_where=db.text("match_key IS NOT NULL")),
        # inbound OpenURL finds a citation by its DOI or ISSN
        db.Index("ix_records_doi_lower", db.func.lower(doi)),
        db.Index("ix_records_issn", issn, postgresql_using="gin"),
    )

    @property
    def public_id(self):
        return str(self.id)


class RecordIdentifier(db.Model):
    """An ISBN-13 or ISSN that points at one union record (how imports find the same work)."""

    __tablename__ = "record_identifiers"

    kind = db.Column(db.String(8), primary_key=True)
    value = db.Column(db.String(20), primary_key=True)
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id", ondelete="CASCADE"),
                          nullable=False, index=True)


class SourceRecord(db.Model):
    """A library's record as imported (kept whole for provenance), linked to its union record."""

    __tablename__ = "source_records"

    id = db.Column(db.BigInteger, primary_key=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    source_id = db.Column(db.String(200), nullable=False)
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id", ondelete="CASCADE"),
                          nullable=False, index=True)
    format = db.Column(db.String(10), nullable=False)
    raw = db.Column(JSONB, nullable=False)
    content_hash = db.Column(db.String(40), nullable=False)
    imported_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    library = db.relationship(Library)
    record = db.relationship(Record, back_populates="sources")

    __table_args__ = (db.UniqueConstraint("library_id", "source_id"),)


class Holding(db.Model):
    """A copy (or copies) of a record at a member library, as of the last import."""

    __tablename__ = "holdings"

    id = db.Column(db.BigInteger, primary_key=True)
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id", ondelete="CASCADE"),
                          nullable=False, index=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False, index=True)
    source_record_id = db.Column(db.BigInteger, db.ForeignKey("source_records.id",
                                                              ondelete="CASCADE"),
                                 index=True)
    call_number = db.Column(db.Text)
    status = db.Column(db.String(12), nullable=False, default="unknown")
    location = db.Column(db.Text)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    record = db.relationship(Record, back_populates="holdings")
    library = db.relationship(Library, lazy="joined")


class ImportRun(db.Model):
    """One import of a file into the catalogue (from the CLI or an upload), with its report."""

    __tablename__ = "import_runs"

    id = db.Column(db.Integer, primary_key=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    stored_file_id = db.Column(db.Integer, db.ForeignKey("stored_files.id"))
    filename = db.Column(db.String(255), nullable=False)
    format = db.Column(db.String(10))
    options = db.Column(JSONB, nullable=False, default=dict)
    status = db.Column(db.String(10), nullable=False, default="queued")
    read = db.Column(db.Integer, nullable=False, default=0)
    created = db.Column(db.Integer, nullable=False, default=0)
    merged = db.Column(db.Integer, nullable=False, default=0)
    updated = db.Column(db.Integer, nullable=False, default=0)
    unchanged = db.Column(db.Integer, nullable=False, default=0)
    skipped = db.Column(db.Integer, nullable=False, default=0)
    errors = db.Column(JSONB, nullable=False, default=list)
    message = db.Column(db.Text)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    started_at = db.Column(db.DateTime(timezone=True))
    finished_at = db.Column(db.DateTime(timezone=True))
    enqueued_at = db.Column(db.DateTime(timezone=True))

    library = db.relationship(Library)
