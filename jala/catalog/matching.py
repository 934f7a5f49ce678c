"""Matching a batch of imported records to what the catalogue has.

A source record is known by its library + source id (re-importing an unchanged one changes
nothing: it is compared by content hash). A new one is matched to an existing union record by
ISBN (ISBN-10 = ISBN-13) or, for journals, ISSN; otherwise by normalised title + first author
+ year; never by the title alone. New records of one batch that match each other make one
union record.
"""

# The lookups of a batch probe an index once per key: "CROSS JOIN LATERAL (… OFFSET 0)" keeps
# the planner to that. A bulk load outgrows the tables' statistics (and there are none before
# the first ANALYZE), and then "key = ANY(…)" or a plain join is planned as a scan of the
# library's rows or of the whole table, once per batch.


def existing_sources(cur, library_id, source_ids):
    """``{source_id: (source record id, union record id, content hash)}`` of those known."""
    cur.execute("SELECT s.source_id, s.id, s.record_id, s.content_hash "
                "FROM unnest(%s::text[]) AS wanted(source_id) CROSS JOIN LATERAL ("
                "  SELECT source_id, id, record_id, content_hash FROM source_records"
                "  WHERE library_id = %s AND source_id = wanted.source_id OFFSET 0) s",
                (source_ids, library_id))
    return {row[0]: row[1:] for row in cur.fetchall()}


def union_records_for(cur, fresh):
    """The union records new source records match: ``(by identifier, by match key)``.

    ``by identifier`` maps ``(kind, value)`` to a record id; ``by match key`` maps a key to
    the lowest record id with it.
    """
    idents = [(k, v) for item in fresh for k, v in item.identifiers]
    by_identifier = {}
    if idents:
        cur.execute("SELECT i.kind, i.value, i.record_id "
                    "FROM unnest(%s::text[], %s::text[]) AS wanted(kind, value) "
                    "CROSS JOIN LATERAL ("
                    "  SELECT kind, value, record_id FROM record_identifiers"
                    "  WHERE kind = wanted.kind AND value = wanted.value OFFSET 0) i",
                    ([k for k, _ in idents], [v for _, v in idents]))
        by_identifier = {(k, v): rid for k, v, rid in cur.fetchall()}
    keys = list(dict.fromkeys(item.match_key for item in fresh if item.match_key))
    by_key = {}
    if keys:
        cur.execute("SELECT wanted.key, r.id FROM unnest(%s::text[]) AS wanted(key) "
                    "CROSS JOIN LATERAL ("
                    "  SELECT id FROM records WHERE match_key = wanted.key OFFSET 0) r", (keys,))
        for key, record_id in cur.fetchall():
            by_key[key] = min(record_id, by_key.get(key, record_id))
    return by_identifier, by_key


def assign_targets(fresh, by_identifier, by_key, stats):
    """Where each new source record goes: ``(targets, to_create)``.

    ``targets`` maps a source id to an existing union record's id, or to ``("new", index)``
    into ``to_create``, the records to create; identifiers first, then the match key. Counts
    what joined an existing record and what is new in ``stats``.
    """
    targets = {}
    to_create = []
    in_batch = {}
    for item in fresh:
        record_id = next((by_identifier[i] for i in item.identifiers if i in by_identifier),
                         None) or (by_key.get(item.match_key) if item.match_key else None)
        if record_id:
            targets[item.source_id] = record_id
            stats.merged += 1
            continue
        twin = next((in_batch[i] for i in item.identifiers if i in in_batch), None)
        if twin is None and item.match_key:
            twin = in_batch.get(("key", item.match_key))
        if twin is not None:
            targets[item.source_id] = ("new", twin)
            stats.merged += 1
            continue
        index = len(to_create)
        to_create.append(item)
        targets[item.source_id] = ("new", index)
        for ident in item.identifiers:
            in_batch.setdefault(ident, index)
        if item.match_key:
            in_batch.setdefault(("key", item.match_key), index)
        stats.created += 1
    return targets, to_create
