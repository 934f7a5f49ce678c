"""Special collections fixtures: English messages, staff of two libraries, a test image."""
import io

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from tests.support.factories import make_user


@pytest.fixture
def language():
    """Service tests here read the rules' messages in English."""
    return "en"


@pytest.fixture
def staff(ctx):
    """A librarian of NCU (builds the collection) and one of JXAU (another library)."""
    return {"ncu": make_user(library="NCU", roles=("librarian",), name="NCU Librarian"),
            "jxau": make_user(library="JXAU", roles=("librarian",), name="JXAU Librarian")}


def image_bytes(width=1200, height=700, fmt="PNG"):
    """An image of ``width`` × ``height`` (a gradient, so that tiles differ)."""
    picture = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    picture.save(out, fmt)
    return out.getvalue()


def upload(data=None, name="page.png"):
    """An uploaded file as a form gives it to a service."""
    return FileStorage(stream=io.BytesIO(image_bytes() if data is None else data),
                       filename=name)
