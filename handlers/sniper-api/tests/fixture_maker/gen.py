#!/usr/bin/env python3
"""Shapes of the sniper API's fixtures (events, DynamoDB, Scheduler, KMS,
Secrets Manager and eBay exchanges); `cases.py` lists the cases and writes
tests/fixtures/*.json. The JSON files are what the tests read:

    python3 handlers/sniper-api/tests/fixture_maker/cases.py
"""
import base64, json, os, datetime, sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
NOW = 1_795_403_945
NOW_MS = NOW * 1000

def iso_ms(ms):
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)

def iso_s(ms):
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")

def ms_of(text):
    d = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000 + d.microsecond // 1000

NOW_TEXT = iso_ms(NOW_MS)
ALICE = "3f5b2a10-6c1d-4e8f-9a7b-2c4d6e8f0a1b"
ALICE_EMAIL = "alice@example.com"
BOB = "8c9d0e1f-2a3b-4c5d-8e6f-7a8b9c0d1e2f"

USERS = "ebay-sniper-test-Users"
BIDS = "ebay-sniper-test-Bids"
HISTORY = "ebay-sniper-test-BidHistory"
GROUP = "ebay-sniper-test-bid-schedules"
ROLE = "arn:aws:iam::123456789012:role/ebay-sniper-test-bid-schedules-scheduler"
EXECUTOR = "arn:aws:lambda:us-east-1:123456789012:function:ebay-sniper-test-bid-executor"
DLQ = "arn:aws:sqs:us-east-1:123456789012:ebay-sniper-test-bid-schedules-dlq"
KEY = "arn:aws:kms:us-east-1:123456789012:key/0f6e7d8c-1a2b-4c3d-9e8f-7a6b5c4d3e2f"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ebay-sniper-test/ebay-credentials-AbCdEf"
EBAY = "api.sandbox.ebay.com"

BID_ID = "01a2066a-1428-7001-8203-040506070809"
OTHER_BID = "01a1f0c2-7e10-7abc-9def-0123456789ab"
ITEM = "v1|110551991234|0"
ITEM_PATH = "/buy/browse/v1/item/v1%7C110551991234%7C0"
END = "2026-11-25T18:00:00.000Z"
END_MS = ms_of(END)

APP_ID = "SniperAp-sniper-SBX-1a2b3c4d5-6e7f8a9b"
CERT_ID = "SBX-1a2b3c4d5e6f-7a8b-9c0d-1e2f-3a4b"
RU_NAME = "Sniper_App-SniperAp-sniper-abcdefg"
BASIC = "Basic " + base64.b64encode(f"{APP_ID}:{CERT_ID}".encode()).decode()
APP_TOKEN = "v^1.1#i^1#p^1#r^0#I^3#f^0#t^H4sIAAAAAAAAAOVYa2wUVRSe7bYFBCQRaqEaXQaFCMzunZnd6c7ArtlSuqX0se0ubSAg3J25044zO7POY0uNxMWgASJGI3"
SCOPE_PUBLIC = "https://api.ebay.com/oauth/api_scope"
SCOPE_BIDDING = "https://api.ebay.com/oauth/api_scope/buy.offer.auction"
AUTH_CODE = "v^1.1#i^1#f^0#p^3#I^3#r^1#t^Ul41XzQ6RjZBMkI3NkZENUM4QTcxQTg2MjBFRTM1QkQyQTg0MjZfMV8xI0VeMjYw"
REFRESH = "v^1.1#i^1#r^1#p^3#I^3#f^0#t^Ul4xMF8yOjBBQkYxRjE4QzY0QTQyN0FFQkYzMjA2NzM3RjE5QjU2XzFfMSNFXjI2MA=="
CIPHERTEXT = base64.b64encode(bytes([1, 2, 2, 0, 0x78]) + bytes(range(16, 120))).decode()
LINKED_AT = "2026-11-20T09:12:44.512Z"
REFRESH_EXPIRES = "2028-05-20T09:12:44.512Z"

# Assumed already checked by tests: the compact JSON a Bid's schedule input is.
INPUT = json.dumps({"userId": ALICE, "bidId": BID_ID}, separators=(",", ":"))

def ddb(value):
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, dict):
        return {"M": {k: ddb(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"L": [ddb(v) for v in value]}
    raise TypeError(value)

def item(obj):
    return {k: ddb(v) for k, v in obj.items()}

def event(method, path, route, body=None, query=None, params=None, sub=ALICE, email=ALICE_EMAIL, claims=True):
    e = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {
            "accept": "application/json",
            "authorization": "Bearer eyJraWQiOiJ0ZXN0IiwiYWxnIjoiUlMyNTYifQ.e30.c2ln",
            "content-type": "application/json",
            "host": "sn1p3r.execute-api.us-east-1.amazonaws.com",
            "user-agent": "Mozilla/5.0",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "sn1p3r",
            "domainName": "sn1p3r.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "sn1p3r",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7", "userAgent": "Mozilla/5.0"},
            "requestId": "Sn1pQjS4IAMEVdA=",
            "routeKey": route,
            "stage": "$default",
            "time": "23/Nov/2026:03:19:05 +0000",
            "timeEpoch": NOW_MS,
        },
        "isBase64Encoded": False,
    }
    if claims:
        c = {"sub": sub, "email_verified": "true", "cognito:username": sub,
             "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_SnIpEr123",
             "aud": "7snip3rc1ient1dexample", "token_use": "id",
             "auth_time": str(NOW - 600), "exp": str(NOW + 3000), "iat": str(NOW - 600)}
        if email:
            c["email"] = email
        e["requestContext"]["authorizer"] = {"jwt": {"claims": c, "scopes": None}}
    if query:
        e["queryStringParameters"] = query
    if params:
        e["pathParameters"] = params
    if body is not None:
        e["body"] = body if isinstance(body, str) else json.dumps(body)
    return e

