"""Files the tests upload: a small PDF, PNG pictures, and ``Upload`` (a file as a view gets it)."""
import io
import struct
import zlib

# a small but well-formed PDF: uploads are checked by their first bytes
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
# an 8×8 PNG, blue
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29dc0000001149444154789c"
    "63e08eedc78a188696040000303dc17023a97b0000000049454e44ae426082")


class Upload:
    """What Flask hands a view or a service for an uploaded file: a stream and a name."""

    def __init__(self, data=PDF, filename=None):
        self.stream = io.BytesIO(data)
        self.filename = filename or ("page.png" if data.startswith(PNG[:8]) else "scan.pdf")


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
