"""Embedded PostgreSQL, Redis and SMTP sink for development, when nothing is configured.

Production (``JALA_ENV=production``) never gets here: it requires the URLs. In development a
missing ``DATABASE_URL`` or ``REDIS_URL`` means: start (or join) the embedded server whose
data lives in ``instance/``. ``jala run`` starts all three and hands the URLs to its web and
worker processes through the environment.
"""
from urllib.parse import parse_qs, quote, urlparse

DATABASE_NAME = "jala"


def fill_service_urls(app):
    """Fill in missing service URLs with the embedded servers (development only)."""
    if app.config["JALA_PRODUCTION"]:
        return
    if not app.config.get("DATABASE_URL"):
        from jala.embedded.postgres import ensure_postgres

        app.config["DATABASE_URL"] = ensure_postgres(app.instance_path)
    if not app.config.get("REDIS_URL"):
        from jala.embedded.redis_server import ensure_redis

        app.config["REDIS_URL"] = ensure_redis(app.instance_path)


def limiter_storage_uri(redis_url):
    """Flask-Limiter's spelling of a Redis URL (it names unix sockets differently)."""
    if redis_url.startswith("unix://"):
        parsed = urlparse(redis_url)
        db = parse_qs(parsed.query).get("db", ["0"])[0]
        return f"redis+unix://{quote(parsed.path)}?db={db}"
    return redis_url
