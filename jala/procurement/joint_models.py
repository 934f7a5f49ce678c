"""Joint procurement (联合采购): titles taken from the buying list, pledges, and rounds."""
from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db

PLEDGE_KINDS = ("buy", "share")
PLEDGE_STATUSES = ("active", "withdrawn")
ROUND_STATUSES = ("open", "committee", "ordered", "received", "cancelled")


class ProcurementTitle(db.Model):
    """A title of the buying list that a library pledged for (its demand key, kept once)."""

    __tablename__ = "procurement_titles"

    id = db.Column(db.Integer, primary_key=True)
    # "isbn:<ISBN-13>" or "title:<normalised title>" (jala.procurement.buying_list.demand_key)
    key = db.Column(db.Text, nullable=False, unique=True)
    title = db.Column(db.Text, nullable=False)
    isbn = db.Column(db.String(13))
    round_id = db.Column(db.Integer, db.ForeignKey("procurement_rounds.id"), index=True)
    # once received: the union record and the library whose holding was added
    record_id = db.Column(db.BigInteger, db.ForeignKey("records.id", ondelete="SET NULL"))
    holding_library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    received_at = db.Column(db.DateTime(timezone=True))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    round = db.relationship("ProcurementRound", back_populates="titles")
    record = db.relationship("Record")
    holding_library = db.relationship(Library)
    pledges = db.relationship("Pledge", back_populates="title", order_by="Pledge.id",
                              lazy="selectin")

    @property
    def active_pledges(self):
        return [p for p in self.pledges if p.status == "active"]

    @property
    def pledged_total(self):
        return sum((p.amount for p in self.active_pledges), start=0)


class Pledge(db.Model):
    """A member library's promise to buy a title, or to pay a share of its cost (in yuan)."""

    __tablename__ = "procurement_pledges"

    id = db.Column(db.Integer, primary_key=True)
    title_id = db.Column(db.Integer, db.ForeignKey("procurement_titles.id"), nullable=False,
                         index=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    kind = db.Column(db.String(5), nullable=False)
    amount = db.Column(db.Numeric(12, 2), nullable=False)
    status = db.Column(db.String(9), nullable=False, default="active")
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    withdrawn_at = db.Column(db.DateTime(timezone=True))

    title = db.relationship(ProcurementTitle, back_populates="pledges")
    library = db.relationship(Library)
    user = db.relationship(User)

    __table_args__ = (
        db.CheckConstraint(f"kind IN {PLEDGE_KINDS}", name="known_kind"),
        db.CheckConstraint(f"status IN {PLEDGE_STATUSES}", name="known_status"),
        db.CheckConstraint("amount > 0", name="positive_amount"),
        # one active pledge per library and title (a library changes it by withdrawing)
        db.Index("uq_procurement_pledges_title_id_library_id", title_id, library_id,
                 unique=True, postgresql_where=db.text("status = 'active'")),
    )


class ProcurementRound(db.Model):
    """A round of buying: titles the centre chose, ordered together once decided."""

    __tablename__ = "procurement_rounds"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.Text, nullable=False)
    status = db.Column(db.String(10), nullable=False, default="open")
    # the pledged total when it went to the committee (an "expense" agenda item)
    total = db.Column(db.Numeric(14, 2))
    agenda_item_id = db.Column(db.Integer, db.ForeignKey("agenda_items.id"))
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    ordered_at = db.Column(db.DateTime(timezone=True))
    received_at = db.Column(db.DateTime(timezone=True))
    closed_at = db.Column(db.DateTime(timezone=True))

    titles = db.relationship(ProcurementTitle, back_populates="round",
                             order_by=ProcurementTitle.id, lazy="selectin")
    agenda_item = db.relationship("AgendaItem")
    created_by = db.relationship(User)

    __table_args__ = (
        db.CheckConstraint(f"status IN {ROUND_STATUSES}", name="known_status"),
        db.CheckConstraint("status <> 'committee' OR agenda_item_id IS NOT NULL",
                           name="committee_has_item"),
    )

    @property
    def pledged_total(self):
        return sum((t.pledged_total for t in self.titles), start=0)


class SearchDemand(db.Model):
    """Low-hit searches asked at least five times in the window, per query and library.

    Rebuilt by the sweep from the search log (``buying_list.refresh_search_demand``): the
    log is far too large to group on every page view.
    """

    __tablename__ = "procurement_search_demand"

    id = db.Column(db.BigInteger, primary_key=True)
    query = db.Column(db.Text, nullable=False)  # lower-cased, trimmed
    # the searchers' home library; null: visitors, and libraries with fewer than five searches
    library_id = db.Column(db.Integer)
    searches = db.Column(db.Integer, nullable=False)
    # the keys ``buying_list.find_line`` reads it by: the query's ISBN-13, its normalised words
    isbn = db.Column(db.String(13), index=True)
    title_key = db.Column(db.Text, nullable=False, index=True)


class DemandRefresh(db.Model):
    """One rebuild of ``procurement_search_demand``: when, and how long it took."""

    __tablename__ = "procurement_demand_refreshes"

    id = db.Column(db.Integer, primary_key=True)
    refreshed_at = db.Column(db.DateTime(timezone=True), nullable=False)
    rows = db.Column(db.Integer, nullable=False)
    ms = db.Column(db.Integer, nullable=False)
