"""Private file storage, served only through signed links that expire and count downloads.

Files live under ``instance/files/`` with random names, outside any static folder. A link is
a row (expiry, download limit, downloads so far) and a token signed with ``SECRET_KEY``
naming that row; the download view checks both.
"""
import hashlib
import secrets
from pathlib import Path

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select, update

from jala import clock
from jala.errors import RuleViolation
from jala.extensions import db
from jala.jobs import sweep_task
from jala.urls import external_url

USED_UP = _l("This download link has been used the maximum number of times. Ask again from "
             "your requests page.")
# Content checks by magic bytes, never by file name or the browser's claimed type.
SIGNATURES = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "webp": ("image/webp", (b"RIFF",)),
    "tiff": ("image/tiff", (b"II*\x00", b"MM\x00*")),
}


class StoredFile(db.Model):
    """A file kept privately on disk."""

    __tablename__ = "stored_files"

    id = db.Column(db.Integer, primary_key=True)
    storage_name = db.Column(db.String(64), nullable=False, unique=True)
    original_name = db.Column(db.String(255), nullable=False)
    content_type = db.Column(db.String(100), nullable=False)
    size = db.Column(db.BigInteger, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    delete_after = db.Column(db.DateTime(timezone=True), index=True)
    deleted_at = db.Column(db.DateTime(timezone=True))


class FileLink(db.Model):
    """One signed download link for a stored file."""

    __tablename__ = "file_links"

    id = db.Column(db.Integer, primary_key=True)
    file_id = db.Column(db.Integer, db.ForeignKey("stored_files.id"), nullable=False, index=True)
    nonce = db.Column(db.String(32), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    expires_at = db.Column(db.DateTime(timezone=True), nullable=False)
    max_downloads = db.Column(db.Integer)
    downloads = db.Column(db.Integer, nullable=False, default=0)

    file = db.relationship(StoredFile)


def storage_dir():
    """Return the folder private files are kept in (created on first use)."""
    path = Path(current_app.config["INSTANCE_PATH"]) / "files"
    path.mkdir(parents=True, exist_ok=True)
    return path


def detect_kind(head):
    """Name the kind of file from its first bytes, or None."""
    for kind, (_mime, prefixes) in SIGNATURES.items():
        if any(head.startswith(p) for p in prefixes):
            if kind == "webp" and head[8:12] != b"WEBP":
                continue
            return kind
    return None


def store_upload(stream, original_name, *, allowed_kinds, max_bytes, owner=None,
                 delete_after=None):
    """Validate an uploaded stream by content (magic bytes) and size, and keep it privately."""
    head = stream.read(16)
    kind = detect_kind(head)
    if kind not in allowed_kinds:
        names = ", ".join(k.upper() for k in allowed_kinds)
        raise RuleViolation(_("The file is not a valid %(kinds)s file.", kinds=names))
    return store_stream(stream, original_name, head=head, content_type=SIGNATURES[kind][0],
                        max_bytes=max_bytes, owner=owner, delete_after=delete_after)


def store_stream(stream, original_name, *, head=b"", content_type, max_bytes, owner=None,
                 delete_after=None):
    """Keep a stream privately (the caller has checked its content); refuse it past max_bytes."""
    storage_name = secrets.token_hex(16)
    target = storage_dir() / storage_name
    digest = hashlib.sha256(head)
    size = len(head)
    try:
        with open(target, "wb") as out:
            out.write(head)
            while chunk := stream.read(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise RuleViolation(_("The file is larger than %(mb)d MB.",
                                          mb=max_bytes // (1024 * 1024)))
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    clean_name = "".join(ch for ch in Path(original_name or "file").name
                         if ch.isprintable()).strip()
    row = StoredFile(
        storage_name=storage_name,
        original_name=clean_name[:255] or "file",
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        owner_id=owner.id if owner else None,
        delete_after=delete_after,
    )
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(_WRITTEN_KEY, []).append(target)
    return row


_WRITTEN_KEY = "jala_files_written"


def note_written(paths):
    """Count ``paths`` (files a service wrote beside an upload) as this transaction's own.

    ``discard_written_since`` deletes them if it rolls back, as it does the uploads.
    """
    db.session.info.setdefault(_WRITTEN_KEY, []).extend(paths)


def written_mark():
    """A mark in the list of files this transaction wrote (see ``discard_written_since``)."""
    return len(db.session.info.get(_WRITTEN_KEY, ()))


def discard_written_since(mark=0):
    """Delete the files written after ``mark`` (rolled back: no sweep would find them)."""
    written = db.session.info.get(_WRITTEN_KEY, [])
    for path in written[mark:]:
        path.unlink(missing_ok=True)
    del written[mark:]


def forget_written():
    """The transaction committed: its files are kept (and swept by their rows' dates)."""
    db.session.info.pop(_WRITTEN_KEY, None)


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="jala.files")


def create_link(stored_file, *, valid_for, max_downloads=None):
    """Create a signed link for a file; returns ``(FileLink, absolute URL)``."""
    link = FileLink(
        file_id=stored_file.id,
        nonce=secrets.token_hex(8),
        expires_at=clock.now() + valid_for,
        max_downloads=max_downloads,
    )
    db.session.add(link)
    db.session.flush()
    return link, external_url("core.download_file", token=link_token(link))


def link_token(link):
    """The signed token naming ``link`` (the same every time it is asked for)."""
    return _serializer().dumps([link.id, link.nonce])


def _view_signer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="jala.files.view")


def signed_view_url(stored_file, max_age_seconds=3600):
    """A short-lived signed URL that shows a file inline (preview images); no row, no count."""
    token = _view_signer().dumps([stored_file.id, min(int(max_age_seconds), 86400)])
    return url_for("core.view_file", token=token)


def open_view_token(token):
    """The StoredFile a view token names, or raise (bad, expired, or the file deleted)."""
    try:
        (file_id, max_age), signed_at = _view_signer().loads(token, max_age=86400,
                                                             return_timestamp=True)
        if (clock.now() - signed_at).total_seconds() > max_age:
            raise ValueError("expired")
    except (BadSignature, ValueError, TypeError) as exc:
        raise RuleViolation(_("This link is no longer valid."), status=410) from exc
    stored = db.session.get(StoredFile, file_id)
    if stored is None or stored.deleted_at is not None or (
            stored.delete_after is not None and stored.delete_after <= clock.now()):
        raise RuleViolation(_("This link is no longer valid."), status=410)
    return stored


def link_is_usable(link):
    """Whether the link still downloads (not expired, not used up, file not deleted)."""
    return (link.file.deleted_at is None and link.expires_at > clock.now()
            and (link.max_downloads is None or link.downloads < link.max_downloads))


def link_id_of(token):
    """The link id a well-signed token names (expired or not), else None."""
    try:
        link_id, _nonce = _serializer().loads(token)
        return int(link_id)
    except (BadSignature, ValueError, TypeError):
        return None


def check_link(token):
    """Look at a link without counting a download; returns the FileLink or raises."""
    return open_link(token, count=False)[0]


def open_link(token, count=True):
    """Check a link token and count one download; returns ``(FileLink, path on disk)``.

    ``count=False`` checks without counting (HEAD requests from link scanners).
    """
    try:
        link_id, nonce = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise RuleViolation(_("This download link is not valid."), status=404) from exc
    link = db.session.get(FileLink, link_id)
    if link is None or not secrets.compare_digest(link.nonce, str(nonce)):
        raise RuleViolation(_("This download link is not valid."), status=404)
    if link.file.deleted_at is not None or link.expires_at <= clock.now():
        raise RuleViolation(
            _("This download link has expired. Ask again from your requests page."), status=410)
    if not count:
        if link.max_downloads is not None and link.downloads >= link.max_downloads:
            raise RuleViolation(str(USED_UP), status=410)
        return link, storage_dir() / link.file.storage_name
    counted = db.session.execute(
        update(FileLink)
        .where(FileLink.id == link.id)
        .where((FileLink.max_downloads.is_(None)) | (FileLink.downloads < FileLink.max_downloads))
        .values(downloads=FileLink.downloads + 1)
    ).rowcount
    if not counted:
        raise RuleViolation(str(USED_UP), status=410)
    db.session.refresh(link)
    return link, storage_dir() / link.file.storage_name


@sweep_task
def delete_expired_files():
    """Delete files whose time is up (their rows stay, marked deleted)."""
    now = clock.now()
    rows = db.session.execute(
        select(StoredFile)
        .where(StoredFile.delete_after <= now, StoredFile.deleted_at.is_(None))
        .limit(500)
    ).scalars().all()
    for row in rows:
        (storage_dir() / row.storage_name).unlink(missing_ok=True)
        row.deleted_at = now
    return len(rows)

