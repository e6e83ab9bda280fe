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
        "deletion_protection": t.get("DeletionProtectionEnabled"),
    }


def function(name):
    c = client("lambda").get_function(FunctionName=name)["Configuration"]
    return {
        "code_sha256": c["CodeSha256"],
        "memory": c["MemorySize"],
        "timeout": c["Timeout"],
        "environment": c.get("Environment", {}).get("Variables", {}),
        "kms": c.get("KMSKeyArn"),
        "role": c["Role"],
        "runtime": c.get("Runtime"),
        "architectures": c.get("Architectures"),
    }


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
    s3 = client("s3")
    s3.head_bucket(Bucket=name)
    try:
        rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    except s3.exceptions.ClientError:
        rule = {}
    return {"encryption": rule.get("SSEAlgorithm"), "kms": rule.get("KMSMasterKeyID")}


def user_pool(pool_id):
    p = client("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"]
    return {"name": p["Name"], "password_policy": p["Policies"]["PasswordPolicy"], "deletion_protection": p.get("DeletionProtection"), "mfa": p.get("MfaConfiguration")}


def user_pool_client(pool_and_client):
    """`POOL_ID|CLIENT_ID` (a client is found through its pool)."""
    pool_id, client_id = pool_and_client.split("|")
    c = client("cognito-idp").describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    return {"name": c["ClientName"], "auth_flows": c.get("ExplicitAuthFlows", []), "has_secret": "ClientSecret" in c}


def http_api(api_id):
    v2 = client("apigatewayv2")
    api = v2.get_api(ApiId=api_id)
    routes = {r["RouteKey"]: {"authorization": r.get("AuthorizationType"), "authorizer": r.get("AuthorizerId"), "target": r.get("Target")} for r in v2.get_routes(ApiId=api_id)["Items"]}
    # moto's API Gateway v2 has no GetAuthorizers: each is read by its id.
    authorizers = {}
    for authorizer_id in {r["authorizer"] for r in routes.values() if r["authorizer"]}:
        a = v2.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
        authorizers[authorizer_id] = {"name": a["Name"], "type": a["AuthorizerType"], "issuer": a.get("JwtConfiguration", {}).get("Issuer"), "audience": a.get("JwtConfiguration", {}).get("Audience")}
    return {"name": api["Name"], "endpoint": api["ApiEndpoint"], "routes": routes, "authorizers": authorizers}


def alarm(name):
    found = client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    if not found:
        raise LookupError(name)
    a = found[0]
    return {
        "namespace": a.get("Namespace"),
        "metric": a.get("MetricName"),
        "dimensions": {d["Name"]: d["Value"] for d in a.get("Dimensions", [])},
        "metrics": [m["Id"] for m in a.get("Metrics", [])],
        "threshold": a.get("Threshold"),
        "comparison": a["ComparisonOperator"],
        "alarm_actions": a.get("AlarmActions", []),
        "ok_actions": a.get("OKActions", []),
    }


def web_acl_association(resource_and_acl):
    """`RESOURCE_ARN|WEB_ACL_ARN`: which web ACL the resource is associated with."""
    resource_arn, _ = resource_and_acl.split("|")
    acl = client("wafv2").get_web_acl_for_resource(ResourceArn=resource_arn).get("WebACL")
    if acl is None:
        raise LookupError(resource_arn)
    return {"web_acl_arn": acl["ARN"], "web_acl_name": acl["Name"]}


def secret(arn):
    s = client("secretsmanager").describe_secret(SecretId=arn)
    return {"name": s["Name"], "kms": s.get("KmsKeyId")}


def distribution(distribution_id):
    d = client("cloudfront").get_distribution(Id=distribution_id)["Distribution"]
    return {"domain": d["DomainName"], "origins": [o["Id"] for o in d["DistributionConfig"]["Origins"]["Items"]]}


def event_invoke_config(function_and_qualifier):
    """`FUNCTION|QUALIFIER`: the function's asynchronous invocation settings."""
    function, qualifier = function_and_qualifier.split("|")
    c = client("lambda").get_function_event_invoke_config(FunctionName=function, Qualifier=qualifier)
    destinations = c.get("DestinationConfig", {})
    return {
        "retries": c.get("MaximumRetryAttempts"),
        "max_age": c.get("MaximumEventAgeInSeconds"),
        "on_failure": destinations.get("OnFailure", {}).get("Destination"),
        "on_success": destinations.get("OnSuccess", {}).get("Destination"),
    }


def subscription_filter(group_and_name):
    """`LOG_GROUP|FILTER_NAME`: the filter as CloudWatch Logs lists it."""
    group, name = group_and_name.split("|")
    found = [f for f in client("logs").describe_subscription_filters(logGroupName=group)["subscriptionFilters"] if f["filterName"] == name]
    if not found:
        raise LookupError(group_and_name)
    return {"pattern": found[0]["filterPattern"], "destination": found[0]["destinationArn"]}


readers = {
    "AWS::DynamoDB::Table": table,
    "AWS::Lambda::Function": function,
    "AWS::IAM::Role": role,
    "AWS::Logs::LogGroup": log_group,
    "AWS::S3::Bucket": bucket,
    "AWS::Cognito::UserPool": user_pool,
    "AWS::Cognito::UserPoolClient": user_pool_client,
    "AWS::ApiGatewayV2::Api": http_api,
    "AWS::CloudWatch::Alarm": alarm,
    "AWS::WAFv2::WebACLAssociation": web_acl_association,
    "AWS::SecretsManager::Secret": secret,
    "AWS::CloudFront::Distribution": distribution,
    "AWS::Lambda::EventInvokeConfig": event_invoke_config,
    "AWS::Logs::SubscriptionFilter": subscription_filter,
}

for resource_type, physical_id in wanted:
    report = {"type": resource_type, "id": physical_id}
    try:
        report.update(readers[resource_type](physical_id))
        report["exists"] = True
    except Exception as e:  # noqa: BLE001 - any "not found" shape means absent
        report["exists"] = False
        report["error"] = str(e)[:200]
    print(json.dumps(report))
