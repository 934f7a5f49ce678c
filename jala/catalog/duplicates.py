"""Records that are one record twice: ids for records without one, and ids read twice.

A record without a control number (001) gets an id from its content, so that it is imported,
and imported again in place when the library sends it again. A second record with an id
already read in the same file is caught (``SeenIds``) and reported with the first one's place.
"""
import bisect
import hashlib
import heapq
from array import array

from jala.catalog.preparation import encode_source

CONTENT_ID_PREFIX = "no-001:"
# what changes between two exports of the same record: its ids and date (001, 003, 005) and
# its copies (852, 876-878, the local 9xx fields; Alma's AVA is not numeric)
VOLATILE_TAGS = {"001", "003", "005", "852", "876", "877", "878"}


def content_id(stored):
    """A stable source id for a MARC record (a dict) without one, from its bibliographic fields.

    The prefix keeps it apart from the ids libraries give, which never read "no-001:".
    """
    kept = [field for field in stored.get("fields", []) for tag in field
            if tag.isdigit() and tag not in VOLATILE_TAGS and not tag.startswith("9")]
    digest = hashlib.sha1(encode_source(kept).encode("utf-8", "surrogatepass")).hexdigest()
    return CONTENT_ID_PREFIX + digest[:20]


def duplicate_reason(stored, source_id, first):
    """Why a record with an id read before is skipped, naming where it was read first.

    ``stored`` is the MARC record as a dict, None for a JSON Lines line.
    """
    if stored is None:
        return f"duplicate source_id {source_id!r}: line {first} has it too; this line is skipped"
    if source_id.startswith(CONTENT_ID_PREFIX):  # an id the import made, not the library's
        return f"the same record as record {first} (and neither has a 001); this record is skipped"
    return f"duplicate 001 {source_id!r}: record {first} has it too; this record is skipped"


def _fingerprint(source_id):
    digest = hashlib.blake2b(source_id.encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(digest.digest(), "big")


class SeenIds:
    """The source ids read so far in a file, and where each was read first.

    A Python object per id would cost some 100 bytes, a gigabyte for a ten-million-record load:
    the ids are kept as 64-bit fingerprints with their positions, 16 bytes an id, in sorted
    arrays that are merged as they grow (the levels of an LSM tree), so that a lookup is a few
    binary searches. Two ids with one fingerprint (about one chance in 10^5 among ten million
    ids) would be reported as a duplicate, never lost silently.
    """

    RECENT = 1 << 15  # ids kept in a dict before they go to the arrays

    def __init__(self):
        self._recent = {}
        self._levels = []  # [(fingerprints, positions)], sorted by fingerprint, larger first

    def first_seen(self, source_id, position):
        """Where ``source_id`` was read before, or None, remembering it at ``position``."""
        key = _fingerprint(source_id)
        found = self._recent.get(key)
        for keys, positions in self._levels:
            if found is not None:
                break
            index = bisect.bisect_left(keys, key)
            if index < len(keys) and keys[index] == key:
                found = positions[index]
        if found is None:
            self._recent[key] = position
            if len(self._recent) >= self.RECENT:
                self._settle()
        return found

    def _settle(self):
        """Move the recent ids into a sorted level; merge levels no larger than the one after."""
        items = sorted(self._recent.items())
        self._recent = {}
        self._levels.append((array("Q", [k for k, _ in items]), array("q", [p for _, p in items])))
        while len(self._levels) > 1 and len(self._levels[-2][0]) <= len(self._levels[-1][0]) * 2:
            newer, older = self._levels.pop(), self._levels.pop()
            keys, positions = array("Q"), array("q")
            for key, position in heapq.merge(zip(*older, strict=True),
                                                       zip(*newer, strict=True)):
                keys.append(key)
                positions.append(position)
            self._levels.append((keys, positions))