def ok(data, status=200):
    return {"statusCode": status, "body": {"success": True, "data": data}}

def err(status, code, message=None, details=None):
    e = {"code": code, "statusCode": status}
    if message is not None:
        e["message"] = message
    if details is not None:
        e["details"] = details
    return {"statusCode": status, "body": {"success": False, "error": e}}

def ddb_error(kind, message):
    return {"status": 400, "body": {"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": message}}

# ---- users -------------------------------------------------------------

LINKED_USER = {
    "userId": ALICE, "email": "alice.bids@example.com", "name": "Alice Liddell",
    "emailNotifications": False, "createdAt": "2026-11-01T08:00:00.000Z",
    "updatedAt": "2026-11-20T09:12:44.512Z", "ebayToken": CIPHERTEXT,
    "ebayLinkedAt": LINKED_AT, "ebayTokenExpiresAt": REFRESH_EXPIRES,
}

def get_user(answer_item):
    body = {} if answer_item is None else {"Item": item(answer_item)}
    return {"request": {"operation": "GetItem", "body": {"TableName": USERS, "Key": {"userId": {"S": ALICE}}, "ConsistentRead": True}},
            "response": {"status": 200, "body": body}}

def linked_check(answer_item):
    body = {} if answer_item is None else {"Item": item(answer_item)}
    return {"request": {"operation": "GetItem", "body": {
                "TableName": USERS, "Key": {"userId": {"S": ALICE}}, "ConsistentRead": True,
                "ProjectionExpression": "#token", "ExpressionAttributeNames": {"#token": "ebayToken"}}},
            "response": {"status": 200, "body": body}}

# ---- eBay --------------------------------------------------------------

def secret():
    value = json.dumps({"app_id": APP_ID, "cert_id": CERT_ID, "dev_id": "d3v1d-0000-1111-2222-333344445555", "ru_name": RU_NAME, "environment": "dev"})
    return {"request": {"operation": "GetSecretValue", "body": {"SecretId": SECRET}},
            "response": {"status": 200, "body": {"ARN": SECRET, "Name": "ebay-sniper-test/ebay-credentials", "SecretString": value, "VersionId": "7f8e9d0c-1b2a-4c3d-8e9f-0a1b2c3d4e5f"}}}

def token_call(form, response):
    return {"request": {"method": "POST", "host": EBAY, "path": "/identity/v1/oauth2/token",
                        "headers": {"authorization": BASIC, "content-type": "application/x-www-form-urlencoded"},
                        "body": form},
            "response": response}

def app_token():
    return token_call({"grant_type": "client_credentials", "scope": SCOPE_PUBLIC},
                      {"status": 200, "body": {"access_token": APP_TOKEN, "expires_in": 7200, "token_type": "Application Access Token"}})

def oauth_refusal(status, error, description):
    return {"status": status, "body": {"error": error, "error_description": description}}

def ebay_item(**over):
    body = {
        "itemId": ITEM,
        "title": "Fender Stratocaster 1962 Sunburst, original case",
        "itemWebUrl": "https://www.sandbox.ebay.com/itm/110551991234",
        "buyingOptions": ["AUCTION"],
        "itemEndDate": END,
        "currentBidPrice": {"value": "1250.00", "currency": "USD"},
        "minimumPriceToBid": {"value": "1275.00", "currency": "USD"},
        "bidCount": 7,
        "price": {"value": "1250.00", "currency": "USD"},
        "condition": "Used",
        "seller": {"username": "vintage_axes", "feedbackPercentage": "99.8", "feedbackScore": 1532},
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}

def item_call(response):
    return {"request": {"method": "GET", "host": EBAY, "path": ITEM_PATH,
                        "headers": {"authorization": f"Bearer {APP_TOKEN}"}},
            "response": response}

def read_item(**over):
    return [secret(), app_token(), item_call({"status": 200, "body": ebay_item(**over)})]

# ---- bids --------------------------------------------------------------

