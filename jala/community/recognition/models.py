"""Tables of recognition: the year's commendations (评选) and librarians' book lists (书单).

A nomination is decided by the committee through an agenda item of kind ``commendation``;
what the committee decided is read from that item (its tally never changes once closed), so a
nomination holds no status of its own that could disagree with the vote.
"""
from jala import clock
from jala.accounts.models import Library, User
from jala.catalog.models import Record
from jala.extensions import db
from jala.governance.models import AgendaItem

NOMINATION_KINDS = ("unit", "individual")  # 先进集体, 先进个人


class CommendationYear(db.Model):
    """One year's commendations: the nomination window the centre opens, and the publication."""

    __tablename__ = "commendation_years"

    year = db.Column(db.Integer, primary_key=True, autoincrement=False)
    opens_on = db.Column(db.Date, nullable=False)
    closes_on = db.Column(db.Date, nullable=False)
    opened_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    opened_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    published_at = db.Column(db.DateTime(timezone=True))
    published_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    news_id = db.Column(db.Integer, db.ForeignKey("news_items.id"))

    __table_args__ = (
        db.CheckConstraint("closes_on >= opens_on", name="window_in_order"),
        db.CheckConstraint("published_at IS NULL OR news_id IS NOT NULL", name="published_as_news"),
    )


class Nomination(db.Model):
    """A member library's nomination of an advanced unit (a library) or individual (a person)."""

    __tablename__ = "commendation_nominations"

    id = db.Column(db.Integer, primary_key=True)
    year = db.Column(db.Integer, db.ForeignKey("commendation_years.year"), nullable=False,
                     index=True)
    kind = db.Column(db.String(10), nullable=False)
    # the unit itself, or the library the individual works at
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False, index=True)
    person_name = db.Column(db.String(100))
    person_title = db.Column(db.String(100))  # role or title: 馆长, 参考馆员…
    citation = db.Column(db.Text, nullable=False)  # what they did, in a few sentences
    nominating_library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    nominated_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    agenda_item_id = db.Column(db.Integer, db.ForeignKey("agenda_items.id"), unique=True)

    library = db.relationship(Library, foreign_keys=[library_id])
    nominating_library = db.relationship(Library, foreign_keys=[nominating_library_id])
    nominated_by = db.relationship(User)
    agenda_item = db.relationship(AgendaItem)

    __table_args__ = (
        db.CheckConstraint(f"kind IN {NOMINATION_KINDS}", name="known_kind"),
        db.CheckConstraint("(kind = 'unit') = (person_name IS NULL)", name="person_iff_individual"),
        db.Index("uq_commendation_nominations_one_unit", "year", "library_id", unique=True,
                 postgresql_where=db.text("kind = 'unit'")),
        db.Index("uq_commendation_nominations_one_person", "year", "library_id", "person_name",
                 unique=True, postgresql_where=db.text("kind = 'individual'")),
    )

    @property
    def status(self):
        """nominated, on_agenda, commended or not_commended: read from the committee's vote."""
        item = self.agenda_item
        if item is None:
            return "nominated"
        if item.status == "open":
            return "on_agenda"
        return "commended" if item.passed else "not_commended"


class BookList(db.Model):
    """A reading list (书单) a member library's librarians put together from the catalogue."""

    __tablename__ = "book_lists"

    id = db.Column(db.Integer, primary_key=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False, index=True)
    title = db.Column(db.String(200), nullable=False)
    theme = db.Column(db.String(100))
    introduction = db.Column(db.Text)  # Markdown
    cover_record_id = db.Column(db.BigInteger, db.ForeignKey("records.id", ondelete="SET NULL"))
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    published_at = db.Column(db.DateTime(timezone=True))  # None: a draft

    library = db.relationship(Library)
    created_by = db.relationship(User)
    cover_record = db.relationship(Record)
    entries = db.relationship("BookListEntry", back_populates="book_list", lazy="selectin",
                              order_by="(BookListEntry.position, BookListEntry.id)",
                              cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        db.Index("ix_book_lists_published_at", "published_at",
                 postgresql_where=db.text("published_at IS NOT NULL")),
    )

    @property
    def is_published(self):
        return self.published_at is not None


class BookListEntry(db.Model):
    """One union-catalogue record on a book list, with the librarian's note, in order."""

    __tablename__ = "book_list_entries"

    id = db.Column(db.Integer, primary_key=True)
    book_list_id = db.Column(db.Integer, db.ForeignKey("book_lists.id", ondelete="CASCADE"),
                             nullable=False)
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id", ondelete="CASCADE"),
                          nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False)
    note = db.Column(db.Text)  # Markdown
    added_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    added_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    book_list = db.relationship(BookList, back_populates="entries")
    record = db.relationship(Record)

    __table_args__ = (db.UniqueConstraint("book_list_id", "record_id"),)
