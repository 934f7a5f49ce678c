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
KEY_TRIGGER = "records_shard_keys"  # the ON DELETE actions of the replaced foreign keys
KEY_CHECK = "records_shard_key_check"  # their check of inserted and updated references
# A shard commits before the primary does, so a delete that waited for a new reference's
# row lock on a shard could run its cascade before the reference is visible on the primary.
# Both sides also take an advisory lock on the primary, released only after its commit: a
# reference shared, a delete exclusive, keyed by the record id modulo KEY_LOCK_SLOTS (a
# statement takes at most that many; two ids sharing a slot only wait for each other).
KEY_LOCK_SLOTS = 1024
_KEY_LOCK = f"hashtext('{KEY_TRIGGER}')"
ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL",
             "d": "SET DEFAULT"}
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
        "CAST(:table AS regclass) AND NOT tgisinternal AND tgparentid = 0 AND tgname <> :own "
        "ORDER BY tgname"), {"table": table, "own": KEY_TRIGGER}).scalars().all()


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


def _key_trigger_body(keys):
    """The plpgsql that does, for a deleted record, what the replaced foreign keys did."""
    lines = []
    for key in keys:
        table, column = key.table_name, key.column_name
        if key.on_delete == "CASCADE":
            lines.append(f"DELETE FROM {table} WHERE {column} = OLD.id;")
        elif key.on_delete == "SET NULL":
            lines.append(f"UPDATE {table} SET {column} = NULL WHERE {column} = OLD.id;")
        elif key.on_delete == "SET DEFAULT":
            lines.append(f"UPDATE {table} SET {column} = DEFAULT WHERE {column} = OLD.id;")
        else:  # NO ACTION, RESTRICT: the record stays while something points at it
            lines.append(
                f"IF EXISTS (SELECT 1 FROM {table} WHERE {column} = OLD.id) THEN "
                f"RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', MESSAGE = "
                f"format('record %s is still referenced from {table}', OLD.id); END IF;")
    return "\n  ".join(lines)


def install_key_trigger(connection):
    """(Re)make the AFTER DELETE trigger on records from ``shard_foreign_keys``.

    A row trigger on the partitioned parent is cloned onto every bucket, the foreign ones
    too, and fires on the primary whichever server holds the deleted row.
    """
    keys = _stored_keys(connection)
    connection.execute(text(
        f"CREATE OR REPLACE FUNCTION {KEY_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n  PERFORM pg_advisory_xact_lock({_KEY_LOCK}, "
        f"(OLD.id % {KEY_LOCK_SLOTS})::int);\n"
        f"  {_key_trigger_body(keys)}\n  RETURN OLD;\nEND $$"))
    connection.execute(text(f"DROP TRIGGER IF EXISTS {KEY_TRIGGER} ON {TABLE}"))
    connection.execute(text(f"CREATE TRIGGER {KEY_TRIGGER} AFTER DELETE ON {TABLE} "
                            f"FOR EACH ROW EXECUTE FUNCTION {KEY_TRIGGER}()"))
    install_key_checks(connection, keys)


# The record ids a statement wrote into the column TG_ARGV[0] (an update: only the changed
# ones) must be records, each locked FOR KEY SHARE (FOR SHARE on a shard: a delete that
# came first makes this one fail rather than pass) and under its shared advisory lock (a
# delete coming after waits for this transaction's commit). One lookup per statement: a
# bucket is asked once however many rows a batch inserts.
_KEY_CHECK_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {KEY_CHECK}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  wanted bigint[];
  found bigint[];
BEGIN
  IF TG_OP = 'UPDATE' THEN
    EXECUTE format('SELECT array_agg(DISTINCT n.%1$I) FROM new_rows n WHERE n.%1$I IS NOT NULL '
                   'AND NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.%1$I = n.%1$I)',
                   TG_ARGV[0]) INTO wanted;
  ELSE
    EXECUTE format('SELECT array_agg(DISTINCT %1$I) FROM new_rows WHERE %1$I IS NOT NULL',
                   TG_ARGV[0]) INTO wanted;
  END IF;
  IF wanted IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock_shared({_KEY_LOCK}, slot)
    FROM (SELECT DISTINCT (w % {KEY_LOCK_SLOTS})::int AS slot FROM unnest(wanted) w) s;
  SELECT array_agg(id) INTO found
    FROM (SELECT id FROM {TABLE} WHERE id = ANY(wanted) FOR KEY SHARE) r;
  IF coalesce(cardinality(found), 0) < cardinality(wanted) THEN
    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', MESSAGE = format(
      '%s.%s refers to record %s, which does not exist', TG_TABLE_NAME, TG_ARGV[0],
      (SELECT min(w) FROM unnest(wanted) w WHERE w <> ALL(coalesce(found, '{{}}'))));
  END IF;
  RETURN NULL;
END $$"""


def _check_trigger_names(key):
    stem = f"shard_key_{key.constraint_name}"[:56]
    return f"{stem}_ins", f"{stem}_upd"


def install_key_checks(connection, keys=None):
    """(Re)make the statement triggers checking each referencing column on insert and update.

    A foreign key checks both ends; with records partitioned over servers the delete end is
    ``records_shard_keys`` and this the other: two triggers per replaced key (PostgreSQL
    allows one event per trigger with transition tables).
    """
    connection.execute(text(_KEY_CHECK_FUNCTION))
    for key in _stored_keys(connection) if keys is None else keys:
        on_insert, on_update = _check_trigger_names(key)
        table, column = key.table_name, key.column_name
        for name in (on_insert, on_update):
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        connection.execute(text(
            f"CREATE TRIGGER {on_insert} AFTER INSERT ON {table} REFERENCING NEW TABLE AS "
            f"new_rows FOR EACH STATEMENT EXECUTE FUNCTION {KEY_CHECK}('{column}')"))
        connection.execute(text(
            f"CREATE TRIGGER {on_update} AFTER UPDATE ON {table} REFERENCING OLD TABLE AS "
            f"old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {KEY_CHECK}('{column}')"))


def _stored_keys(connection):
    table = ShardForeignKey.__table__
    return connection.execute(table.select().order_by(table.c.table_name,
                                                      table.c.constraint_name)).all()
