"""Settings from the environment, with development defaults.

``JALA_ENV=production`` is the only switch into production mode. Without it the portal runs
in development mode and falls back to the embedded services for anything not configured.
"""
import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"
INSECURE_KEYS = {"", "dev", "change-me", "changeme", "secret"}


class ConfigError(RuntimeError):
    """The environment does not describe a runnable portal."""


def _flag(value, default=False):
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env, name, default):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _seconds(env, name, default):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from exc
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


def normalise_database_url(url):
    """Point plain ``postgresql://`` URLs at the psycopg 3 driver.

    libpq's multi-host form ``postgresql://u@h1:5432,h2:5432/db?target_session_attrs=read-write``
    becomes SQLAlchemy's spelling of it, ``…://u@/db?host=h1:5432&host=h2:5432&…``.
    """
    if url and url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return _multi_host_as_query(url) if url else url


def _multi_host_as_query(url):
    scheme, sep, rest = url.partition("://")
    authority, _, tail = rest.partition("/")
    userinfo, at, hosts = authority.rpartition("@")
    if not sep or "," not in hosts:
        return url
    path, _, query = tail.partition("?")
    host_params = "&".join(f"host={host}" for host in hosts.split(","))
    query = f"{host_params}&{query}" if query else host_params
    return f"{scheme}://{userinfo}{at}/{path}?{query}"


def database_engine_options(env):
    """SQLAlchemy engine options that carry the portal through a failover of its primary.

    A pooled connection to a primary that died is found by the ping on checkout and replaced;
    a new connection tries the hosts of a multi-host ``DATABASE_URL`` in turn (each for
    ``DATABASE_CONNECT_TIMEOUT`` seconds at most); TCP keepalives end a connection to a machine
    that vanished without a word, instead of leaving a request hanging on it.
    """
    return {
        "pool_pre_ping": True,
        "pool_recycle": _int(env, "DATABASE_POOL_RECYCLE_SECONDS", 1800),
        "connect_args": {
            "connect_timeout": _int(env, "DATABASE_CONNECT_TIMEOUT", 5),
            # probes go out after 10 s of silence: a peer's kernel answers them however busy
            # PostgreSQL is, so only a vanished machine is given up on (after about 25 s)
            "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
            "keepalives_count": 3,
        },
    }


