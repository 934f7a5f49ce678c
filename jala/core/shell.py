"""The app shell: manifest, icons, service worker, offline page and the tab bar's tabs."""
import hashlib

from flask import current_app, jsonify, render_template, send_from_directory, url_for
from flask_babel import gettext as _

from jala.core import bp
from jala.extensions import csrf, limiter

# What the service worker keeps for when the network is gone: the offline page and its look.
OFFLINE_ASSETS = ("css/jala.css", "icons/icon.svg", "icons/icon-192.png")


@bp.get("/manifest.webmanifest")
@limiter.exempt
def manifest():
    """The web app manifest: name, colours and icons for 'add to home screen'."""
    icon = lambda name, size, purpose="any": {  # noqa: E731
        "src": url_for("static", filename=f"icons/{name}"), "sizes": size,
        "type": "image/svg+xml" if name.endswith(".svg") else "image/png", "purpose": purpose}
    body = {
        "name": _("Jiangxi Academic Library Alliance"),
        "short_name": _("JALA Portal"),
        "description": _("Search, read and request the books and articles of the alliance's "
                         "member libraries."),
        "lang": "zh-Hans", "dir": "ltr", "id": "/", "start_url": "/", "scope": "/",
        "display": "standalone", "background_color": "#f5f6f8", "theme_color": "#0b5d8f",
        "icons": [icon("icon-192.png", "192x192"), icon("icon-512.png", "512x512"),
                  icon("icon-maskable-512.png", "512x512", "maskable"),
                  icon("icon.svg", "any")],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/favicon.ico")
@limiter.exempt
def favicon():
    """The icon browsers ask for by this name."""
    response = send_from_directory(current_app.static_folder, "icons/favicon-32.png",
                                   mimetype="image/png", max_age=7 * 24 * 3600)
    return response


@bp.get("/offline")
def offline():
    """The page the service worker shows when a page cannot be fetched."""
    return render_template("core/offline.html")


@bp.get("/sw.js")
@limiter.exempt
@csrf.exempt
def service_worker():
    """The service worker: keeps the offline page and static files, never a reader's pages."""
    assets = [url_for("core.offline")] + [url_for("static", filename=f) for f in OFFLINE_ASSETS]
    cache_name = "jala-" + hashlib.sha256("\n".join(assets).encode()).hexdigest()[:12]
    response = current_app.response_class(
        render_template("core/sw.js", assets=assets, cache_name=cache_name,
                        offline_url=url_for("core.offline")),
        mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


# The tab bar's tabs and the pages under each (by endpoint, or by blueprint with a dot).
TABS = {
    "home": ("core.home",),
    "search": ("search.", "catalog.record", "reading.preview", "reading.cite"),
    "libraries": ("core.libraries", "core.library"),
    "ask": ("reference.faq_search", "reference.faq_entry", "reference.ask"),
    "me": ("mine.home", "accounts.account", "accounts.account_second_factor", "loans.my_loans",
           "loans.my_card", "loans.ill_detail", "delivery.my_requests", "delivery.request_detail",
           "delivery.new_request", "reference.my_questions", "reference.question",
           "reading.my_lists", "reading.list_detail", "procurement.my_suggestions",
           "procurement.suggest"),
}


def tab_for(endpoint):
    """The tab a page belongs to ('' for pages under none, such as staff desks)."""
    endpoint = endpoint or ""
    for tab, prefixes in TABS.items():
        if any(endpoint == p or (p.endswith(".") and endpoint.startswith(p)) for p in prefixes):
            return tab
    return ""


@bp.app_context_processor
def shell_helpers():
    return {"tab_for": tab_for}
