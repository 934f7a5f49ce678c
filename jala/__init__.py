"""The JALA Portal: ``create_app()`` binds extensions and blueprints, nothing else."""
from pathlib import Path

from flask import Flask

from config import PROJECT_ROOT, load_config


def create_app(config=None):
    """Build the Flask app from the environment, with ``config`` overriding it (tests)."""
    settings = load_config()
    settings.update(config or {})
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from jala import embedded

    embedded.fill_service_urls(app)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True,
                                               "connect_args": {"connect_timeout": 5}}
    app.config["RATELIMIT_STORAGE_URI"] = embedded.limiter_storage_uri(app.config["REDIS_URL"])
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_connect_timeout": 0.5,
                                               "socket_timeout": 0.5}

    from jala.extensions import babel, csrf, db, limiter, login_manager, select_locale

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Asia/Shanghai",
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    login_manager.init_app(app)

    from jala import web

    web.init_app(app)

    from jala.accounts import bp as accounts_bp
    from jala.admin import bp as admin_bp
    from jala.catalog import bp as catalog_bp
    from jala.core import bp as core_bp
    from jala.delivery import bp as delivery_bp
    from jala.governance import bp as governance_bp
    from jala.loans import bp as loans_bp
    from jala.reading import bp as reading_bp
    from jala.reference import bp as reference_bp
    from jala.search import bp as search_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(delivery_bp)
    app.register_blueprint(governance_bp)
    app.register_blueprint(reading_bp)
    app.register_blueprint(loans_bp)
    app.register_blueprint(reference_bp)
    return app
