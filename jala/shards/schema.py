"""What `records` is made of, read from PostgreSQL's catalogue, and its conversion into buckets.

Every definition is read from the live table (indexes by ``pg_get_indexdef``, triggers by
``pg_get_triggerdef``, columns by ``format_type``), never written here again, so what the
migrations added by raw SQL is kept as faithfully as what the models declare.
"""
import re
from dataclasses import dataclass

from sqlalchemy import text

from jala.catalog.models import Record
from jala.shards.models import ShardForeignKey

TABLE = Record.__tablename__
BUILD_MEMORY = "512MB"  # maintenance_work_mem of the index builds (as bulk loads use)
KEY_TABLE = "record_keys"  # the ids of records, on the primary: what foreign keys reference
KEY_TRIGGER = "records_shard_keys"  # keeps record_keys in step with records
KEY_GUARD = "records_shard_key_guard"  # refuses what record_keys could not follow
KEY_GUARD_TRUNCATE = f"{KEY_GUARD}_truncate"
KEY_TRIGGERS = (KEY_TRIGGER, KEY_GUARD, KEY_GUARD_TRUNCATE)  # all that sharding puts on records
ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL",
             "d": "SET DEFAULT"}
_ONTO_RECORDS = re.compile(rf"REFERENCES (?:\w+\.)?{TABLE}\(id\)")
_INDEX_DEF = re.compile(
    r"^CREATE (UNIQUE )?INDEX (?:IF NOT EXISTS )?(\S+) ON (?:ONLY )?(\S+) (.*)$", re.DOTALL)


def bucket_name(remainder):
    return f"{TABLE}_b{remainder:02d}"


def is_partitioned(connection):
    """Whether records is already a partitioned table (``jala shards init`` has run)."""
    return connection.execute(text(
        "SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(:table)"),
        {"table": TABLE}).scalar() or False


@dataclass
class Column:
    name: str
    type: str
    not_null: bool
    default: str

    def sql(self, with_default=True):
        default = self.default if with_default and self.default and \
            "nextval(" not in self.default else None
        return " ".join(filter(None, (f'"{self.name}"', self.type, "NOT NULL" if self.not_null
                                      else None, f"DEFAULT {default}" if default else None)))


