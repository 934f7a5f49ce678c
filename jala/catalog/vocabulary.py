"""The words readers see for the catalogue's coded values: record types, languages, copy statuses.

Templates ask through one filter, ``value|value_name(kind)`` (registered in
``jala.catalog.routes``); a value nobody has named yet is shown as it is.
"""
import functools
import re

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

RECORD_TYPE_NAMES = {
    "book": _l("Book"), "article": _l("Journal article"), "journal": _l("Journal"),
    "thesis": _l("Thesis"), "ebook": _l("E-book"), "conference": _l("Conference paper"),
    "report": _l("Report"), "newspaper": _l("Newspaper"), "standard": _l("Standard"),
    "patent": _l("Patent"), "map": _l("Map"), "score": _l("Score"), "image": _l("Image"),
    "audio": _l("Audio"),
    "video": _l("Video"), "compilation": _l("Compilation"), "database": _l("Database"),
    "software": _l("Software"), "other": _l("Other"),
}

HOLDING_STATUS_NAMES = {
    "available": _l("available"), "on_loan": _l("on loan"), "in_transit": _l("in transit"),
    "unknown": _l("status unknown"),
}

# ISO 639-2/B codes (MARC's language codes) of the languages a Chinese academic library
# catalogues most, with their ISO 639-1 code, whose name Babel knows in every UI language
LANGUAGES = {
    "chi": "zh", "eng": "en", "jpn": "ja", "kor": "ko", "rus": "ru", "fre": "fr", "ger": "de",
    "spa": "es", "ita": "it", "por": "pt", "ara": "ar", "lat": "la", "mon": "mn", "tib": "bo",
    "uig": "ug", "vie": "vi", "tha": "th", "dut": "nl", "gre": "el", "kaz": "kk", "may": "ms",
    "ind": "id", "hin": "hi", "zha": "za", "kir": "ky", "per": "fa", "tur": "tr", "pol": "pl",
    "swe": "sv", "dan": "da", "nor": "no", "fin": "fi", "cze": "cs", "hun": "hu", "ukr": "uk",
    "heb": "he", "bur": "my", "khm": "km", "lao": "lo", "mul": "mul",
}
# ISO 639-2/T codes that differ from the bibliographic ones
TERMINOLOGY_CODES = {"zho": "chi", "fra": "fre", "deu": "ger", "nld": "dut", "ell": "gre",
                     "bod": "tib", "msa": "may", "fas": "per", "ces": "cze", "mya": "bur"}
ISO_639_1 = {**LANGUAGES, **{t: LANGUAGES[b] for t, b in TERMINOLOGY_CODES.items()}}
# how catalogues write a language besides its codes and its Babel names
LANGUAGE_WORDS = {"汉语": "chi", "中文": "chi", "汉文": "chi", "英文": "eng", "日文": "jpn",
                  "俄文": "rus", "法文": "fre", "德文": "ger", "韩文": "kor", "朝鲜文": "kor",
                  "朝鲜语": "kor", "藏文": "tib", "蒙古文": "mon", "蒙文": "mon", "维吾尔文": "uig"}
_CODE_OF = {**{one: b for b, one in LANGUAGES.items()}, **TERMINOLOGY_CODES,
            **{b: b for b in LANGUAGES}}
_NO_LANGUAGE = {"und", "zxx", "xxx", "n/a", "null", "none"}


@functools.cache
def _language_names():
    """Every language's name in English and Chinese (lower case) → its ISO 639-2/B code."""
    names = dict(LANGUAGE_WORDS)
    for locale in (Locale.parse("en"), Locale.parse("zh_Hans")):
        names.update((locale.languages[one].lower(), b) for b, one in LANGUAGES.items()
                     if one in locale.languages)
    return names


def language_code(value):
    """The ISO 639-2/B code of a language as sent (zh, chi., zho, Chinese, 中文 → chi), or None.

    An unknown three-letter code is kept (ISO 639-2 has hundreds); anything else (||||, und,
    words nobody names) is no language.
    """
    if not isinstance(value, str):
        return None
    text = value.strip().strip(".").strip().lower()
    key = text.replace("_", "-").split("-")[0]
    if key in _CODE_OF:
        return _CODE_OF[key]
    if text in _language_names():
        return _language_names()[text]
    if re.fullmatch("[a-z]{3}", key) and key not in _NO_LANGUAGE:
        return key
    return None


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
