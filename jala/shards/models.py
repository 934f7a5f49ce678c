"""The shard registry and the foreign keys onto records.id that sharding replaced."""
from jala import clock
from jala.extensions import db


class Shard(db.Model):
    """A PostgreSQL server that may hold buckets of the catalogue (a postgres_fdw server)."""

    __tablename__ = "shards"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40), nullable=False, unique=True)
    # libpq keywords without the password (that lives in the user mapping or .pgpass)
    conninfo = db.Column(db.Text, nullable=False)
    server_name = db.Column(db.String(63), nullable=False, unique=True)
    added_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)


class ShardForeignKey(db.Model):
    """A foreign key onto records.id that a partitioned records cannot keep, as it was.

    PostgreSQL refuses a unique index on a partitioned table with foreign partitions, so
    nothing can reference records.id; the key now references ``record_keys`` (the ids alone,
    on the primary), with the same name, column and ON DELETE action.
    """

    __tablename__ = "shard_foreign_keys"
    __table_args__ = (db.UniqueConstraint("table_name", "constraint_name"),)

    id = db.Column(db.Integer, primary_key=True)
    table_name = db.Column(db.String(63), nullable=False)
    column_name = db.Column(db.String(63), nullable=False)
    constraint_name = db.Column(db.String(63), nullable=False)
    on_delete = db.Column(db.String(20), nullable=False)  # CASCADE, SET NULL, NO ACTION, …
    definition = db.Column(db.Text, nullable=False)  # pg_get_constraintdef, to restore it
    replaced_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