def columns(connection, table=TABLE):
    """The table's columns in their order (a bucket elsewhere has them in the same order)."""
    rows = connection.execute(text(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = CAST(:table AS regclass) AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum"), {"table": table}).all()
    return [Column(*row) for row in rows]


def statistics_targets(connection, table=TABLE):
    """``{column: target}`` for the columns whose statistics target was raised."""
    return dict(connection.execute(text(
        "SELECT attname, attstattarget FROM pg_attribute WHERE attrelid = "
        "CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped AND attstattarget > 0"),
        {"table": table}).all())


def index_definitions(connection, table=TABLE):
    """``[(name, CREATE INDEX …)]`` of the table's indexes, the primary key left out."""
    return connection.execute(text(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = CAST(:table AS regclass) "
        "AND NOT i.indisprimary ORDER BY c.relname"), {"table": table}).all()


def bucket_index_name(bucket, index):
    """What index ``ix_records_<what>`` is called on a bucket table: ``<bucket>_<what>``."""
    return f"{bucket}_{index.removeprefix('ix_' + TABLE + '_')}"[:63]


def for_bucket(definition, bucket, table=None):
    """A ``CREATE INDEX`` on records written for one bucket table."""
    unique, name, _table, rest = _INDEX_DEF.match(definition).groups()
    return (f"CREATE {unique or ''}INDEX {bucket_index_name(bucket, name)} "
            f"ON {table or bucket} {rest}")


def bucket_index_definitions(connection, bucket, table=None):
    """The parent's indexes written for one bucket table (named ``<bucket>_<index>``)."""
    return [for_bucket(definition, bucket, table)
            for _name, definition in index_definitions(connection)]


def trigger_definitions(connection, table=TABLE):
    """``CREATE TRIGGER …`` of the table's own triggers (not the ones a constraint makes)."""
    return connection.execute(text(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = "
        "CAST(:table AS regclass) AND NOT tgisinternal AND tgparentid = 0 "
        "AND tgname <> ALL(:own) ORDER BY tgname"),
        {"table": table, "own": list(KEY_TRIGGERS)}).scalars().all()


def foreign_keys_onto_records(connection):
    """The foreign keys that reference records.id: table, column, name, ON DELETE, definition."""
    rows = connection.execute(text(
        "SELECT c.conrelid::regclass::text, a.attname, c.conname, c.confdeltype, "
        "pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.contype = 'f' AND c.confrelid = CAST(:table AS regclass) "
        "AND c.conparentid = 0 ORDER BY 1, 3"), {"table": TABLE}).all()
    return [(table, column, name, ON_DELETE[action], definition)
            for table, column, name, action, definition in rows]


def install_key_table(connection, source=TABLE):
    """``record_keys`` of the ids in ``source``, the foreign keys onto records.id moved to it.

    The ``records_shard_keys`` trigger keeps it in step with records.

    PostgreSQL keeps no unique index on a table with foreign partitions, so nothing can
    reference records.id; a narrow table of the ids on the primary can be referenced, and so
    the foreign keys keep doing all they did (checks on insert and update, ON DELETE actions,
    row locks that make a delete and a new reference wait for each other), locally.
    """
    connection.execute(text(f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} (id bigint PRIMARY KEY)"))
    connection.execute(text(f"INSERT INTO {KEY_TABLE} SELECT id FROM {source} "
                            f"ON CONFLICT DO NOTHING"))
    for key in _stored_keys(connection):
        onto_keys = _ONTO_RECORDS.sub(f"REFERENCES {KEY_TABLE}(id)", key.definition)
        connection.execute(text(f'ALTER TABLE {key.table_name} DROP CONSTRAINT IF EXISTS '
                                f'"{key.constraint_name}"'))
        connection.execute(text(f'ALTER TABLE {key.table_name} ADD CONSTRAINT '
                                f'"{key.constraint_name}" {onto_keys}'))
    _function(connection, KEY_TRIGGER, (
        f"  IF TG_OP = 'INSERT' THEN\n"
        f"    INSERT INTO {KEY_TABLE} VALUES (NEW.id);\n"
        f"    RETURN NEW;\n"
        f"  END IF;\n"
        f"  DELETE FROM {KEY_TABLE} WHERE id = OLD.id;  -- the foreign keys act from here\n"
        f"  RETURN OLD;\n"))
    _trigger(connection, KEY_TRIGGER, "AFTER INSERT OR DELETE", "FOR EACH ROW", KEY_TRIGGER)
    # what a foreign key onto records refused, and record_keys would not follow: a record
    # changing its id (or moving bucket by it), and TRUNCATE (no row trigger fires)
    _function(connection, KEY_GUARD, (
        "  RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', MESSAGE = format(\n"
        "    '%s on records is refused: other tables refer to records by id', TG_OP);\n"))
    _trigger(connection, KEY_GUARD, "BEFORE UPDATE OF id",
             "FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)", KEY_GUARD)
    _trigger(connection, KEY_GUARD_TRUNCATE, "BEFORE TRUNCATE", "FOR EACH STATEMENT", KEY_GUARD)


def _function(connection, name, body):
    """A trigger function in PL/pgSQL, replaced if it exists."""
    connection.execute(text(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger "
                            f"LANGUAGE plpgsql AS $$\nBEGIN\n{body}END $$"))


def _trigger(connection, name, event, each, function):
    """A trigger on records, replaced if it exists."""
    connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}"))
    connection.execute(text(f"CREATE TRIGGER {name} {event} ON {TABLE} {each} "
                            f"EXECUTE FUNCTION {function}()"))


def _stored_keys(connection):
    table = ShardForeignKey.__table__
    return connection.execute(table.select().order_by(table.c.table_name,
                                                      table.c.constraint_name)).all()
