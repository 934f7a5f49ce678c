"""Django settings of the CAS 3.0 test server (django-cas-server) run by ``cas_server.py``.

The database is sqlite in memory: the server is one process serving on one thread, migrated at
start. Who may sign in, with what attributes, is read from the JSON file the tests write.
"""
import os

SECRET_KEY = "jala-test-cas-server"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
LANGUAGE_CODE = "en-us"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "cas_server",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STATIC_URL = "/static/"
ROOT_URLCONF = "tests.support.cas_django_urls"

CAS_AUTH_CLASS = "tests.support.cas_server.ListedUser"
CAS_TEST_USERS_FILE = os.environ["CAS_TEST_USERS_FILE"]
CAS_TICKET_VALIDITY = int(os.environ.get("CAS_TEST_TICKET_VALIDITY", "60"))
CAS_NEW_VERSION_HTML_WARNING = False
CAS_NEW_VERSION_EMAIL_WARNING = False
CAS_SHOW_POWERED = False
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "root": {"handlers": [], "level": "WARNING"}}
