"""Validate JSON against the official COUNTER_SUSHI 5.1 API's JSON schemas (OpenAPI 3.1
components, JSON Schema 2020-12), with the formats checked."""
import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC = Path(__file__).with_name("COUNTER_SUSHI_API_5.1.json")
URI = "urn:counter:sushi-api:5.1"


@cache
def _registry():
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    return Registry().with_resource(URI, Resource(spec, specification=DRAFT202012)), spec


def spec():
    """The specification as published."""
    return _registry()[1]


def validator(name=None, *, response=None):
    """A validator for ``components/schemas/<name>``, or for the JSON of a response
    (``components/responses/<response>``, e.g. ``200_Reports``)."""
    registry, document = _registry()
    if response is not None:
        schema = document["components"]["responses"][response]["content"]["application/json"][
            "schema"]
        schema = json.loads(json.dumps(schema).replace('"#/components/', f'"{URI}#/components/'))
    else:
        schema = {"$ref": f"{URI}#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def errors(instance, name=None, *, response=None):
    """The schema's complaints about ``instance`` (empty: valid)."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(name, response=response).iter_errors(instance)]
