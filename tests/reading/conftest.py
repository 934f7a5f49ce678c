"""Reading fixtures: records with holdings, staff, readers, and real little images."""
import io
import struct
import zlib

import pytest

from jala.membership import current_chair_library
from tests.delivery.conftest import PDF, add_record
from tests.support.factories import make_user

__all__ = ["PDF", "Upload", "add_record", "png"]

# 3×5 digits, drawn big on the test pages so a screenshot shows which page is which
DIGITS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001001001001", "8": "111101111101111",
    "9": "111101111001111",
}


def png(number=1, width=90, height=120, colour=(230, 236, 245)):
    """A real PNG page with ``number`` drawn in large blocks."""
    ink = (11, 93, 143)
    text = str(number)
    scale = max(4, width // (4 * len(text) + 4))
    left = (width - (4 * len(text) - 1) * scale) // 2
    top = (height - 5 * scale) // 2
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            pixel = colour
            cx, cy = (x - left) // scale, (y - top) // scale
            if 0 <= cy < 5 and 0 <= cx < 4 * len(text) and cx % 4 != 3 and x >= left:
                glyph = DIGITS[text[cx // 4]]
                if glyph[cy * 3 + cx % 4] == "1":
                    pixel = ink
            row += bytes(pixel)
        rows.append(bytes(row))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


class Upload:
    """What Flask hands a service for an uploaded file (a stream and a name)."""

    def __init__(self, data, filename="page.png"):
        self.stream = io.BytesIO(data)
        self.filename = filename


@pytest.fixture
def ctx(app, db_session):
    """Service tests here read the rules' messages in English."""
    with app.test_request_context("/?lang=en"):
        yield app


@pytest.fixture
def book(ctx):
    """A book held by NCU and ECJTU."""
    return add_record("reading-1", ["NCU", "ECJTU"], title="赣江流域水文志", year=2015,
                      authors=["水文研究组"], publisher="江西人民出版社", place="南昌")


@pytest.fixture
def ncu_librarian(ctx):
    return make_user(library="NCU", roles=("librarian",))


@pytest.fixture
def reader(ctx):
    return make_user(library="JXUFE")


@pytest.fixture
def portal_admin(ctx):
    return make_user(library=current_chair_library().code, roles=("portal_admin",))
