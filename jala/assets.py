"""Static files served like an app's: compressed, versioned by content, cached for a year.

``url_for('static', filename=…)`` adds ``v=<hash of the file>``: a changed file gets a new URL,
so the old one can be cached forever (no build step). Pages and fragments are compressed
(brotli, zstd or gzip, as the browser accepts) by Flask-Compress.
"""
import hashlib
from pathlib import Path

from flask import request
from flask_compress import Compress

YEAR_SECONDS = 365 * 24 * 3600
compress = Compress()
_versions = {}  # filename -> (mtime_ns, size, version)


def content_version(static_folder, filename):
    """A short hash of the static file's bytes ('' if there is no such file)."""
    path = Path(static_folder) / filename
    try:
        stat = path.stat()
    except OSError:
        return ""
    known = _versions.get(filename)
    if known and known[:2] == (stat.st_mtime_ns, stat.st_size):
        return known[2]
    version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    _versions[filename] = (stat.st_mtime_ns, stat.st_size, version)
    return version


def init_app(app):
    """Compress responses; version static URLs; cache versioned files for a year."""
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    compress.init_app(app)

    @app.url_defaults
    def version_static_urls(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = content_version(app.static_folder, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_static_files(response):
        if request.endpoint != "static" or response.status_code != 200:
            return response
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") and request.args["v"] == content_version(app.static_folder,
                                                                        filename):
            response.headers["Cache-Control"] = f"public, max-age={YEAR_SECONDS}, immutable"
        else:
            response.headers["Cache-Control"] = "no-cache"
        return response
