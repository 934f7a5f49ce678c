"""OAI-PMH test help: the official schemas (shipped in tests/protocols/xsd), parsing answers."""
from functools import cache
from pathlib import Path

import xmlschema
from lxml import etree

XSD = Path(__file__).parent / "xsd"
NS = {"o": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/",
      "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
      "marc": "http://www.loc.gov/MARC21/slim"}


@cache
def schemas():
    """The OAI-PMH envelope schema and the oai_dc schema (with simple DC), read offline."""
    dc_location = [("http://purl.org/dc/elements/1.1/", str(XSD / "simpledc20021212.xsd"))]
    return (xmlschema.XMLSchema(str(XSD / "OAI-PMH.xsd")),
            xmlschema.XMLSchema(str(XSD / "oai_dc.xsd"), locations=dc_location))


def valid_response(body):
    """Parse an OAI-PMH response, checked against the official XSDs; returns the root.

    The envelope's metadata is ``lax`` in OAI-PMH.xsd, so each oai_dc record is checked
    against oai_dc.xsd, and each MARC21 record structurally (MARC21slim.xsd is not at hand).
    """
    root = etree.fromstring(body)
    envelope, dc_schema = schemas()
    envelope.validate(root)
    for dc in root.iterfind(".//oai_dc:dc", NS):
        dc_schema.validate(dc)
    for record in root.iterfind(".//marc:record", NS):
        check_marc_structure(record)
    return root


def check_marc_structure(record):
    """What MARC21slim.xsd requires: a 24-character leader, then control and data fields."""
    children = list(record)
    assert etree.QName(children[0]).localname == "leader"
    assert len(children[0].text) == 24
    for field in children[1:]:
        name = etree.QName(field).localname
        assert name in ("controlfield", "datafield")
        assert len(field.get("tag")) == 3
        if name == "datafield":
            assert len(field.get("ind1")) == 1 and len(field.get("ind2")) == 1
            assert list(field), "a datafield needs a subfield"
            assert all(len(sub.get("code")) == 1 for sub in field)


def error_code(root):
    errors = root.findall("o:error", NS)
    return errors[0].get("code") if errors else None
