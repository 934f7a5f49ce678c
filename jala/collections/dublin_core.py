"""Dublin Core (the 15 elements of DCMES 1.1): labels, checks, and the catalogue's fields.

Every element is optional and repeatable (DCMES says so); an item needs a title. A date is
written the W3C way (YYYY, YYYY-MM or YYYY-MM-DD, or a range of them with "/"), a language as
an ISO 639 code, a type from the DCMI Type Vocabulary, a format as a media type.
"""
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from jala.catalog.vocabulary import language_code
from jala.errors import RuleViolation

ELEMENTS = ("title", "creator", "subject", "description", "publisher", "contributor", "date",
            "type", "format", "identifier", "source", "language", "relation", "coverage",
            "rights")
LABELS = {
    "title": (_l("DC title"), "题名", "Title"),
    "creator": (_l("DC creator"), "创建者", "Creator"),
    "subject": (_l("DC subject"), "主题", "Subject"),
    "description": (_l("DC description"), "描述", "Description"),
    "publisher": (_l("DC publisher"), "出版者", "Publisher"),
    "contributor": (_l("DC contributor"), "其他责任者", "Contributor"),
    "date": (_l("DC date"), "日期", "Date"),
    "type": (_l("DC type"), "类型", "Type"),
    "format": (_l("DC format"), "格式", "Format"),
    "identifier": (_l("DC identifier"), "标识符", "Identifier"),
    "source": (_l("DC source"), "来源", "Source"),
    "language": (_l("DC language"), "语种", "Language"),
    "relation": (_l("DC relation"), "关联", "Relation"),
    "coverage": (_l("DC coverage"), "覆盖范围", "Coverage"),
    "rights": (_l("DC rights"), "权限", "Rights"),
}
DCMI_TYPES = ("Collection", "Dataset", "Event", "Image", "InteractiveResource", "MovingImage",
              "PhysicalObject", "Service", "Software", "Sound", "StillImage", "Text")
MAX_VALUES = 20
MAX_LENGTH = {"description": 5000}
DEFAULT_LENGTH = 500
W3CDTF = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")
MEDIA_TYPE = re.compile(r"[a-z]+/[a-z0-9.+-]+", re.IGNORECASE)
# what a union record's type is, from the item's DCMI type (the first known one wins)
RECORD_TYPE_OF = {"Image": "image", "StillImage": "image", "Sound": "audio",
                  "MovingImage": "video", "Software": "software", "Dataset": "database",
                  "Text": "book"}


TYPE_NAMES = {
    "Collection": _l("A collection"), "Dataset": _l("A dataset"), "Event": _l("An event"),
    "Image": _l("An image"), "InteractiveResource": _l("An interactive resource"),
    "MovingImage": _l("A moving image (video)"), "PhysicalObject": _l("A physical object"),
    "Service": _l("A service"), "Software": _l("Software"), "Sound": _l("A sound recording"),
    "StillImage": _l("A still image (photograph, painting)"), "Text": _l("A text"),
}


def label(element):
    """The element's name on the pages."""
    return LABELS[element][0]


def type_name(value):
    """A DCMI type as readers read it (``StillImage`` → 静止图像)."""
    return TYPE_NAMES.get(value, value)


def _date(value):
    parts = value.split("/")
    return len(parts) <= 2 and all(W3CDTF.fullmatch(p) for p in parts)


def clean(values_by_element):
    """The item's DC as stored ({element: [values]}), or RuleViolation naming the fault.

    ``values_by_element`` maps an element to a list of values or to text, one value a line.
    """
    unknown = set(values_by_element) - set(ELEMENTS)
    if unknown:
        raise RuleViolation(_("Unknown Dublin Core element: %(names)s.",
                              names=", ".join(sorted(unknown))))
    dc = {}
    for element in ELEMENTS:
        raw = values_by_element.get(element) or []
        if isinstance(raw, str):
            raw = raw.splitlines()
        values = []
        for value in raw:
            value = " ".join(str(value).split()) if element != "description" \
                else str(value).strip()
            if value and value not in values:
                values.append(value)
        if len(values) > MAX_VALUES:
            raise RuleViolation(_("%(element)s has more than %(n)d values.",
                                  element=label(element), n=MAX_VALUES))
        limit = MAX_LENGTH.get(element, DEFAULT_LENGTH)
        for value in values:
            if len(value) > limit:
                raise RuleViolation(_("A value of %(element)s is longer than %(n)d characters.",
                                      element=label(element), n=limit))
            _check(element, value)
        if values:
            dc[element] = [language_code(v) or v for v in values] if element == "language" \
                else values
    if not dc.get("title"):
        raise RuleViolation(_("Give the item a title (DC title)."))
    return dc


def _check(element, value):
    if element == "date" and not _date(value):
        raise RuleViolation(_("Write a date as YYYY, YYYY-MM or YYYY-MM-DD (a range with /), "
                              "not “%(value)s”.", value=value[:40]))
    if element == "type" and value not in DCMI_TYPES:
        raise RuleViolation(_("A DC type is one of the DCMI types (%(types)s), not "
                              "“%(value)s”.", types=", ".join(DCMI_TYPES), value=value[:40]))
    if element == "language" and not language_code(value):
        raise RuleViolation(_("Write a language as its ISO 639 code (chi, eng…), not "
                              "“%(value)s”.", value=value[:40]))
    if element == "format" and not MEDIA_TYPE.fullmatch(value):
        raise RuleViolation(_("Write a format as a media type (image/jpeg, audio/mpeg…), "
                              "not “%(value)s”.", value=value[:40]))


def record_type(dc, collection_kind):
    """The union record's type for an item: from its DCMI type, else from its collection."""
    for value in dc.get("type", ()):
        if value in RECORD_TYPE_OF:
            return RECORD_TYPE_OF[value]
    return {"theses": "thesis", "images": "image"}.get(collection_kind, "other")


def year_of(dc):
    """The first year the item's dates name, or None."""
    for value in dc.get("date", ()):
        return int(value[:4])
    return None
