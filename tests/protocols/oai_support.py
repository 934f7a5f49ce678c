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
    """The OAI-PMH envelope, oai_dc (with simple DC) and MARC21 slim schemas, read offline."""
    dc_location = [("http://purl.org/dc/elements/1.1/", str(XSD / "simpledc20021212.xsd"))]
    return (xmlschema.XMLSchema(str(XSD / "OAI-PMH.xsd")),
            xmlschema.XMLSchema(str(XSD / "oai_dc.xsd"), locations=dc_location),
            xmlschema.XMLSchema(str(XSD / "MARC21slim.xsd")))


def valid_response(body):
    """Parse an OAI-PMH response, checked against the official XSDs; returns the root.

    The envelope's metadata is ``lax`` in OAI-PMH.xsd, so each oai_dc record is checked
    against oai_dc.xsd and each MARC21 record against MARC21slim.xsd.
    """
    root = etree.fromstring(body)
    envelope, dc_schema, marc_schema = schemas()
    envelope.validate(root)
    for dc in root.iterfind(".//oai_dc:dc", NS):
        dc_schema.validate(dc)
    for record in root.iterfind(".//marc:record", NS):
        marc_schema.validate(record)
    return root


def error_code(root):
    errors = root.findall("o:error", NS)
    return errors[0].get("code") if errors else None
