"""Where a counted full-text link goes: worked out from the record, never from the request."""
from urllib.parse import urlsplit


def full_text_target(record, via, links, doi):
    """The URL for ``via``: 'online' (the record's URL), 'doi', or a library code (its resolver).

    ``links`` are ``resolver_links(user, record)``; None when there is nothing to go to.
    """
    if via == "online":
        url = (record.url or "").strip()
        return url if urlsplit(url).scheme in ("http", "https") else None
    if via == "doi":
        return f"https://doi.org/{doi}" if doi else None
    for library, _label, url in links:
        if library.code == via.upper():
            return url
    return None
