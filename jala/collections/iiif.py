"""IIIF for special collections: static Image API 3.0 level-0 tile sets, and the documents.

At upload an image is cut once (Pillow) into the tiles and sizes ``info.json`` lists, kept
privately under ``instance/iiif/<key>/``; the image route only hands out those files (level 0:
nothing is computed on request). ``tile_file`` maps a request's region and size to one of
them, so the forms viewers write (``full``, ``max``, ``w,``, ``w,h``) all find it.
"""
import math
import shutil
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from jala.errors import RuleViolation

TILE = 512
MAX_PIXELS = 60_000_000  # a bigger image is refused (a decompression bomb, or a mistake)
# Pillow's own guard at our limit: it warns above it (made an error in open_image) and
# refuses twice it, before a bomb's header can make it allocate the pixels
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
SMALLEST = 64  # no size smaller than this is made
QUALITY = 85
IMAGE_CONTEXT = "http://iiif.io/api/image/3/context.json"


def tiles_root():
    """The private folder of every image's tile set (created on first use)."""
    path = Path(current_app.config["INSTANCE_PATH"]) / "iiif"
    path.mkdir(parents=True, exist_ok=True)
    return path


def tile_dir(key):
    """Where one image's tiles are kept."""
    return tiles_root() / key


def _name(x, y, w, h, out_w, out_h):
    return f"{x},{y},{w},{h}_{out_w},{out_h}.jpg"


def open_image(path):
    """The uploaded image, decoded and upright, or RuleViolation (not an image, too big)."""
    too_big = _("The image is larger than 60 megapixels.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as probe:
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise RuleViolation(too_big)
                image = ImageOps.exif_transpose(probe)
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RuleViolation(too_big) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise RuleViolation(_("The image cannot be read.")) from exc
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    return image


def scale_factors(width, height, tile=TILE):
    """1, 2, 4, … up to the first at which the whole image fits in one tile."""
    factors = [1]
    while math.ceil(width / factors[-1]) > tile or math.ceil(height / factors[-1]) > tile:
        factors.append(factors[-1] * 2)
    return factors


def make_tiles(image, key):
    """Cut ``image`` into its tile set under ``key``; returns (description, files written)."""
    width, height = image.size
    factors = scale_factors(width, height)
    target = tile_dir(key)
    target.mkdir(parents=True, exist_ok=False)
    written = []

    def save(region, out_size):
        x, y, w, h = region
        path = target / _name(x, y, w, h, *out_size)
        if path.exists():
            return
        part = image.crop((x, y, x + w, y + h))
        if part.size != out_size:
            part = part.resize(out_size, Image.LANCZOS)
        part.save(path, "JPEG", quality=QUALITY)
        written.append(path)

    try:
        for factor in factors:
            span = TILE * factor
            for y in range(0, height, span):
                for x in range(0, width, span):
                    w, h = min(span, width - x), min(span, height - y)
                    save((x, y, w, h), (math.ceil(w / factor), math.ceil(h / factor)))
        sizes = []
        for factor in factors:
            size = (math.ceil(width / factor), math.ceil(height / factor))
            if min(size) >= SMALLEST or factor == 1 or not sizes:
                save((0, 0, width, height), size)
                sizes.append(list(size))
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    sizes.sort()
    return {"tile": TILE, "scale_factors": factors, "sizes": sizes}, written


def info_json(image, service_id):
    """The image's ``info.json`` (Image API 3.0, level 0)."""
    tiles = image.tiles
    return {
        "@context": IMAGE_CONTEXT,
        "id": service_id,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": image.width,
        "height": image.height,
        "sizes": [{"width": w, "height": h} for w, h in tiles["sizes"]],
        "tiles": [{"width": tiles["tile"], "scaleFactors": tiles["scale_factors"]}],
        "extraFormats": [],
        "preferredFormats": ["jpg"],
    }


def _region(text, width, height):
    if text == "full":
        return 0, 0, width, height
    try:
        x, y, w, h = (int(part) for part in text.split(","))
    except ValueError:
        return None
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x >= width or y >= height:
        return None
    return x, y, min(w, width - x), min(h, height - y)


def _sizes(text, w, h):
    """The output sizes a size parameter may mean (``w,`` and ``,h`` may round either way)."""
    if text == "max":
        return [(w, h)]
    if text.startswith("^") or text.startswith("!") or text.startswith("pct:"):
        return []
    try:
        sw, sh = text.split(",")
        if sw and sh:
            return [(int(sw), int(sh))]
        if sw:
            out_w = int(sw)
            exact = h * out_w / w
            return [(out_w, math.ceil(exact)), (out_w, math.floor(exact)),
                    (out_w, round(exact))]
        out_h = int(sh)
        exact = w * out_h / h
        return [(math.ceil(exact), out_h), (math.floor(exact), out_h), (round(exact), out_h)]
    except ValueError:
        return []


def tile_file(image, region, size, rotation, quality, fmt):
    """The file a request names, if the tile set has it, else None (the route answers 404)."""
    if rotation != "0" or quality not in ("default", "color") or fmt != "jpg":
        return None
    found = _region(region, image.width, image.height)
    if found is None:
        return None
    x, y, w, h = found
    for out_w, out_h in _sizes(size, w, h):
        path = tile_dir(image.key) / _name(x, y, w, h, out_w, out_h)
        if path.is_file():
            return path
    return None


def viewing_size(image, wanted=1024):
    """The biggest listed size no wider than ``wanted`` (the page's image without JS)."""
    fitting = [s for s in image.tiles["sizes"] if s[0] <= wanted] or image.tiles["sizes"][:1]
    return fitting[-1]