def _development_secret_key(instance_path):
    """Return a random key kept in instance/ so sessions survive restarts."""
    key_file = Path(instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_config(env=None):
    """Build the Flask config mapping from an environment mapping."""
    env = os.environ if env is None else env
    production = env.get("JALA_ENV", "development").strip().lower() == "production"
    instance_path = Path(env.get("JALA_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH)

    secret_key = env.get("SECRET_KEY", "")
    if production:
        if secret_key in INSECURE_KEYS or len(secret_key) < 32:
            raise ConfigError(
                "JALA_ENV=production needs SECRET_KEY set to a random value of 32+ characters"
            )
        if not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
            raise ConfigError("JALA_ENV=production needs DATABASE_URL and REDIS_URL")
        if not env.get("PUBLIC_URL", "").startswith("https://"):
            raise ConfigError("JALA_ENV=production needs PUBLIC_URL=https://… for emailed links")
    elif not secret_key:
        secret_key = _development_secret_key(instance_path)
    log_format = env.get("LOG_FORMAT", "json" if production else "text").strip().lower()
    if log_format not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT must be json or text, got {log_format!r}")

    return {
        "JALA_PRODUCTION": production,
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": secret_key,
        "DATABASE_URL": normalise_database_url(env.get("DATABASE_URL")),
        "SQLALCHEMY_ENGINE_OPTIONS": database_engine_options(env),
        # read-only streaming replicas the searches, record pages and JSON API read from
        "DATABASE_REPLICA_URLS": [normalise_database_url(url.strip()) for url in
                                  env.get("DATABASE_REPLICA_URLS", "").split(",") if url.strip()],
        # a replica further behind the primary than this is skipped until it catches up
        "REPLICA_MAX_LAG_SECONDS": _seconds(env, "REPLICA_MAX_LAG_SECONDS", 10.0),
        # how often each process asks every replica whether it is up and how far behind
        "REPLICA_CHECK_SECONDS": _seconds(env, "REPLICA_CHECK_SECONDS", 2.0),
        "REDIS_URL": env.get("REDIS_URL"),
        "MAIL_SERVER": env.get("MAIL_SERVER"),
        "MAIL_PORT": _int(env, "MAIL_PORT", 25),
        "MAIL_USERNAME": env.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD"),
        "MAIL_USE_TLS": _flag(env.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _flag(env.get("MAIL_USE_SSL")),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "JALA Portal <noreply@jala.local>"),
        "MAIL_TIMEOUT": _int(env, "MAIL_TIMEOUT", 10),
        "RATELIMIT_ENABLED": _flag(env.get("RATELIMIT_ENABLED"), default=True),
        # read on every request (not by Flask-Limiter at start), so admins and tests can change it
        "JALA_RATELIMIT_DEFAULT": env.get("RATELIMIT_DEFAULT", "600 per minute"),
        # searches cost the most: a tighter budget of their own, per client address
        "RATELIMIT_SEARCH": env.get("RATELIMIT_SEARCH", "120 per minute"),
        # per account (email, or the account of a pending second factor) …
        "RATELIMIT_LOGIN": env.get("RATELIMIT_LOGIN", "10 per minute;50 per hour"),
        # … and per client IP, looser: a campus or a mobile carrier puts many readers on one
        "RATELIMIT_LOGIN_IP": env.get("RATELIMIT_LOGIN_IP", "60 per minute;1000 per hour"),
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int(env, "SESSION_LIFETIME_HOURS", 12)),
        "SESSION_COOKIE_NAME": "jala_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        # Links in emails are built on this, never on the request's Host header.
        "PUBLIC_URL": env.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "FORCE_HTTPS": production,
        "PROXY_FIX_HOPS": _int(env, "PROXY_FIX_HOPS", 1 if production else 0),
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": production,
        "MAX_CONTENT_LENGTH": _int(env, "MAX_UPLOAD_MB", 50) * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 512 * 1024,
        "PASSWORD_HASH_FAST": _flag(env.get("JALA_FAST_PASSWORD_HASH")) and not production,
        "BABEL_DEFAULT_LOCALE": "zh_Hans",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "SWEEP_INTERVAL_SECONDS": _int(env, "SWEEP_INTERVAL_SECONDS", 30),
        "RQ_QUEUE": env.get("RQ_QUEUE", "jala"),
        # every key the portal writes to Redis (rate limits, the sweeper's lock) starts with it,
        # so that two portals, or the tests beside a portal, can share one Redis
        "REDIS_KEY_PREFIX": env.get("REDIS_KEY_PREFIX", "jala"),
        "LOG_FORMAT": log_format,
        # /metrics answers a request bearing this token (and, in development, loopback)
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        # campus sign-on: the longest wait for a library's provider, server to server
        "SIGNON_TIMEOUT_SECONDS": _int(env, "SIGNON_TIMEOUT_SECONDS", 10),
        # the SAML service provider's signing/decryption key pair (made in instance/ if unset)
        "SAML_SP_KEY_FILE": env.get("SAML_SP_KEY_FILE") or None,
        "SAML_SP_CERT_FILE": env.get("SAML_SP_CERT_FILE") or None,
        # live availability may ask a SIP2 server on a private network (a campus reached over a
        # VPN); loopback, link-local and cloud metadata addresses are refused in production
        "SIP2_ALLOW_PRIVATE_NETWORKS": _flag(env.get("SIP2_ALLOW_PRIVATE_NETWORKS"), default=True),
    }
