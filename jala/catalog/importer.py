"""Importing records into the union catalogue: validate, match, upsert, in batches.

The source record is kept as imported; re-importing an unchanged record changes nothing. A bad
record is reported with its position and skipped; the rest of the batch and the file go on.

This module drives an import: records are read, gathered into batches, prepared by a pool of
processes and written a batch at a time. The steps live beside it: ``preparation`` (one record
checked against the contract and turned into row values), ``matching`` (to the source and
union records the catalogue has), ``batches`` (a batch looked up, then written) and
``copy_format`` (the rows as PostgreSQL's COPY reads them).
"""
import collections
import concurrent.futures
import gc
import multiprocessing
from dataclasses import dataclass, field

from jala.catalog.batches import start_batch, write_batch
from jala.catalog.duplicates import SeenIds, content_id, duplicate_reason
from jala.catalog.marc import marc_to_dict
from jala.catalog.preparation import InvalidRecord, source_id_of
from jala.catalog.readers import BadRecord, Guessed
from jala.extensions import db
from jala.membership import library_ids_by_code

BATCH_SIZE = 1000
BATCHES_AHEAD = 2
MAX_REPORTED_ERRORS = 1000


@dataclass
class ImportStats:
    """What an import did, and the records it skipped or imported with a note.

    Every record read is counted once: ``read`` = ``created`` (new union records) + ``merged``
    (joined an existing union record, or a new one of the same import) + ``updated`` +
    ``unchanged`` + ``skipped``. ``errors`` reports the skipped and the notes: a note on a
    record that was imported has ``"kept": True``.
    """

    read: int = 0
    created: int = 0
    merged: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list = field(default_factory=list)

    def skip(self, position, reason):
        """Count a skipped record, and report why (the first ``MAX_REPORTED_ERRORS``)."""
        self.skipped += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"position": position, "reason": reason})

    def note(self, position, reason):
        """Report something about a record that was imported all the same."""
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"position": position, "reason": reason, "kept": True})

    @property
    def unreported(self):
        """How many skipped records are not in ``errors`` (past the first reported)."""
        return self.skipped - sum(1 for error in self.errors if not error.get("kept"))

    def summary(self):
        """One line for a log or the CLI."""
        return (f"{self.read} read: {self.created} new, {self.merged} joined, "
                f"{self.updated} updated, {self.unchanged} unchanged, {self.skipped} skipped")

    @property
    def accounted(self):
        """The records read that are counted as something: always ``read``."""
        return self.created + self.merged + self.updated + self.unchanged + self.skipped


def import_stream(items, library_code, *, format_name, flavour=None, progress=None,
                  batch_size=BATCH_SIZE, commit=True, workers=1):
    """Import ``(position, dict | pymarc.Record | BadRecord)`` items for a library.

    Commits after every batch (so a huge file does not hold one transaction open) unless
    ``commit`` is false. ``progress(stats)`` is called after each batch. ``workers`` > 1
    prepares records in that many processes.
    """
    if workers > 1:
        context = multiprocessing.get_context("fork")
        # the workers leave what they inherit out of their garbage collections (gc.freeze):
        # scanning it would cost time and unshare the pages
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context,
                                                    initializer=gc.freeze) as pool:
            return _import_stream(items, library_code, format_name, flavour, progress,
                                  batch_size, commit, pool)
    return _import_stream(items, library_code, format_name, flavour, progress, batch_size,
                          commit, None)


def _import_stream(items, library_code, format_name, flavour, progress, batch_size, commit,
                   pool):
    libraries = library_ids_by_code()
    library_id = libraries.get((library_code or "").strip().upper())
    if library_id is None:
        raise InvalidRecord(f"{library_code!r} is not a member library")
    stats = ImportStats()
    pending = []
    # batches started and not written yet: the pool prepares the later ones while the first is
    # written, two ahead so that it never runs out of work while a batch is read or written
    started = collections.deque()
    ahead = BATCHES_AHEAD if pool else 1

    def flush(last=False):
        if pending:
            started.append(start_batch(list(pending), library_id, libraries, pool))
            pending.clear()
        while started and (last or len(started) > ahead):
            write_batch(started.popleft(), library_id, format_name, stats)
            if commit:
                db.session.commit()
        if progress:
            progress(stats)

    seen = SeenIds()
    for position, item in items:
        stats.read += 1
        admitted = _admit(position, item, flavour, seen, stats)
        if admitted:
            pending.append(admitted)
            if len(pending) >= batch_size:
                flush()
    flush(last=True)
    return stats


def _admit(position, item, flavour, seen, stats):
    """``(position, fields, stored)`` of a record to import, or None when it is skipped.

    ``stored`` is the record as kept (MARC as a dict; None for JSON, kept as it is). A MARC
    record without a control number gets one from its content; a record whose id was read
    before in the file is skipped and named.
    """
    if isinstance(item, Guessed):
        stats.note(position, item.note)
        item = item.record
    if isinstance(item, BadRecord):
        stats.skip(position, item.reason)
        return None
    if isinstance(item, dict):
        fields, stored = item, None
    else:
        try:
            fields, stored = marc_to_dict(item, flavour), item.as_dict()
        except (ValueError, TypeError, AttributeError) as exc:
            stats.skip(position, f"broken MARC record: {exc}")
            return None
    source_id = source_id_of(fields)
    made_up = stored is not None and not source_id
    if made_up:
        source_id = fields["source_id"] = content_id(stored)
    first = seen.first_seen(source_id, position) if source_id else None
    if first is not None:
        stats.skip(position, duplicate_reason(stored, source_id, first))
        return None
    if made_up:
        stats.note(position, f"no 001 (control number): imported as {source_id}")
    return position, fields, stored
