"""Building URLs outside the request that serves them: absolute links, safe redirect targets."""
from urllib.parse import urlsplit

from flask import current_app, url_for


def external_url(endpoint, **values):
    """An absolute URL on ``PUBLIC_URL`` (for emails and jobs, with or without a request)."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def safe_next(target, default_endpoint="core.home"):
    """``target`` if it is a path on this site, else the default page (no open redirects)."""
    if (isinstance(target, str) and target.startswith("/") and not target.startswith("//")
            and not any(ord(ch) < 32 or ch in "\\\x7f" for ch in target)):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for(default_endpoint)
