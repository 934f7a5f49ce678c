"""The Simplified Chinese catalogue covers every UI string, keeps its placeholders and is compiled.

Fix a failure with `scripts/update-translations.sh`, translate what it adds to
jala/translations/zh_Hans/LC_MESSAGES/messages.po, then run the script again.
"""
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import PYTHON_FORMAT
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG_DIR = ROOT / "jala" / "translations" / "zh_Hans" / "LC_MESSAGES"
PO = CATALOG_DIR / "messages.po"
MO = CATALOG_DIR / "messages.mo"
# The same keywords as scripts/update-translations.sh (lazy_gettext is imported as _l).
KEYWORDS = ["_", "_l", "gettext", "lazy_gettext", "ngettext:1,2"]


def _read_po(path):
    with open(path, "rb") as f:
        return read_po(f, locale="zh_Hans")


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory):
    """Extract the msgids of the current sources (jala/**.py, templates/**.html) to a temp .pot."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    args = ["pybabel", "--quiet", "extract", "-F", str(ROOT / "babel.cfg"), "--no-default-keywords",
            "-o", str(pot)]
    for keyword in KEYWORDS:
        args += ["-k", keyword]
    CommandLineInterface().run([*args, str(ROOT)])
    messages = [m for m in _read_po(pot) if m.id]
    assert len(messages) > 100, "extraction found almost nothing: is babel.cfg right?"
    return messages


@pytest.fixture(scope="module")
def catalog():
    assert PO.is_file(), f"{PO.relative_to(ROOT)} is missing"
    return _read_po(PO)


def _forms(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _placeholders(text):
    """The python-format placeholders of a string, e.g. Counter({'%(n)d': 1}); '%%' is not one."""
    return Counter(m.group(0) for m in PYTHON_FORMAT.finditer(text) if m.group(3) != "%")


def _label(message):
    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
    where = ", ".join(f"{Path(path).resolve().relative_to(ROOT)}:{line}"
                      for path, line in message.locations[:2])
    context = f" [context {message.context!r}]" if message.context else ""
    return f"{msgid!r}{context} ({where})"


def test_every_source_msgid_has_a_chinese_translation(source_messages, catalog):
    missing = []
    for message in source_messages:
        entry = catalog.get(message.id, message.context)
        if (entry is None or entry.fuzzy
                or not all(form.strip() for form in _forms(entry.string))):
            missing.append(_label(message))
    assert not missing, (f"{len(missing)} msgid(s) lack a non-fuzzy zh_Hans translation "
                         "(run scripts/update-translations.sh, then translate):\n  "
                         + "\n  ".join(missing))


def test_translations_keep_the_placeholders_of_their_msgids(source_messages, catalog):
    wrong = []
    for message in source_messages:
        entry = catalog.get(message.id, message.context)
        if entry is None or not entry.string:
            continue  # reported by the test above
        # For plural messages, every form is compared with the plural msgid.
        expected = _placeholders(_forms(message.id)[-1])
        for form in _forms(entry.string):
            if form and _placeholders(form) != expected:
                wrong.append(f"{_label(message)} -> {form!r}: placeholders "
                             f"{sorted(_placeholders(form).elements())} instead of "
                             f"{sorted(expected.elements())}")
    assert not wrong, "translations with different placeholders:\n  " + "\n  ".join(wrong)


def test_compiled_catalogue_is_up_to_date(catalog):
    assert MO.is_file(), "messages.mo is missing: run pybabel compile -d jala/translations"
    if MO.stat().st_mtime >= PO.stat().st_mtime:
        return
    # A fresh checkout writes the two files in any order, so an older .mo is only stale
    # when its content differs from the .po.
    def frozen(value):  # plural entries come back as lists from the .mo, tuples from the .po
        return tuple(value) if isinstance(value, list | tuple) else value

    with open(MO, "rb") as f:
        compiled = {(frozen(m.id), m.context): frozen(m.string) for m in read_mo(f) if m.id}
    expected = {(frozen(m.id), m.context): frozen(m.string) for m in catalog
                if m.id and m.string and not m.fuzzy and any(_forms(m.string))}
    assert compiled == expected, ("messages.mo is older than messages.po and differs from it: "
                                  "run pybabel compile -d jala/translations")
