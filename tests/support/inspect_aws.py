"""Reads resources back through each service's own API (boto3, from the
emulator's venv), so tests check what exists rather than what CloudFormation
says exists.

    python inspect_aws.py ENDPOINT '[["AWS::DynamoDB::Table", "name"], ...]'

prints one JSON object per resource: {"type", "id", "exists", ...details}.
"""

import ast
import json
import sys

import boto3

endpoint, wanted = sys.argv[1], json.loads(sys.argv[2])
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
clients = {}


def client(name):
    if name not in clients:
        clients[name] = boto3.client(name, **kw)
    return clients[name]


def table(name):
    t = client("dynamodb").describe_table(TableName=name)["Table"]
    return {
        "keys": [[k["AttributeName"], k["KeyType"]] for k in t["KeySchema"]],
        "indexes": sorted(i["IndexName"] for i in t.get("GlobalSecondaryIndexes", [])),
        "stream": t.get("StreamSpecification", {}).get("StreamViewType"),
        "billing": t.get("BillingModeSummary", {}).get("BillingMode"),
    }


def function(name):
    c = client("lambda").get_function(FunctionName=name)["Configuration"]
    return {"code_sha256": c["CodeSha256"], "memory": c["MemorySize"], "role": c["Role"], "runtime": c.get("Runtime"), "architectures": c.get("Architectures")}


def role(name):
    iam = client("iam")
    iam.get_role(RoleName=name)
    policies = {}
    for p in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
        if isinstance(doc, str):
            # moto stores a policy given as an object in Python's repr form.
            try:
                doc = json.loads(doc)
            except ValueError:
                doc = ast.literal_eval(doc)
        policies[p] = doc
    return {"policies": policies}


def log_group(name):
    found = [g for g in client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name]
    if not found:
        raise LookupError(name)
    return {"retention": found[0].get("retentionInDays"), "kms": found[0].get("kmsKeyId")}


def bucket(name):
    client("s3").head_bucket(Bucket=name)
    return {}


readers = {"AWS::DynamoDB::Table": table, "AWS::Lambda::Function": function, "AWS::IAM::Role": role, "AWS::Logs::LogGroup": log_group, "AWS::S3::Bucket": bucket}

for resource_type, physical_id in wanted:
    report = {"type": resource_type, "id": physical_id}
    try:
        report.update(readers[resource_type](physical_id))
        report["exists"] = True
    except Exception as e:  # noqa: BLE001 - any "not found" shape means absent
        report["exists"] = False
        report["error"] = str(e)[:200]
    print(json.dumps(report))
