"""MARC records → the JSON Lines record shape of the import contract, by flavour.

MARC21 is read by ``jala.catalog.marc21``, UNIMARC and CNMARC by ``jala.catalog.unimarc``.
"""
from jala.catalog.marc21 import marc21_to_dict
from jala.catalog.unimarc import unimarc_to_dict


def guess_flavour(record):
    """'unimarc' (also CNMARC) when the title is in 200, else 'marc21'."""
    return "unimarc" if record.get_fields("200") else "marc21"


def marc_to_dict(record, flavour=None):
    """Map a pymarc record by flavour (guessed when not given)."""
    flavour = flavour or guess_flavour(record)
    if flavour in ("unimarc", "cnmarc"):
        return unimarc_to_dict(record)
    return marc21_to_dict(record)
