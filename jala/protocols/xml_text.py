"""Text that XML 1.0 can carry: imported records may hold control characters it cannot."""
import re

_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value):
    """``value`` as a string without the characters XML 1.0 forbids."""
    return _NOT_XML_RE.sub("", str(value))
