"""A batch of an import: started (looked up, handed to the pool), then written in one go.

Writing a batch is a fixed sequence of statements whatever its size: lookups by arrays, one
binary COPY of the new union records, COPY of the new source records and holdings, and
UPDATEs of what changed. The caller commits.
"""
import contextlib
import functools
from dataclasses import dataclass

import psycopg

from jala import clock
from jala.catalog.copy_format import (
    NEW_RECORDS_COPY,
    RECORD_COLUMNS,
    TsvectorDumper,
    copy_field,
    new_records_copy_data,
)
from jala.catalog.matching import assign_targets, existing_sources, union_records_for
from jala.catalog.preparation import prepare_or_reason, source_id_of
from jala.extensions import db
from jala.search.tokens import BinaryTsvector
from jala.shards.schema import KEY_TABLE

_UPDATE_RECORD = (
    "UPDATE records SET " + ", ".join(f"{c} = %({c})s" for c in RECORD_COLUMNS)
    + ", search_vector = %(search_vector)b, title_vector = %(title_vector)b,"
    " updated_at = %(now)s WHERE id = %(record_id)s"
)


def _cursor():
    """A cursor on the session's connection, set up for the import's statements."""
    cur = db.session.connection().connection.driver_connection.cursor()
    # an interrupted import is simply run again (it is idempotent): no need to wait for the
    # WAL flush at every batch. JIT compilation never pays for the import's index probes, and
    # the planner's guesses on tables without current statistics would trigger it.
    cur.execute("SET LOCAL synchronous_commit = off; SET LOCAL jit = off")
    # long values (abstracts, their tsvectors, the source records) compressed with lz4 where
    # the server has it: pglz took a sixth of a bulk load's time in PostgreSQL. A value is
    # read back the same whichever way it was compressed.
    cur.execute("SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings "
                "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
    cur.adapters.register_dumper(BinaryTsvector, TsvectorDumper)
    return cur


def update_union_record(record_id, prepared, now):
    """Rewrite one union record's columns and index from ``prepared`` (as an import would).

    Runs on the session's connection as it is (no import settings: the caller's commit stays
    durable); adds the prepared identifiers. The caller flushes before and commits after.
    """
    cur = db.session.connection().connection.driver_connection.cursor()
    cur.adapters.register_dumper(BinaryTsvector, TsvectorDumper)
    cur.execute(_UPDATE_RECORD, dict(prepared.columns, now=now, record_id=record_id))
    if prepared.identifiers:
        cur.executemany("INSERT INTO record_identifiers (kind, value, record_id) "
                        "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                        [(kind, value, record_id) for kind, value in prepared.identifiers])


def _allocate_ids(cur, sequence, count):
    if not count:
        return []
    cur.execute("SELECT nextval(%s) FROM generate_series(1, %s)", (sequence, count))
    return [row[0] for row in cur.fetchall()]


@dataclass
class StartedBatch:
    """A batch looked up and handed to the pool, not written yet."""

    work: list
    prepared: object  # iterator over the results of prepare_or_reason, in order
    existing: dict


def start_batch(pending, library_id, libraries, pool):
    """Look up a batch of ``(position, fields, stored)`` and start preparing it.

    The source ids of an import are all different (the importer skips a repeated one), so
    what a batch looks up is not changed by the batches before it that are not written yet.
    """
    cur = _cursor()
    existing = existing_sources(cur, library_id,
                                [sid for _, fields, _ in pending if (sid := source_id_of(fields))])
    work = []
    for position, fields, stored in pending:
        known = existing.get(source_id_of(fields))
        work.append((fields, position, stored, known[2] if known else None, known is not None))
    # the library ids go to the pool once per chunk, not with every record
    prepare_one = functools.partial(prepare_or_reason, library_id, libraries)
    prepared = pool.map(prepare_one, work, chunksize=64) if pool and len(work) > 64 \
        else map(prepare_one, work)
    return StartedBatch(work, prepared, existing)


def write_batch(started, library_id, format_name, stats):
    """Match the prepared records of a batch to union records and write them (caller commits).

    The pool prepares records in parallel (tokenising and romanising are the CPU-heavy part
    of an import), the next batch while this one is written. A batch that the database
    refuses is written again a record at a time, so that the one bad record is reported and
    skipped and the others land.
    """
    cur = _cursor()
    results = list(zip(started.work, started.prepared, strict=True))
    before = _counts(stats)
    try:
        with _savepoint(cur):
            _write(cur, results, started.existing, library_id, format_name, stats)
    except REFUSALS:
        _restore_counts(stats, before)
        _write_one_by_one(cur, results, library_id, format_name, stats)


# what the database (or the encoding of a value) refuses in one record, not in the import
REFUSALS = (psycopg.DataError, psycopg.IntegrityError, psycopg.InternalError,
            psycopg.errors.ProgramLimitExceeded, ValueError)


@contextlib.contextmanager
def _savepoint(cur):
    cur.execute("SAVEPOINT import_batch")
    try:
        yield
    except BaseException:
        cur.execute("ROLLBACK TO SAVEPOINT import_batch")
        raise
    cur.execute("RELEASE SAVEPOINT import_batch")


def _counts(stats):
    return {k: v for k, v in vars(stats).items() if isinstance(v, int)}, len(stats.errors)


def _restore_counts(stats, saved):
    counts, reported = saved
    for name, value in counts.items():
        setattr(stats, name, value)
    del stats.errors[reported:]


def _write_one_by_one(cur, results, library_id, format_name, stats):
    """Write a refused batch's records one at a time; skip and report those refused again."""
    for args, item in results:
        existing = existing_sources(cur, library_id, [source_id_of(args[0])])
        before = _counts(stats)
        try:
            with _savepoint(cur):
                _write(cur, [(args, item)], existing, library_id, format_name, stats)
        except REFUSALS as exc:
            _restore_counts(stats, before)
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            stats.skip(args[1], f"the database refused it: {reason}"[:300])


def _write(cur, results, existing, library_id, format_name, stats):
    """Write ``[(work, prepared)]`` of a batch: new union records, sources, holdings, updates."""
    now = clock.now()
    fresh, changed = _fresh_and_changed(results, existing, stats)
    targets, to_create = assign_targets(fresh, *union_records_for(cur, fresh), stats)
    new_ids = _create_union_records(cur, fresh, targets, to_create, now)
    # the union records that were there before this batch, and that it adds sources to
    touched = {t for t in targets.values() if not isinstance(t, tuple)}
    touched.update(rid for _, _, rid in changed)
    _point_at_new_records(targets, new_ids)
    if changed:
        _update_changed(cur, changed, targets, format_name, now, stats)
    if fresh or changed:
        _add_sources(cur, fresh, changed, targets, touched, new_ids, library_id, format_name,
                     now)
    if touched:
        _count_holdings(cur, sorted(touched), now)


def _fresh_and_changed(results, existing, stats):
    """The batch's records to write: ``(new source records, [(changed, source id, record id)])``.

    Counts the unchanged and the skipped in ``stats``.
    """
    by_source = {}
    for args, item in results:
        if item is None or (not isinstance(item, str) and (
                known := existing.get(item.source_id)) and known[2] == item.content_hash):
            stats.unchanged += 1
        elif isinstance(item, str):
            stats.skip(args[1], item)
        else:
            by_source[item.source_id] = item
            if item.note:
                stats.note(args[1], item.note)
    fresh, changed = [], []
    for item in by_source.values():
        known = existing.get(item.source_id)
        if known is None:
            fresh.append(item)
        else:
            changed.append((item, known[0], known[1]))
    return fresh, changed


def _create_union_records(cur, fresh, targets, to_create, now):
    """Write the new union records by binary COPY; their ids, in the order of ``to_create``."""
    # holding libraries of the new records are known here: write them with the row, so that
    # a bulk load writes each row once (an UPDATE afterwards would double the table)
    new_libraries = [set() for _ in to_create]
    for item in fresh:
        target = targets[item.source_id]
        if isinstance(target, tuple):
            new_libraries[target[1]].update(lib for lib, _, _, _ in item.holdings)
    new_ids = _allocate_ids(cur, "records_id_seq", len(to_create))
    if to_create:
        with cur.copy(NEW_RECORDS_COPY) as copy:
            copy.write(new_records_copy_data(new_ids, to_create, new_libraries, now))
    return new_ids


def _point_at_new_records(targets, new_ids):
    """Replace the ``("new", index)`` targets by the ids of the records created."""
    for source_id, target in targets.items():
        if isinstance(target, tuple):
            targets[source_id] = new_ids[target[1]]


def _update_changed(cur, changed, targets, format_name, now, stats):
    """Rewrite changed source records where they are, with their holdings.

    A changed source record rewrites its union record when it is that record's only source.
    """
    cur.execute("SELECT record_id, count(*) FROM source_records WHERE record_id = ANY(%s) "
                "GROUP BY record_id", ([rid for _, _, rid in changed],))
    source_counts = dict(cur.fetchall())
    updates = [dict(item.columns, now=now, record_id=rid)
               for item, _, rid in changed if source_counts.get(rid) == 1]
    if updates:
        cur.executemany(_UPDATE_RECORD, updates)
    for item, _, rid in changed:
        targets[item.source_id] = rid
    stats.updated += len(changed)
    cur.executemany("UPDATE source_records SET raw = %s::jsonb, content_hash = %s, "
                    "format = %s, updated_at = %s WHERE id = %s",
                    [(item.raw, item.content_hash, format_name, now, sid)
                     for item, sid, _ in changed])
    _update_holdings_in_place(cur, changed, targets, now)


def _add_sources(cur, fresh, changed, targets, touched, new_ids, library_id, format_name, now):
    """Write the new source records and their holdings by COPY, and every identifier.

    ``touched`` are the union records from before this batch that it adds sources to.
    """
    written = fresh + [item for item, _, _ in changed]
    source_ids = _allocate_ids(cur, "source_records_id_seq", len(fresh))
    ident_rows = [(k, v, targets[item.source_id])
                  for item in written for k, v in item.identifiers]
    referenced = touched | {r for _, _, r in ident_rows}
    referenced.difference_update(new_ids)
    holding_libraries = {lib for item in fresh for lib, _, _, _ in item.holdings}
    with _references_held(cur, referenced, holding_libraries | {library_id}):
        _copy_sources_and_holdings(cur, fresh, source_ids, targets, library_id,
                                   format_name, now.isoformat())
        if ident_rows:
            cur.execute("INSERT INTO record_identifiers (kind, value, record_id) "
                        "SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[]) "
                        "ON CONFLICT DO NOTHING", ([k for k, _, _ in ident_rows],
                                                   [v for _, v, _ in ident_rows],
                                                   [r for _, _, r in ident_rows]))


def _count_holdings(cur, record_ids, now):
    """Bring the holdings count and holding libraries of existing union records up to date.

    A record that gains or loses a library (its last copy there gone too) is updated ``now``:
    harvesters of that library's OAI-PMH set see the change.
    """
    cur.execute(
        "UPDATE records r SET holdings_count = s.n, library_ids = s.libs, updated_at = CASE "
        "  WHEN r.library_ids = s.libs THEN r.updated_at ELSE %s END FROM ("
        "  SELECT ids.id AS record_id, count(DISTINCT h.library_id) AS n, "
        "         coalesce(array_agg(DISTINCT h.library_id ORDER BY h.library_id) "
        "                  FILTER (WHERE h.library_id IS NOT NULL), '{}') AS libs "
        "  FROM unnest(%s::bigint[]) AS ids(id) LEFT JOIN holdings h ON h.record_id = ids.id "
        "  GROUP BY ids.id) s "
        # said again of r: a sharded catalogue then reads only the buckets these ids are in
        "WHERE r.id = s.record_id AND r.id = ANY(%s::bigint[])", (now, record_ids, record_ids))


def _copy_sources_and_holdings(cur, fresh, source_ids, targets, library_id, format_name, stamp):
    with cur.copy("COPY source_records (id, library_id, source_id, record_id, format, raw, "
                  "content_hash, imported_at, updated_at) FROM STDIN") as copy:
        copy.write("".join([
            f"{source_record_id}\t{library_id}\t{copy_field(item.source_id)}\t"
            f"{targets[item.source_id]}\t{copy_field(format_name)}\t{copy_field(item.raw)}\t"
            f"{item.content_hash}\t{stamp}\t{stamp}\n"
            for source_record_id, item in zip(source_ids, fresh, strict=True)]))
    with cur.copy("COPY holdings (record_id, library_id, source_record_id, call_number, status, "
                  "location, updated_at) FROM STDIN") as copy:
        copy.write("".join([
            f"{targets[item.source_id]}\t{lib}\t{sid}\t{copy_field(call)}\t{status}\t"
            f"{copy_field(loc)}\t{stamp}\n"
            for item, sid in zip(fresh, source_ids, strict=True)
            for lib, call, status, loc in item.holdings]))


@contextlib.contextmanager
def _references_held(cur, record_ids, library_ids):
    """Write a batch's new rows without a foreign-key check per row, where that is allowed.

    PostgreSQL checks each new source record, holding and identifier row against the record
    and library it points at: a query, and a lock, per row and key, about a fifth of a bulk
    load. The rows written here point at records created in this transaction or at the
    ``record_ids`` and ``library_ids`` given: locking those once (FOR KEY SHARE, as the checks
    would) gives the same guarantee. The per-row checks are then skipped for the block
    (``session_replication_role = replica`` does that, and needs a superuser or PostgreSQL
    15's GRANT SET ON PARAMETER); without that right, or when a row has gone, the checks run
    as usual. The constraints themselves stay.
    """
    if not _may_skip_checks(cur):
        yield
        return
    wanted = sorted(record_ids)
    # a sharded catalogue's foreign keys reference record_keys (jala/shards/schema.py)
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (KEY_TABLE,))
    keys = KEY_TABLE if cur.fetchone()[0] else "records"
    cur.execute(f"SELECT (SELECT count(*) FROM (SELECT FROM {keys} WHERE id = ANY(%s) "
                "FOR KEY SHARE) r), (SELECT count(*) FROM (SELECT FROM libraries "
                "WHERE id = ANY(%s) FOR KEY SHARE) l)", (wanted, sorted(library_ids)))
    if cur.fetchone() != (len(wanted), len(library_ids)):
        yield
        return
    cur.execute("SET LOCAL session_replication_role = replica")
    try:
        yield
    finally:
        # (a failed statement has aborted the transaction, and its rollback resets the role)
        if cur.connection.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
            cur.execute("SET LOCAL session_replication_role = origin")



def _may_skip_checks(cur):
    """Whether this connection may skip the per-row foreign-key checks of a batch.

    Only when the role may set the replication role, and the tables written have no
    triggers but their foreign keys' (replica mode would silently skip any other trigger).
    """
    privilege = ("has_parameter_privilege('session_replication_role', 'SET')"
                 if cur.connection.info.server_version >= 150000 else "false")
    cur.execute(f"SELECT (current_setting('is_superuser') = 'on' OR {privilege}) AND NOT EXISTS ("
                "  SELECT FROM pg_trigger t LEFT JOIN pg_constraint c ON c.oid = t.tgconstraint"
                "  WHERE t.tgrelid IN ('source_records'::regclass, 'holdings'::regclass, "
                "                      'record_identifiers'::regclass)"
                "  AND t.tgenabled <> 'D' AND coalesce(c.contype, '') <> 'f')")
    return cur.fetchone()[0]


def _update_holdings_in_place(cur, changed, targets, now):
    """Bring the holdings of changed source records up to date without replacing their rows.

    Loans and requests point at a copy's row, so a copy that is still there (same library and
    call number) keeps its id; a copy the library no longer lists is deleted, unless a loan or
    request points at it: then it stays, with its status unknown.
    """
    cur.execute("SELECT id, source_record_id, library_id, coalesce(call_number, '') "
                "FROM holdings WHERE source_record_id = ANY(%s) ORDER BY id",
                ([sid for _, sid, _ in changed],))
    existing = {}
    for holding_id, sid, library_id, call in cur.fetchall():
        existing.setdefault((sid, library_id, call), []).append(holding_id)
    updates, inserts = [], []
    for item, sid, _rid in changed:
        record_id = targets[item.source_id]
        for library_id, call, status, location in item.holdings:
            same = existing.get((sid, library_id, call or ""))
            if same:
                updates.append((record_id, status, location, now, same.pop(0)))
            else:
                inserts.append((record_id, library_id, sid, call, status, location, now))
    if updates:
        cur.executemany("UPDATE holdings SET record_id = %s, status = %s, location = %s, "
                        "updated_at = %s WHERE id = %s", updates)
    gone = [holding_id for ids in existing.values() for holding_id in ids]
    if gone:
        cur.execute("DELETE FROM holdings h WHERE h.id = ANY(%s) "
                    "AND NOT EXISTS (SELECT 1 FROM ill_requests r WHERE r.holding_id = h.id) "
                    "AND NOT EXISTS (SELECT 1 FROM union_loans u WHERE u.holding_id = h.id)",
                    (gone,))
        cur.execute("UPDATE holdings SET status = 'unknown', updated_at = %s WHERE id = ANY(%s)",
                    (now, gone))
    if inserts:
        cur.executemany("INSERT INTO holdings (record_id, library_id, source_record_id, "
                        "call_number, status, location, updated_at) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s)", inserts)
