"""URLs of the CAS test server: django-cas-server's own at the root (/login, /p3/…)."""
from django.urls import include, path

urlpatterns = [path("", include("cas_server.urls", namespace="cas_server"))]
