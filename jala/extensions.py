"""Extensions, created unbound and bound to the app in ``create_app``."""
from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, MetaData, event
from sqlalchemy.orm import Session

from jala.replicas import RoutingSession

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# RoutingSession: reads inside ``@reads_from_replica`` views may go to a replica (jala/replicas.py)
db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION),
                session_options={"class_": RoutingSession})


@event.listens_for(Engine, "connect")
def _without_jit(dbapi_connection, _connection_record):
    # PostgreSQL compiles a plan to machine code once its estimated cost passes
    # jit_above_cost: a search over a sharded catalogue is estimated that high for every
    # statement (each foreign bucket looks expensive) and paid 150-500 ms of compiling for
    # statements that then ran in 5 ms. None of our statements runs long enough to gain.
    # A SET on the connection, not a startup option: PgBouncer refuses those.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute("SET jit = off")
    finally:
        dbapi_connection.autocommit = autocommit


@event.listens_for(Session, "do_orm_execute")
def _locked_rows_are_read_fresh(state):
    # A row locked with SELECT … FOR UPDATE must be checked as it is now: without this, an
    # object the request loaded earlier keeps its old values and the rule runs on stale data.
    if state.is_select and getattr(state.statement, "_for_update_arg", None) is not None:
        state.update_execution_options(populate_existing=True)
login_manager = LoginManager()
csrf = CSRFProtect()
def _default_limit():
    from flask import current_app

    return current_app.config["JALA_RATELIMIT_DEFAULT"]


# RATELIMIT_DEFAULT is one budget per client address shared by every page (an application
# limit), not one per page: spreading requests over many pages must not multiply it
limiter = Limiter(key_func=get_remote_address, strategy="moving-window",
                  application_limits=[_default_limit])
babel = Babel()

SUPPORTED_LOCALES = ("zh_Hans", "en")


def select_locale():
    """Pick the UI language: the user's choice in the session, else Simplified Chinese."""
    from flask import has_request_context, session

    if not has_request_context():
        return "zh_Hans"
    chosen = session.get("lang") or request.args.get("lang")
    return chosen if chosen in SUPPORTED_LOCALES else "zh_Hans"
