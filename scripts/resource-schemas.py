#!/usr/bin/env python3
"""Writes the CloudFormation resource provider schemas stackctl validates with.

The source is the schema set cfn-lint ships (pinned in scripts/lib.sh and
tests/support/mod.rs): `cfnlint/data/schemas/providers/us-east-1.json` maps
each resource type to a JSON Schema (draft-07 plus CloudFormation's own
keywords) in `cfnlint/data/schemas/resources/`. These are the schemas
CloudFormation's registry publishes, with cfn-lint's corrections applied.

For each type, one file `crates/core/schema/resources/<service>-<resource>.json` (for
`AWS::DynamoDB::Table`: `dynamodb-table.json`) holding only what validation
and replacement prediction read: documentation (`description`, examples,
URLs), handler permissions and tagging metadata are dropped; order is kept.

Usage, with the Python that has cfn-lint installed:
    resource-schemas.py OUT_DIR [TYPE...]
Without TYPEs it regenerates every type already in OUT_DIR.
"""
import json
import os
import sys

import cfnlint
from cfnlint.version import __version__ as CFN_LINT_VERSION

REGION = "us-east-1"

# Keywords whose value is one schema, a list of schemas, or a map of schemas.
ONE_SCHEMA = {"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"}
SCHEMA_LIST = {"anyOf", "oneOf", "allOf", "prefixItems"}
SCHEMA_MAP = {"properties", "patternProperties", "definitions"}
# Plain keywords kept as they are.
KEPT = {
    "type", "$ref", "enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems",
    "minProperties", "maxProperties", "required", "dependencies", "dependentRequired",
    "dependentExcluded", "requiredXor",
}
# Top-level CloudFormation keywords kept.
TOP = {
    "typeName", "primaryIdentifier", "createOnlyProperties", "conditionalCreateOnlyProperties",
    "readOnlyProperties", "writeOnlyProperties", "deprecatedProperties",
}


def file_name(type_name):
    _, service, resource = type_name.split("::")
    return f"{service.lower()}-{resource.lower()}.json"


def trim(schema):
    """The schema with only the keywords validation reads."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ONE_SCHEMA:
            out[key] = trim(value)
        elif key in SCHEMA_LIST:
            out[key] = [trim(v) for v in value]
        elif key in SCHEMA_MAP:
            out[key] = {name: trim(v) for name, v in value.items()}
        elif key == "dependencies":
            out[key] = {n: (trim(v) if isinstance(v, dict) else v) for n, v in value.items()}
        elif key in KEPT:
            out[key] = value
    return out


def main():
    out_dir = sys.argv[1]
    types = sys.argv[2:]
    if not types:
        types = []
        for name in sorted(os.listdir(out_dir)):
            if name.endswith(".json"):
                with open(os.path.join(out_dir, name)) as f:
                    types.append(json.load(f)["typeName"])
    root = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas")
    with open(os.path.join(root, "providers", f"{REGION}.json")) as f:
        provider = json.load(f)
    os.makedirs(out_dir, exist_ok=True)
    for type_name in types:
        if type_name not in provider:
            sys.exit(f"{type_name} has no schema in cfn-lint {CFN_LINT_VERSION} ({REGION})")
        with open(os.path.join(root, "resources", provider[type_name] + ".json")) as f:
            full = json.load(f)
        # typeName first: the build script finds it there without parsing.
        trimmed = {"typeName": full["typeName"]}
        trimmed.update({k: full[k] for k in full if k in TOP and k != "typeName"})
        trimmed.update(trim(full))
        with open(os.path.join(out_dir, file_name(type_name)), "w") as f:
            json.dump(trimmed, f, indent=1, ensure_ascii=False)
            f.write("\n")
    with open(os.path.join(root, "version.json")) as f:
        schema_date = json.load(f).get("schema_date", "unknown")
    with open(os.path.join(out_dir, "SOURCE"), "w") as f:
        f.write(f"cfn-lint {CFN_LINT_VERSION}, region {REGION}, schemas of {schema_date}\n")


if __name__ == "__main__":
    main()
