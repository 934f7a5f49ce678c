"""Where each library harvests its records from by OAI-PMH, and how far it has got."""
from sqlalchemy.dialects.postgresql import JSONB

from jala import clock
from jala.accounts.models import Library
from jala.extensions import db

METADATA_PREFIXES = ("marc21", "oai_dc")


class OaiHarvestSource(db.Model):
    """An OAI-PMH repository (and set, and format) a member library's records come from.

    ``last_datestamp`` is the newest datestamp of the last finished harvest: the next one
    asks ``from`` it. While a harvest runs, ``resumption_token`` and ``run_*`` are saved after
    every page, so a harvest cut short goes on where it stopped.
    """

    __tablename__ = "oai_harvest_sources"

    id = db.Column(db.Integer, primary_key=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    url = db.Column(db.String(500), nullable=False)
    set_spec = db.Column(db.String(200), nullable=False, default="", server_default="")
    metadata_prefix = db.Column(db.String(20), nullable=False)
    # None: harvested only when someone runs it (``jala harvest``)
    interval_hours = db.Column(db.Integer)
    next_run_at = db.Column(db.DateTime(timezone=True))
    paused = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # set when a scheduled harvest is handed to a job, and when the job starts it; both
    # cleared when it ends (jala/protocols/harvest_schedule.py)
    enqueued_at = db.Column(db.DateTime(timezone=True))
    started_at = db.Column(db.DateTime(timezone=True))
    last_datestamp = db.Column(db.String(30))
    run_from = db.Column(db.String(30))
    run_datestamp = db.Column(db.String(30))
    resumption_token = db.Column(db.Text)
    run_counts = db.Column(JSONB, nullable=False, default=dict, server_default="{}")
    last_run_at = db.Column(db.DateTime(timezone=True))
    last_summary = db.Column(db.Text)
    # the counts of the last finished harvest (ImportStats' numbers), for the page's words
    last_counts = db.Column(JSONB, nullable=False, default=dict, server_default="{}")
    last_error = db.Column(db.Text)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    library = db.relationship(Library)

    __table_args__ = (db.UniqueConstraint("library_id", "url", "set_spec", "metadata_prefix"),)
