"""Alembic environment: runs on a given connection (tests) or the app's engine."""
from alembic import context

from jala.extensions import db


def _import_models():
    import jala.accounts.models  # noqa: F401
    import jala.audit  # noqa: F401
    import jala.catalog.models  # noqa: F401
    import jala.cataloguing.models  # noqa: F401
    import jala.collections.models  # noqa: F401
    import jala.community.contest.models  # noqa: F401
    import jala.community.events.models  # noqa: F401
    import jala.community.news.models  # noqa: F401
    import jala.community.recognition.models  # noqa: F401
    import jala.delivery.models  # noqa: F401
    import jala.files  # noqa: F401
    import jala.governance.models  # noqa: F401
    import jala.jobs  # noqa: F401
    import jala.loans.models  # noqa: F401
    import jala.procurement.joint_models  # noqa: F401
    import jala.procurement.models  # noqa: F401
    import jala.protocols.models  # noqa: F401
    import jala.protocols.oai_models  # noqa: F401
    import jala.reading.models  # noqa: F401
    import jala.reference.models  # noqa: F401
    import jala.search.models  # noqa: F401
    import jala.settings  # noqa: F401
    import jala.shards.models  # noqa: F401
    import jala.signon.models  # noqa: F401
    import jala.usage.models  # noqa: F401
    import jala.usage.sushi  # noqa: F401


def run_migrations(connection):
    _import_models()
    context.configure(connection=connection, target_metadata=db.metadata,
                      compare_type=True, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    from flask import has_app_context

    if has_app_context():
        engine = db.engine
    else:
        from jala import create_app

        app = create_app()
        app.app_context().push()
        engine = db.engine
    with engine.connect() as conn:
        run_migrations(conn)
        conn.commit()
