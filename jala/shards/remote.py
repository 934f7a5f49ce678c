"""Talking to a shard: its address without the password, a direct connection, the checks.

The coordinator reaches a shard through postgres_fdw (a foreign server and a user mapping);
the `jala shards` commands also connect to it directly, to make bucket tables and to COPY rows
in and out. The password, when one is needed, is kept only in the user mapping (or in the
operator's ~/.pgpass) and read from there; it is never stored in `shards` nor printed.
"""
import re
from urllib.parse import urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy import text

from jala.errors import RuleViolation
from jala.extensions import db
from jala.search.trigram import SHARD_SETTINGS

CONNECT_TIMEOUT = 5
# what libpq keywords become options of the foreign server; the rest are the user mapping's
SERVER_KEYWORDS = ("host", "hostaddr", "port", "dbname", "sslmode", "sslrootcert",
                   "target_session_attrs", "application_name")
SERVER_OPTIONS = {"async_capable": "true", "fetch_size": "1000", "extensions": "pg_trgm",
                  "connect_timeout": str(CONNECT_TIMEOUT),
                  # postgres_fdw reads through a cursor, which a shard plans for its first
                  # tenth of rows: a (year, id) walk checking every row's tsvector, 10× slower
                  # than reading the matches and sorting them, which the merge needs anyway
                  # (and no JIT compiling: jala/extensions.py says why)
                  "options": f"-c cursor_tuple_fraction=1 -c jit=off {SHARD_SETTINGS}"}
# the same text for a row on every server: COPY and the checksum compare rows as text
SAME_TEXT = {"TimeZone": "UTC", "DateStyle": "ISO, YMD", "IntervalStyle": "postgres",
             "extra_float_digits": "3", "bytea_output": "hex"}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,29}$")


def split_url(url):
    """``(conninfo without the password, password or None)`` of a postgresql:// URL."""
    url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        secret = urlsplit(url).password  # libpq quotes the part it cannot read, maybe this
        detail = str(exc).replace(secret, "…") if secret else str(exc)
        raise RuleViolation(f"not a PostgreSQL address: {detail}") from None
    password = params.pop("password", None)
    if not params.get("dbname"):
        raise RuleViolation("the shard's address must name its database")
    return make_conninfo(**params), password


def check_name(name):
    if not _NAME.match(name or ""):
        raise RuleViolation("a shard's name is lower-case letters, digits and _, "
                            "beginning with a letter (at most 30)")
    return name


def server_options(conninfo):
    """The foreign server's OPTIONS: where the shard is, asynchronous scans, pg_trgm pushed."""
    params = conninfo_to_dict(conninfo)
    options = {key: params[key] for key in SERVER_KEYWORDS if key in params}
    return {**options, **SERVER_OPTIONS}


def mapping_options(conninfo, password):
    user = conninfo_to_dict(conninfo).get("user")
    return {key: value for key, value in (("user", user), ("password", password)) if value}


def options_sql(options):
    """``OPTIONS (key 'value', …)`` with the values quoted as literals."""
    quoted = ", ".join(f"{key} {_literal(value)}" for key, value in options.items())
    return f"OPTIONS ({quoted})"


def _literal(value):
    return "'" + str(value).replace("'", "''") + "'"


def mapped_password(server_name, connection=None):
    """The password the user mapping of ``server_name`` holds for us, or None."""
    run = (connection or db.session).execute
    options = run(text(
        "SELECT umoptions FROM pg_user_mappings WHERE srvname = :server "
        "AND usename IN (current_user, 'public') ORDER BY usename = 'public' LIMIT 1"),
        {"server": server_name}).scalar() or []
    found = dict(option.split("=", 1) for option in options)
    return found.get("password")


def connect(conninfo, password=None, autocommit=False):
    """A psycopg connection to a shard, with the settings that make rows read alike."""
    try:
        conn = psycopg.connect(conninfo, password=password, connect_timeout=CONNECT_TIMEOUT,
                               autocommit=autocommit)
    except psycopg.OperationalError as exc:
        raise RuleViolation(f"cannot reach the shard ({_first_line(exc)})") from None
    for name, value in SAME_TEXT.items():
        conn.execute("SELECT set_config(%s, %s, false)", (name, value))
    if not autocommit:
        conn.commit()
    return conn


def _first_line(exc):
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def identity(conn):
    """``(system identifier, database)``: equal for two connections to the same database."""
    return tuple(conn.execute("SELECT system_identifier, current_database() "
                              "FROM pg_control_system()").fetchone())


def describe(conn):
    """What must match between the coordinator and a shard: version, encoding, collation."""
    row = conn.execute(
        "SELECT current_setting('server_version_num')::int / 10000, "
        "pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
        "WHERE datname = current_database()").fetchone()
    return {"major version": row[0], "encoding": row[1], "collation": row[2], "ctype": row[3]}


def check_matches(coordinator, shard):
    """Refuse a shard whose server version, encoding or collation differ from ours.

    Pushed-down comparisons and text order must give the same answer on every server, and
    binary COPY moves rows between servers of one major version only.
    """
    ours, theirs = describe(coordinator), describe(shard)
    differ = [f"{key}: ours {ours[key]}, the shard's {theirs[key]}"
              for key in ours if ours[key] != theirs[key]]
    if differ:
        raise RuleViolation("the shard does not match the primary (" + "; ".join(differ) + ")")
