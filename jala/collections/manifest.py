"""IIIF Presentation API 3.0 manifests of published items (one canvas per image)."""
import re

from jala.collections import dublin_core
from jala.collections.iiif import viewing_size
from jala.urls import external_url

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
# rights must be a Creative Commons licence or a RightsStatements.org statement (a URI)
RIGHTS_URI = re.compile(r"https?://(creativecommons\.org/(licenses|publicdomain)/|"
                        r"rightsstatements\.org/vocab/)\S+")


def _map(values, language="none"):
    return {language: list(values)}


def _value_language(dc):
    languages = dc.get("language") or []
    if languages and languages[0] in ("chi", "zho"):
        return "zh"
    if languages and languages[0] == "eng":
        return "en"
    return "none"


def image_service_id(image):
    """The image's IIIF Image API base URI."""
    return external_url("collections.iiif_image_base", key=image.key)


def image_url(image, size):
    """The URL of the whole image at ``size`` ([w, h] from its sizes)."""
    return external_url("collections.iiif_image", key=image.key, region="full",
                        size=f"{size[0]},{size[1]}", rotation="0", quality="default",
                        fmt="jpg")


def build_manifest(item, library_names):
    """The item's manifest; ``library_names`` is ``(zh, en)`` of the library that holds it."""
    dc = item.dc
    manifest_id = external_url("collections.iiif_manifest", item_id=item.id)
    language = _value_language(dc)
    metadata = [{"label": {"zh": [dublin_core.LABELS[element][1]],
                           "en": [dublin_core.LABELS[element][2]]},
                 "value": _map(dc[element], language)}
                for element in dublin_core.ELEMENTS if dc.get(element)]
    zh_name, en_name = library_names
    manifest = {
        "@context": PRESENTATION_CONTEXT,
        "id": manifest_id,
        "type": "Manifest",
        "label": _map(dc["title"], language),
        "metadata": metadata,
        "requiredStatement": {"label": {"zh": ["提供单位"], "en": ["Provided by"]},
                              "value": {"zh": [zh_name], "en": [en_name]}},
        "provider": [{"id": external_url("collections.collection",
                                         collection_id=item.collection_id),
                      "type": "Agent", "label": {"zh": [zh_name], "en": [en_name]}}],
        "homepage": [{"id": external_url("collections.item", item_id=item.id),
                      "type": "Text", "label": _map(dc["title"][:1], language),
                      "format": "text/html"}],
        "items": [_canvas(manifest_id, item, image, index, language)
                  for index, image in enumerate(item.images, start=1)],
    }
    if dc.get("description"):
        manifest["summary"] = _map(dc["description"][:1], language)
    rights = next((v for v in dc.get("rights", ()) if RIGHTS_URI.fullmatch(v)), None)
    if rights:
        manifest["rights"] = rights.replace("https://", "http://", 1)
    if item.images:
        first = item.images[0]
        manifest["thumbnail"] = [_image_body(first, viewing_size(first, 400))]
    return manifest


def _image_body(image, size):
    return {"id": image_url(image, size), "type": "Image", "format": "image/jpeg",
            "width": size[0], "height": size[1],
            "service": [{"id": image_service_id(image), "type": "ImageService3",
                         "profile": "level0"}]}


def _canvas(manifest_id, item, image, index, language):
    base = manifest_id.rsplit("/", 1)[0]
    canvas_id = f"{base}/canvas/{index}"
    label = image.label or f"{item.dc['title'][0]} ({index})"
    return {
        "id": canvas_id,
        "type": "Canvas",
        "label": _map([label], language),
        "width": image.width,
        "height": image.height,
        "items": [{
            "id": f"{canvas_id}/page",
            "type": "AnnotationPage",
            "items": [{
                "id": f"{canvas_id}/page/image",
                "type": "Annotation",
                "motivation": "painting",
                "body": _image_body(image, [image.width, image.height]),
                "target": canvas_id,
            }],
        }],
    }
