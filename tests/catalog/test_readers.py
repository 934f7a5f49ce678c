"""The MARC XML reader streams: what it has read does not stay in memory."""
import io
import tracemalloc

import pytest

from jala.catalog.readers import BadRecord, read_marcxml


def marc_record(number, namespace=""):
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    return (f"<record{xmlns}><leader>00000nam a2200000 a 4500</leader>"
            f'<controlfield tag="001">mem-{number}</controlfield>'
            '<datafield tag="245" ind1="0" ind2="0">'
            f'<subfield code="a">不留在内存里的书 {number}</subfield></datafield></record>\n')


def marc_xml(count, sru=False):
    """``count`` MARC21 records in a plain collection, or each in an SRU response's wrapper."""
    if not sru:
        return ('<collection xmlns="http://www.loc.gov/MARC21/slim">'
                + "".join(marc_record(n) for n in range(1, count + 1)) + "</collection>").encode()
    wrapped = "".join(
        "<record><recordSchema>marcxml</recordSchema><recordData>"
        + marc_record(n, "http://www.loc.gov/MARC21/slim")
        + f"</recordData><recordPosition>{n}</recordPosition></record>\n"
        for n in range(1, count + 1))
    return ('<searchRetrieveResponse xmlns="http://www.loc.gov/zing/srw/"><version>1.2</version>'
            f"<records>{wrapped}</records></searchRetrieveResponse>").encode()


@pytest.mark.parametrize("sru", [False, True], ids=["collection", "sru"])
def test_reading_20000_marc_xml_records_keeps_none_of_them_in_memory(tmp_path, sru):
    path = tmp_path / "many.xml"
    path.write_bytes(marc_xml(20_000, sru))
    with open(path, "rb") as stream:
        tracemalloc.start()
        try:
            count = sum(1 for _ in read_marcxml(stream))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert count == 20_000
    # a record and a read-ahead buffer; the file is 4 MB (7 MB wrapped), and a tree keeping an
    # emptied element per record (or each SRU wrapper) peaks at 1.7 MB (12 MB wrapped)
    assert peak < 512 * 1024, f"{path.stat().st_size} bytes read with a peak of {peak} bytes"


def read_marcxml_bytes(data):
    return read_marcxml(io.BytesIO(data))


def test_records_read_alike_in_a_collection_and_in_sru_wrappers():
    plain = [(n, r.as_dict()) for n, r in read_marcxml_bytes(marc_xml(3))]
    wrapped = [(n, r.as_dict()) for n, r in read_marcxml_bytes(marc_xml(3, sru=True))]
    assert plain == wrapped
    assert [n for n, _ in plain] == [1, 2, 3]
    assert plain[2][1]["fields"][0] == {"001": "mem-3"}


def test_a_marc_xml_file_that_breaks_off_yields_its_records_then_the_break():
    data = marc_xml(3)
    items = list(read_marcxml_bytes(data[:data.index(b"mem-3")]))
    assert [n for n, _ in items] == [1, 2, 3]
    assert all(not isinstance(r, BadRecord) for _, r in items[:2])
    assert isinstance(items[2][1], BadRecord)
    assert "the XML breaks off" in items[2][1].reason

