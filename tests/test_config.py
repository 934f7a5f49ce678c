import pytest
from sqlalchemy import text

from config import ConfigError, load_config, normalise_database_url
from jala.extensions import db

GOOD_KEY = "k" * 40


def test_production_is_only_switched_on_by_jala_env(tmp_path):
    env = {"DATABASE_URL": "postgresql://db/jala", "REDIS_URL": "redis://r/0",
           "JALA_INSTANCE_PATH": str(tmp_path)}
    config = load_config(env)
    assert config["JALA_PRODUCTION"] is False and config["SESSION_COOKIE_SECURE"] is False


def test_production_refuses_to_start_without_a_real_secret_key(tmp_path):
    env = {"JALA_ENV": "production", "DATABASE_URL": "postgresql://db/jala",
           "REDIS_URL": "redis://r/0", "PUBLIC_URL": "https://portal.example.edu.cn"}
    for key in ("", "dev", "short"):
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            load_config(dict(env, SECRET_KEY=key))
    config = load_config(dict(env, SECRET_KEY=GOOD_KEY))
    assert config["SESSION_COOKIE_SECURE"] and config["FORCE_HTTPS"]
    assert config["SESSION_COOKIE_HTTPONLY"] and config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_production_needs_real_services():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_config({"JALA_ENV": "production", "SECRET_KEY": GOOD_KEY})


def test_rate_limits_can_be_switched_off(tmp_path):
    env = {"RATELIMIT_ENABLED": "false", "JALA_INSTANCE_PATH": str(tmp_path)}
    assert load_config(env)["RATELIMIT_ENABLED"] is False
    assert load_config({"JALA_INSTANCE_PATH": str(tmp_path)})["RATELIMIT_ENABLED"] is True


def test_development_key_is_kept_between_runs(tmp_path):
    first = load_config({"JALA_INSTANCE_PATH": str(tmp_path)})["SECRET_KEY"]
    assert len(first) >= 32
    assert load_config({"JALA_INSTANCE_PATH": str(tmp_path)})["SECRET_KEY"] == first


def test_database_urls_use_psycopg3():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"


def test_bad_integer_setting_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="MAIL_PORT"):
        load_config({"MAIL_PORT": "twenty-five", "JALA_INSTANCE_PATH": str(tmp_path)})


def test_production_needs_an_https_public_url():
    env = {"JALA_ENV": "production", "DATABASE_URL": "postgresql://db/jala",
           "REDIS_URL": "redis://r/0", "SECRET_KEY": GOOD_KEY}
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_config(env)
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_config(dict(env, PUBLIC_URL="http://portal.example.edu.cn"))


def test_every_connection_of_the_app_runs_without_jit(app):
    """JIT compiling cost sharded searches 150-500 ms a statement (jala/extensions.py)."""
    with app.app_context():
        db.engine.dispose()  # a new connection, and a second one beside it
        with db.engine.connect() as first, db.engine.connect() as second:
            assert {c.execute(text("SHOW jit")).scalar() for c in (first, second)} == {"off"}
            first.rollback()  # what a failed request does: the setting stays
            assert first.execute(text("SHOW jit")).scalar() == "off"
