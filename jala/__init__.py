"""The JALA Portal: ``create_app()`` binds extensions and blueprints, nothing else."""
from importlib import import_module
from pathlib import Path

from flask import Flask

from config import PROJECT_ROOT, load_config

# Each domain's blueprint lives in its package's __init__; these modules attach its views.
VIEW_MODULES = (
    "jala.core.routes",
    "jala.core.shell",
    "jala.accounts.routes",
    "jala.admin.routes",
    "jala.search.routes",
    "jala.catalog.routes",
    "jala.delivery.routes",
    "jala.governance.routes",
    "jala.governance.center_routes",
    "jala.reading.routes",
    "jala.loans.routes",
    "jala.reference.routes",
    "jala.procurement.routes",
    "jala.mine.routes",
    "jala.signon.routes",
    "jala.protocols.routes",
    "jala.community.routes",
    "jala.usage.routes",
    "jala.usage.sushi_routes",
    "jala.procurement.joint_routes",
    "jala.cataloguing.routes",
    "jala.collections.routes",
    "jala.community.news.routes",
    "jala.community.events.routes",
    "jala.community.contest.routes",
    "jala.community.recognition.routes",
)


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
    app.config["RATELIMIT_STORAGE_URI"] = embedded.limiter_storage_uri(app.config["REDIS_URL"])
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {
        "socket_connect_timeout": 0.5, "socket_timeout": 0.5,
        "key_prefix": app.config["REDIS_KEY_PREFIX"] + ":limits"}

    from jala.extensions import babel, csrf, db, limiter, login_manager, select_locale

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Asia/Shanghai",
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    login_manager.init_app(app)

    from jala import assets, web

    web.init_app(app)
    assets.init_app(app)

    blueprints = []
    for name in VIEW_MODULES:
        blueprint = import_module(name).bp
        if blueprint not in blueprints:
            blueprints.append(blueprint)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    return app