def bid_record(bid_id=BID_ID, status="SCHEDULED", lead=5, max_value="1500.00", **over):
    bid_at = END_MS - lead * 1000
    fire = (bid_at - 120_000) // 1000 * 1000
    record = {
        "userId": ALICE, "bidId": bid_id, "itemId": ITEM,
        "title": "Fender Stratocaster 1962 Sunburst, original case",
        "itemUrl": "https://www.sandbox.ebay.com/itm/110551991234",
        "marketplaceId": "EBAY_US",
        "maxAmount": {"value": max_value, "currency": "USD"},
        "leadSeconds": lead, "auctionEndTime": END_MS, "status": status,
        "statusKey": f"{status}#{END}#{bid_id}",
        "scheduleName": f"bid-{bid_id}", "fireAt": iso_s(fire),
        "createdAt": "2026-11-22T14:30:00.000Z", "updatedAt": "2026-11-22T14:30:00.000Z",
        "ttl": END_MS // 1000 + 90 * 86400,
    }
    record.update(over)
    return record

def view(record):
    v = {k: val for k, val in record.items() if k not in ("statusKey", "ttl", "executionId", "executingSince", "scheduleName")}
    v["auctionEndsAt"] = iso_ms(record["auctionEndTime"])
    v["bidAt"] = iso_ms(record["auctionEndTime"] - record["leadSeconds"] * 1000)
    return v

def hidden(v):
    """Fields a view must not carry: expected as null (absent)."""
    out = dict(v)
    for k in ("statusKey", "ttl", "scheduleName", "executionId"):
        out[k] = None
    return out

def get_bid(record, sub=ALICE, bid_id=BID_ID):
    body = {} if record is None else {"Item": item(record)}
    return {"request": {"operation": "GetItem", "body": {"TableName": BIDS, "Key": {"userId": {"S": sub}, "bidId": {"S": bid_id}}, "ConsistentRead": True}},
            "response": {"status": 200, "body": body}}

def duplicate_query(items):
    return {"request": {"operation": "Query", "body": {
                "TableName": BIDS, "IndexName": "status-index",
                "KeyConditionExpression": "userId = :user AND begins_with(statusKey, :status)",
                "FilterExpression": "itemId = :item", "ProjectionExpression": "bidId",
                "ExpressionAttributeValues": {":user": {"S": ALICE}, ":status": {"S": "SCHEDULED#"}, ":item": {"S": ITEM}}}},
            "response": {"status": 200, "body": {"Items": [item(i) for i in items], "Count": len(items), "ScannedCount": len(items)}}}

def schedule_body(lead=5, max_value="1500.00"):
    fire = (END_MS - lead * 1000 - 120_000) // 1000 * 1000
    return {
        "GroupName": GROUP,
        "ScheduleExpression": "at(" + iso_s(fire)[:-1] + ")",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "State": "ENABLED",
        "Description": f"Sniper bid {BID_ID}: at most {max_value} USD on eBay item {ITEM}, {lead} s before the auction ends",
        "Target": {
            "Arn": EXECUTOR, "RoleArn": ROLE, "Input": INPUT,
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 120},
            "DeadLetterConfig": {"Arn": DLQ},
        },
    }

SCHEDULE_PATH = f"/schedules/bid-{BID_ID}"
SCHEDULE_ARN = f"arn:aws:scheduler:us-east-1:123456789012:schedule/{GROUP}/bid-{BID_ID}"

def create_schedule(response=None):
    body = schedule_body()
    body["ClientToken"] = BID_ID
    return {"request": {"method": "POST", "host": "scheduler.us-east-1.amazonaws.com", "path": SCHEDULE_PATH, "body": body},
            "response": response or {"status": 200, "body": {"ScheduleArn": SCHEDULE_ARN}}}

def delete_schedule(response=None):
    return {"request": {"method": "DELETE", "path": SCHEDULE_PATH},
            "response": response or {"status": 200, "body": {}}}

def scheduler_error(status, kind, message):
    return {"status": status, "headers": {"x-amzn-errortype": kind}, "body": {"Message": message}}

NEW_BID = {"itemId": "110551991234", "maxAmount": {"value": "1500.00", "currency": "USD"}}
CREATED = bid_record(createdAt=NOW_TEXT, updatedAt=NOW_TEXT)

def bid_event(method, body=None, bid_id=BID_ID, sub=ALICE):
    route = f"{method} /bids/{{bidId}}"
    return event(method, f"/bids/{bid_id}", route, body=body, params={"bidId": bid_id}, sub=sub)

def no_side_effect_refusal(name, about, ebay_over, status, code, message=None, details=None, body=NEW_BID):
    write(name, about, event("POST", "/bids", "POST /bids", body=body),
          [linked_check(LINKED_USER)] + read_item(**ebay_over),
          err(status, code, message, details))

# ---- paging tokens (as handler_support::item::page_token writes them) ----

def token(scope, key):
    text = json.dumps({"key": key, "scope": scope}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

# ---- writing ------------------------------------------------------------

WRITTEN = []

def write(name, about, ev, aws, response, logged=None):
    fixture = {"about": about, "event": ev, "aws": aws, "response": response}
    if logged:
        fixture["logged"] = logged
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(fixture, f, indent=2, ensure_ascii=False)
        f.write("\n")
    WRITTEN.append(name)
