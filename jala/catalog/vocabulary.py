"""The words readers see for the catalogue's coded values: record types, languages, copy statuses.

Templates ask through one filter, ``value|value_name(kind)`` (registered in
``jala.catalog.routes``); a value nobody has named yet is shown as it is.
"""
from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

RECORD_TYPE_NAMES = {
    "book": _l("Book"), "article": _l("Journal article"), "journal": _l("Journal"),
    "thesis": _l("Thesis"), "ebook": _l("E-book"), "conference": _l("Conference paper"),
    "report": _l("Report"), "newspaper": _l("Newspaper"), "standard": _l("Standard"),
    "patent": _l("Patent"), "map": _l("Map"), "score": _l("Score"), "audio": _l("Audio"),
    "video": _l("Video"), "other": _l("Other"),
}

HOLDING_STATUS_NAMES = {
    "available": _l("available"), "on_loan": _l("on loan"), "in_transit": _l("in transit"),
    "unknown": _l("status unknown"),
}

# MARC and ISO 639-2 codes (bibliographic and terminology) of the languages a Chinese academic
# library catalogues most, by their ISO 639-1 code, whose name Babel knows in every UI language
ISO_639_1 = {
    "chi": "zh", "zho": "zh", "eng": "en", "jpn": "ja", "kor": "ko", "rus": "ru", "fre": "fr",
    "fra": "fr", "ger": "de", "deu": "de", "spa": "es", "ita": "it", "por": "pt", "ara": "ar",
    "lat": "la", "mon": "mn", "tib": "bo", "bod": "bo", "uig": "ug", "vie": "vi", "tha": "th",
    "dut": "nl", "nld": "nl", "gre": "el", "ell": "el", "kaz": "kk", "mul": "mul",
}


def language_key(code):
    """The ISO 639-1 code (or the code itself) of a record's language: chi, zho, zh → zh."""
    key = (code or "").strip().lower().replace("_", "-").split("-")[0]
    return ISO_639_1.get(key, key)


def language_codes(code):
    """Every code the catalogue may hold for the language of ``code`` (for filtering)."""
    key = language_key(code)
    return sorted({code, key, *(c for c, k in ISO_639_1.items() if k == key)})


def language_name(code):
    """The name of a record's language (``chi``, ``zh``, ``zh-CN``, ``eng``) in the UI language."""
    key = language_key(code)
    locale = get_locale() or Locale.parse("zh_Hans")
    return locale.languages.get(key) or code


NAMES = {"type": RECORD_TYPE_NAMES.get, "status": HOLDING_STATUS_NAMES.get,
         "language": language_name}


def value_name(value, kind):
    """What readers see for ``value`` of ``kind`` (type, language or status)."""
    if value is None or value == "":
        return value
    name = NAMES[kind](value)
    return str(name) if name is not None else value
