"""Logging: JSON lines or text, and the request id that ties a request to the jobs it enqueues.

Each request gets an id (the client's ``X-Request-ID`` when it is sane, else a new one),
returned in the response's ``X-Request-ID`` header, put on every log line written while the
request runs, and carried in the meta of every RQ job the request enqueues, so the worker's
lines about that job carry it too. ``LOG_FORMAT=json`` writes one JSON object per line (time,
level, logger, message, request_id, and for the request line method, path, status and
duration_ms); ``text`` writes plain lines with the id in brackets.
"""
import json
import logging
import re
import secrets
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

_request_id = ContextVar("jala_request_id", default=None)
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@-]{1,100}")
# what a log call may add with ``extra=`` and the JSON line then carries
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "job_id", "job")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def current_request_id():
    """The id of the request (or job) being handled, or None."""
    return _request_id.get()


def set_request_id(value):
    """Make ``value`` the current request id; returns the token for ``reset_request_id``."""
    return _request_id.set(value)


def reset_request_id(token):
    """Put back the request id that was current before ``set_request_id``."""
    _request_id.reset(token)


def request_id_from(header):
    """The client's ``X-Request-ID`` if it is short and plain, else a new random id."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return secrets.token_hex(16)


class RequestIdFilter(logging.Filter):
    """Put the current request id on every record (``-`` when there is none)."""

    def filter(self, record):
        """Add ``record.request_id``; never drops a record."""
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record):
        """The record as a line of JSON."""
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None if getattr(record, "request_id", "-") == "-"
            else record.request_id,
        }
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def make_handler(log_format, stream=None):
    """A stream handler writing ``json`` or ``text`` lines, with the request id filled in."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    handler.jala_log_handler = True
    return handler


def configure_logging(log_format, level=logging.INFO):
    """Send the root logger's lines through one handler of ours (replacing an earlier one)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "jala_log_handler", False)]:
        root.removeHandler(old)
    root.addHandler(make_handler(log_format))
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
