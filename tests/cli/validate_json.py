#!/usr/bin/env python3
"""Validates a JSON document against one of mlc's JSON Schemas, offline.

Usage:
  validate_json.py SCHEMA_NAME [FILE|-]         schemas/output/SCHEMA_NAME.schema.json
  validate_json.py --file SCHEMA_FILE [FILE|-]  any schema file, e.g. schemas/train-config.schema.json

The document is read from FILE, or from stdin when FILE is "-" or missing. Every schema under
schemas/ is preloaded by its "$id", so "$ref"s between them (e.g. "common.schema.json#/$defs/sha256")
resolve without the network; a "$ref" to anything else is an error, never a download.

Prints "FILE: valid against SCHEMA" and exits 0, or prints the first error with the JSON path of the
offending value and exits 1. Exits 2 on a usage error or a schema that cannot be read.
"""

import json
import pathlib
import re
import sys

import jsonschema

SCHEMA_DIR = pathlib.Path(__file__).resolve().parent.parent.parent / "schemas"


def die(message, status=2):
    print(f"validate_json.py: {message}", file=sys.stderr)
    sys.exit(status)


def load_json(path, what):
    try:
        text = sys.stdin.read() if path == "-" else pathlib.Path(path).read_text(encoding="utf-8")
    except OSError as error:
        die(f"cannot read {what} {path}: {error.strerror}")

    def reject_constant(name):  # NaN and Infinity are not JSON
        raise ValueError(f"{name} is not valid JSON")

    return json.loads(text, parse_constant=reject_constant)


def load_store():
    """Every schema file under schemas/, by its $id."""
    store = {}
    for path in sorted(SCHEMA_DIR.rglob("*.json")):
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            die(f"cannot load schema {path}: {error}")
        if isinstance(schema, dict) and isinstance(schema.get("$id"), str):
            store[schema["$id"].rstrip("#")] = schema
    return store


def jsonschema_version():
    try:
        from importlib.metadata import version

        text = version("jsonschema")
    except Exception:  # noqa: BLE001 - metadata missing: assume the old API, which 4.x still has
        return (4, 0)
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])


if jsonschema_version() >= (4, 18):  # $refs resolve through the referencing library
    import referencing
    import referencing.exceptions
    import referencing.jsonschema

    REFERENCE_ERRORS = (referencing.exceptions.Unresolvable,)
else:  # jsonschema 4.x before 4.18 (e.g. Ubuntu's python3-jsonschema 4.10): RefResolver
    referencing = None
    REFERENCE_ERRORS = (jsonschema.exceptions.RefResolutionError,)


def offline(uri):
    raise jsonschema.exceptions.RefResolutionError(
        f"$ref {uri} is not one of the schemas in {SCHEMA_DIR} (no network lookups)")


def make_validator(schema, store):
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    validator_class.check_schema(schema)
    base_uri = schema.get("$id", "")
    if referencing is not None:
        def retrieve(uri):
            raise referencing.exceptions.NoSuchResource(ref=uri)

        specification = referencing.jsonschema.specification_with(
            schema.get("$schema", "https://json-schema.org/draft/2020-12/schema"))
        resources = [(uri, referencing.Resource.from_contents(contents, default_specification=specification))
                     for uri, contents in store.items()]
        if base_uri:
            resources.append((base_uri, referencing.Resource.from_contents(schema, default_specification=specification)))
        registry = referencing.Registry(retrieve=retrieve).with_resources(resources)
        return validator_class(schema, registry=registry)
    resolver = jsonschema.RefResolver(base_uri=base_uri, referrer=schema, store=dict(store),
                                      handlers={"http": offline, "https": offline, "file": offline})
    return validator_class(schema, resolver=resolver)


def json_path(error):
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (
            f".{part}" if part.isidentifier() else "[" + json.dumps(part) + "]")
    return path


def first_error(validator, document):
    """The most telling error: the deepest one, looking inside oneOf/anyOf alternatives; at equal
    depth a wrong type (often just the "null" alternative) or an "unevaluated properties" complaint
    (a property whose own subschema failed counts as unevaluated too) only when nothing else is."""

    def leaves(error):
        if not error.context:
            return [error]
        return [leaf for child in error.context for leaf in leaves(child)]

    candidates = [leaf for error in validator.iter_errors(document) for leaf in leaves(error)]
    if not candidates:
        return None
    return min(candidates, key=lambda error: (-len(error.absolute_path), error.validator == "type",
                                              error.validator == "unevaluatedProperties"))


def main(argv):
    args = argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0 if args else 2)
    if args[0] == "--file":
        if len(args) not in (2, 3):
            die("usage: validate_json.py --file SCHEMA_FILE [FILE|-]")
        schema_path = pathlib.Path(args[1])
        schema_label = args[1]
    else:
        if len(args) not in (1, 2):
            die("usage: validate_json.py SCHEMA_NAME [FILE|-]")
        schema_path = SCHEMA_DIR / "output" / f"{args[0]}.schema.json"
        schema_label = args[0]
        if not schema_path.is_file():
            names = sorted(p.name[: -len(".schema.json")] for p in (SCHEMA_DIR / "output").glob("*.schema.json"))
            die(f"no schema named '{args[0]}' (schemas: {', '.join(names)})")
    document_path = args[-1] if len(args) == (3 if args[0] == "--file" else 2) else "-"
    document_label = "<stdin>" if document_path == "-" else document_path

    try:
        schema = load_json(str(schema_path), "schema")
    except ValueError as error:
        die(f"{schema_path} is not JSON: {error}")
    store = load_store()
    try:
        validator = make_validator(schema, store)
    except jsonschema.exceptions.SchemaError as error:
        die(f"{schema_path} is not a valid schema: {error.message}")

    try:
        document = load_json(document_path, "document")
    except ValueError as error:
        print(f"{document_label}: not JSON: {error}")
        return 1
    try:
        error = first_error(validator, document)
    except REFERENCE_ERRORS as ref_error:
        die(f"{schema_path}: unresolvable $ref: {ref_error}")
    if error is None:
        print(f"{document_label}: valid against {schema_label}")
        return 0
    print(f"{document_label}: invalid against {schema_label}: at {json_path(error)}: {error.message}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
