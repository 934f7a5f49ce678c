"""Each protocol's views live in a module of its own; importing them attaches them to ``bp``."""
from jala.protocols import (  # noqa: F401
    bp,
    harvest_views,
    oai_views,
    openurl_views,
    sip2_views,
    sru_views,
    web_views,
)
