"""A multi-host ``DATABASE_URL`` reaches psycopg, pg_dump and the engine intact; pooled
connections are checked before use (so one that died with a failed-over primary is replaced)."""
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from config import database_engine_options, load_config, normalise_database_url
from jala.backup import libpq_target

MULTI = ("postgresql+psycopg://jala:s3cret@/jala?host=db1.example.edu.cn:6432"
         "&host=db2.example.edu.cn:6432&target_session_attrs=read-write")


def connect_args(url):
    engine = create_engine(url)
    try:
        return engine.dialect.create_connect_args(make_url(url))[1]
    finally:
        engine.dispose()


def test_sqlalchemy_multi_host_url_is_kept_as_it_is():
    assert normalise_database_url(MULTI) == MULTI


def test_libpq_multi_host_url_becomes_sqlalchemy_spelling():
    libpq = ("postgresql://jala:s3cret@db1.example.edu.cn:6432,db2.example.edu.cn:6432/jala"
             "?target_session_attrs=read-write")
    assert normalise_database_url(libpq) == MULTI
    assert normalise_database_url("postgres://jala@db1,db2/jala") == (
        "postgresql+psycopg://jala@/jala?host=db1&host=db2")


def test_single_host_urls_are_unchanged():
    assert normalise_database_url("postgresql://jala@db/jala") == "postgresql+psycopg://jala@db/jala"
    assert normalise_database_url("postgresql+psycopg://u:p@h:5/d?sslmode=require") == (
        "postgresql+psycopg://u:p@h:5/d?sslmode=require")
    assert normalise_database_url(None) is None


def test_psycopg_is_given_every_host_and_the_read_write_target():
    args = connect_args(MULTI)
    assert args["host"] == "db1.example.edu.cn,db2.example.edu.cn"
    assert args["port"] == "6432,6432"
    assert args["target_session_attrs"] == "read-write"
    assert (args["user"], args["password"], args["dbname"]) == ("jala", "s3cret", "jala")


def test_pg_dump_is_given_libpq_multi_host_form():
    conninfo, env = libpq_target(MULTI)
    parsed = conninfo_to_dict(conninfo)
    assert parsed["host"] == "db1.example.edu.cn,db2.example.edu.cn"
    assert parsed["port"] == "6432,6432"
    assert parsed["target_session_attrs"] == "read-write"
    assert env["PGPASSWORD"] == "s3cret"


def test_engine_pings_pooled_connections_and_gives_up_on_a_dead_host():
    options = load_config({"DATABASE_URL": MULTI})["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True
    assert 0 < options["pool_recycle"] <= 3600
    assert options["connect_args"]["connect_timeout"] == 5
    assert options["connect_args"]["keepalives"] == 1
    tuned = database_engine_options({"DATABASE_CONNECT_TIMEOUT": "2",
                                     "DATABASE_POOL_RECYCLE_SECONDS": "600"})
    assert tuned["connect_args"]["connect_timeout"] == 2
    assert tuned["pool_recycle"] == 600


def test_app_engine_uses_the_options(app):
    from jala.extensions import db

    with app.app_context():
        assert db.engine.pool._pre_ping is True
        assert db.engine.pool._recycle == 1800
