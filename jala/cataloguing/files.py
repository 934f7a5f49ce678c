"""A MARC file of records for the centre: each good record a submission, each bad one named."""
import io

from flask_babel import gettext as _

from jala.catalog.readers import BadRecord, Guessed, ImportFileError, open_records
from jala.cataloguing.marc_form import check_rows, flavour_of, from_pymarc, leader_of
from jala.cataloguing.services import submit_record, submitting_library
from jala.errors import RuleViolation

MAX_BYTES = 5 * 1024 * 1024
MAX_RECORDS = 500


def submit_file(actor, upload, library_id=None):
    """Submit every valid record of an ISO 2709 or MARCXML file.

    Returns ``{"submitted": [submission], "bad": [(record number, reason)]}``: a record that
    cannot be read or does not pass the editor's checks is reported by its number, the rest go
    to the centre.
    """
    library_id = submitting_library(actor, library_id)
    if upload is None or not getattr(upload, "filename", ""):
        raise RuleViolation(_("Choose a MARC file."))
    data = upload.stream.read(MAX_BYTES + 1)
    if not data:
        raise RuleViolation(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise RuleViolation(_("The file is larger than 5 MB: send it in parts."))
    try:
        _counter, items, format_name = open_records(io.BytesIO(data), upload.filename)
    except ImportFileError as exc:
        raise RuleViolation(_("The file is not MARCXML or ISO 2709 MARC.")) from exc
    if format_name == "jsonl":
        raise RuleViolation(_("The file is not MARCXML or ISO 2709 MARC."))
    submitted, bad = [], []
    for position, item in items:
        if len(submitted) + len(bad) >= MAX_RECORDS:
            raise RuleViolation(_("A file may hold at most %(n)d records.", n=MAX_RECORDS))
        record = item.record if isinstance(item, Guessed) else item
        if isinstance(record, BadRecord):
            bad.append((position, record.reason))
            continue
        flavour = flavour_of(record)
        rows, leader = from_pymarc(record), leader_of(record, flavour)
        problems = check_rows(rows, leader, flavour)
        if problems:
            bad.append((position, " ".join(message for _row, message in problems)))
            continue
        submitted.append(submit_record(actor, rows, leader=leader, flavour=flavour,
                                       library_id=library_id))
    if not submitted and not bad:
        raise RuleViolation(_("The file holds no record."))
    return {"submitted": submitted, "bad": bad}
