#!/usr/bin/env python3
"""Writes tests/fixtures/*.json: one case of the bid executor each, in the
order the executor makes its calls (DynamoDB, Secrets Manager, KMS, eBay,
Postmark), with AWS's and eBay's documented answer shapes. Edit the cases
here and run it again; the JSON files are what the tests read.

    python3 handlers/sniper-bid-executor/tests/make_fixtures.py
"""

import base64
import json
import pathlib

NOW_S = 1_796_256_000            # 2026-12-03T00:00:00Z, the fixtures' clock
NOW_MS = NOW_S * 1000
END_MS = NOW_MS + 3_000          # the bid's moment (end - 5 s) has just passed
USER = "7f3c2a10-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
BID = "019ae0c4-0000-7000-8000-000000000001"
ITEM = "v1|110551991234|0"
ITEM_PATH = "v1%7C110551991234%7C0"
EBAY = "api.sandbox.ebay.com"
POSTMARK = "api.postmarkapp.com"
EBAY_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ebay-sniper-test/ebay-credentials-AbCdEf"
POSTMARK_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ebay-sniper-test/postmark-GhIjKl"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
EXEC = "fixture-request"


def iso(ms):
    import datetime
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def s(v):
    return {"S": v}


def n(v):
    return {"N": str(v)}


def bid_item(status="SCHEDULED", **extra):
    item = {
        "userId": s(USER), "bidId": s(BID), "itemId": s(ITEM),
        "title": s("Fender Stratocaster 1962"), "itemUrl": s("https://www.ebay.com/itm/110551991234"),
        "marketplaceId": s("EBAY_US"),
        "maxAmount": {"M": {"value": s("250.00"), "currency": s("USD")}},
        "leadSeconds": n(5), "auctionEndTime": n(END_MS), "status": s(status),
        "statusKey": s(f"{status}#{iso(END_MS)}#{BID}"), "scheduleName": s(f"bid-{BID}"),
        "fireAt": s("2026-12-02T23:57:58Z"), "createdAt": s("2026-12-01T10:00:00.000Z"),
        "updatedAt": s("2026-12-01T10:00:00.000Z"), "ttl": n(END_MS // 1000 + 90 * 86400),
    }
    item.update(extra)
    return item


def aws(operation, body, response_body=None, status=200):
    return {"request": {"operation": operation, "body": body},
            "response": {"status": status, "body": response_body if response_body is not None else {}}}


def dynamo_error(operation, error, status=400, body=None):
    return {"request": {"operation": operation, "body": body or {}},
            "response": {"status": status, "body": {"__type": f"com.amazonaws.dynamodb.v20120810#{error}", "message": error}}}


def http(method, host, path, response, body=None, headers=None):
    request = {"method": method, "host": host, "path": path}
    if body is not None:
        request["body"] = body
    if headers is not None:
        request["headers"] = headers
    return {"request": request, "response": response}


def load_bid(status="SCHEDULED", **extra):
    return aws("GetItem", {"TableName": "ebay-sniper-test-Bids", "ConsistentRead": True,
                           "Key": {"userId": s(USER), "bidId": s(BID)}},
               {"Item": bid_item(status, **extra)})


def claim(ok=True):
    body = {"TableName": "ebay-sniper-test-Bids", "ConditionExpression": "#status = :scheduled",
            "ExpressionAttributeValues": {":executing": s("EXECUTING"), ":me": s(EXEC),
                                          ":key": s(f"EXECUTING#{iso(END_MS)}#{BID}")}}
    if ok:
        return aws("UpdateItem", body)
    return dynamo_error("UpdateItem", "ConditionalCheckFailedException", body=body)


def bidder(linked=True, email="sam@example.com", notifications=True):
    item = {"userId": s(USER)}
    if email:
        item["email"] = s(email)
    if not notifications:
        item["emailNotifications"] = {"BOOL": False}
    if linked:
        item["ebayToken"] = s("Y2lwaGVydGV4dC1vZi10aGUtcmVmcmVzaC10b2tlbg==")
    return aws("GetItem", {"TableName": "ebay-sniper-test-Users", "Key": {"userId": s(USER)}}, {"Item": item})


def secret(arn, value):
    return aws("GetSecretValue", {"SecretId": arn},
               {"ARN": arn, "Name": arn.split(":")[-1], "SecretString": json.dumps(value), "VersionId": "v1"})


EBAY_KEYS = secret(EBAY_SECRET, {"app_id": "SniperAp-test-SBX-1a2b3c4d5-6e7f8a9b", "cert_id": "SBX-cert-secret",
                                 "dev_id": "dev-1"})
POSTMARK_KEYS = secret(POSTMARK_SECRET, {"server_token": "postmark-server-token", "from": "bids@sniper.example"})


def decrypt():
    return aws("Decrypt", {"KeyId": KEY, "CiphertextBlob": "Y2lwaGVydGV4dC1vZi10aGUtcmVmcmVzaC10b2tlbg==",
                           "EncryptionContext": {"purpose": "ebay-refresh-token", "userId": USER}},
               {"KeyId": KEY, "Plaintext": base64.b64encode(b"v2|user-refresh-token").decode(), "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})


def user_token(response=None):
    return http("POST", EBAY, "/identity/v1/oauth2/token",
                response or {"status": 200, "body": {"access_token": "v^1.1#user-access", "expires_in": 7200,
                                                     "token_type": "User Access Token"}},
                body={"grant_type": "refresh_token", "refresh_token": "v2|user-refresh-token",
                      "scope": "https://api.ebay.com/oauth/api_scope https://api.ebay.com/oauth/api_scope/buy.offer.auction"},
                headers={"authorization": "Basic " + base64.b64encode(b"SniperAp-test-SBX-1a2b3c4d5-6e7f8a9b:SBX-cert-secret").decode()})


def money(v):
    return {"value": v, "currency": "USD"}


def item(current="180.00", minimum="182.50", bids=4, end=END_MS):
    return http("GET", EBAY, f"/buy/browse/v1/item/{ITEM_PATH}",
                {"status": 200, "body": {"itemId": ITEM, "title": "Fender Stratocaster 1962",
                                         "buyingOptions": ["AUCTION"], "itemEndDate": iso(end),
                                         "currentBidPrice": money(current), "minimumPriceToBid": money(minimum),
                                         "bidCount": bids, "itemWebUrl": "https://www.ebay.com/itm/110551991234"}},
                headers={"authorization": "Bearer v^1.1#user-access"})


def place(response):
    return http("POST", EBAY, f"/buy/offer/v1_beta/bidding/{ITEM_PATH}/place_proxy_bid", response,
                body={"maxAmount": money("250.00")},
                headers={"authorization": "Bearer v^1.1#user-access", "x-ebay-c-marketplace-id": "EBAY_US",
                         "content-type": "application/json"})


PLACED = {"status": 200, "body": {"proxyBidId": "proxy-1"}}


def bidding(high=True, current="182.50", response=None):
    return http("GET", EBAY, f"/buy/offer/v1_beta/bidding/{ITEM_PATH}",
                response or {"status": 200, "body": {
                    "itemId": ITEM, "auctionStatus": "ACTIVE", "auctionEndDate": iso(END_MS), "bidCount": 5,
                    "currentPrice": money(current), "highBidder": high,
                    "currentProxyBid": {"proxyBidId": "proxy-1", "maxAmount": money("250.00")}}},
                headers={"x-ebay-c-marketplace-id": "EBAY_US"})


def ebay_error(status, error_id, message):
    return {"status": status, "body": {"errors": [{"errorId": error_id, "domain": "API_OFFER",
                                                   "category": "REQUEST", "message": message}]}}


def finish(result, **outcome):
    body = {"TableName": "ebay-sniper-test-Bids",
            "ConditionExpression": "#status = :executing AND executionId = :me",
            "ExpressionAttributeValues": {":status": s(result), ":me": s(EXEC),
                                          ":key": s(f"{result}#{iso(END_MS)}#{BID}"),
                                          ":outcome": {"M": {"result": s(result), **outcome}}}}
    return aws("UpdateItem", body)


def history(result):
    return aws("PutItem", {"TableName": "ebay-sniper-test-BidHistory", "ConditionExpression": "attribute_not_exists(userId)",
                           "Item": {"userId": s(USER), "timestamp": n(NOW_MS), "bidId": s(BID), "itemId": s(ITEM),
                                    "result": s(result), "ttl": n(NOW_S + 365 * 86400)}})


def email(response=None, subject_start=None):
    body = {"From": "bids@sniper.example", "To": "sam@example.com", "MessageStream": "outbound",
            "Metadata": {"bidId": BID}}
    return http("POST", POSTMARK, "/email",
                response or {"status": 200, "body": {"To": "sam@example.com", "SubmittedAt": "2026-12-03T00:00:00Z",
                                                     "MessageID": "b7bc2f4a-e38e-4336-af7d-e6c392c2f817",
                                                     "ErrorCode": 0, "Message": "OK"}},
                body=body, headers={"x-postmark-server-token": "postmark-server-token"})


def noted(status):
    return aws("UpdateItem", {"TableName": "ebay-sniper-test-Bids", "ConditionExpression": "executionId = :me",
                              "ExpressionAttributeValues": {":n": {"M": {"status": s(status)}}}})


def recorded(result, mail="SENT", **outcome):
    calls = [finish(result, **outcome), history(result)]
    if mail in ("SENT", "FAILED", "UNCONFIRMED"):
        calls.append(POSTMARK_KEYS)
    return calls


def start(linked=True):
    calls = [load_bid(), claim(), bidder(linked)]
    if linked:
        calls += [EBAY_KEYS, decrypt(), user_token()]
    return calls


EVENT = {"userId": USER, "bidId": BID}

CASES = {
    "placed-and-leading": (
        "the bid is taken once, placed at its moment, leads; recorded, history appended, user mailed",
        start() + [item(), place(PLACED), bidding(high=True)]
        + recorded("PLACED", proxyBidId=s("proxy-1")) + [email(), noted("SENT")],
        {"result": {"result": "PLACED"}, "logged": [{"message": "bid sent", "attempt": 1, "answer": "200"}]},
    ),
    "outbid-at-once": (
        "eBay takes the bid but a rival's maximum is higher: OUTBID, with the price",
        start() + [item(), place(PLACED), bidding(high=False, current="255.00")]
        + recorded("OUTBID", currentPrice={"M": {"value": s("255.00"), "currency": s("USD")}}) + [email(), noted("SENT")],
        {"result": {"result": "OUTBID"}},
    ),
    "price-already-passed": (
        "the least eBay would take is above the maximum: OUTBID without sending a bid",
        start() + [item(current="260.00", minimum="262.50")] + recorded("OUTBID") + [email(), noted("SENT")],
        {"result": {"result": "OUTBID"}},
    ),
    "auction-ended-on-bid": (
        "eBay answers 120012 to the bid: AUCTION_ENDED with eBay's id recorded",
        start() + [item(), place(ebay_error(409, 120012, "The auction has ended."))]
        + recorded("AUCTION_ENDED", ebayError=s("120012")) + [email(), noted("SENT")],
        {"result": {"result": "AUCTION_ENDED"}},
    ),
    "ended-before-the-turn": (
        "Browse shows the auction already over: AUCTION_ENDED without a bid",
        start() + [item(end=NOW_MS - 1000)] + [
            aws("UpdateItem", {"ExpressionAttributeValues": {":status": s("AUCTION_ENDED"), ":end": n(NOW_MS - 1000)}}),
            history("AUCTION_ENDED"), POSTMARK_KEYS, email(), noted("SENT")],
        {"result": {"result": "AUCTION_ENDED"}},
    ),
    "bid-unanswered-but-taken": (
        "the bid's answer is lost (timeout); eBay's record shows our maximum: PLACED, no second bid",
        start() + [item(), place({"timeout": True}), bidding(high=True)]
        + recorded("PLACED") + [email(), noted("SENT")],
        {"result": {"result": "PLACED"}, "logged": [{"message": "bid sent", "answer": "timeout"}]},
    ),
    "bid-unanswered-and-absent": (
        "the bid times out and eBay shows no bid of ours (120033): it is sent again, once",
        start() + [item(), place({"timeout": True}),
                   bidding(response=ebay_error(404, 120033, "There is no bidding activity for this item.")),
                   place(PLACED), bidding(high=True)]
        + recorded("PLACED") + [email(), noted("SENT")],
        {"result": {"result": "PLACED"}, "logged": [{"message": "bid sent", "attempt": 2}]},
    ),
    "bid-rate-limited": (
        "a 429 means eBay did nothing: the bid is sent again after Retry-After",
        start() + [item(), place({"status": 429, "headers": {"Retry-After": "0"},
                                  "body": {"errors": [{"errorId": 2001, "message": "Too many requests."}]}}),
                   place(PLACED), bidding(high=True)]
        + recorded("PLACED") + [email(), noted("SENT")],
        {"result": {"result": "PLACED"}},
    ),
    "bid-token-expired": (
        "eBay answers 401 to the bid: a fresh user token, and the bid again",
        start() + [item(), place({"status": 401, "body": {"errors": [{"errorId": 1001, "message": "Invalid access token"}]}}),
                   user_token(), place(PLACED), bidding(high=True)]
        + recorded("PLACED") + [email(), noted("SENT")],
        {"result": {"result": "PLACED"}},
    ),
    "ebay-fails-every-time": (
        "eBay answers 503 three times and its record shows no bid: FAILED with the reason, user mailed",
        start() + [item()] + [c for _ in range(3) for c in (
            place({"status": 503, "body": {"errors": [{"errorId": 120000, "message": "There was a problem with an eBay internal system or process."}]}}),
            bidding(response=ebay_error(404, 120033, "There is no bidding activity for this item.")))]
        + recorded("FAILED") + [email(), noted("SENT")],
        {"result": {"result": "FAILED"}},
    ),
    "rejected-by-ebay": (
        "eBay refuses the bid for a reason of its own (120032 adult-only consent): REJECTED with the id",
        start() + [item(), place(ebay_error(409, 120032, "You must consent to bid on this adult-only item."))]
        + recorded("REJECTED", ebayError=s("120032")) + [email(), noted("SENT")],
        {"result": {"result": "REJECTED"}},
    ),
    "authorization-revoked": (
        "eBay refuses the user's refresh token (invalid_grant): FAILED, asking to link again; no bid",
        [load_bid(), claim(), bidder(), EBAY_KEYS, decrypt(),
         user_token({"status": 400, "body": {"error": "invalid_grant",
                                             "error_description": "the provided authorization refresh token is invalid or was issued to another client"}})]
        + recorded("FAILED", ebayError=s("invalid_grant")) + [email(), noted("SENT")],
        {"result": {"result": "FAILED"}},
    ),
    "account-not-linked": (
        "the user has no linked eBay account: FAILED without any eBay call, user mailed",
        start(linked=False) + recorded("FAILED") + [email(), noted("SENT")],
        {"result": {"result": "FAILED", "reason": "no eBay account is linked: link it and bid again"}},
    ),
    "already-taken": (
        "a second delivery finds the bid EXECUTING: nothing is done",
        [load_bid("EXECUTING", executionId=s("another-request"))],
        {"result": {"result": "NOT_SCHEDULED", "status": "EXECUTING"}},
    ),
    "taken-meanwhile": (
        "two deliveries at once: the conditional take fails for one, which stops",
        [load_bid(), claim(ok=False)],
        {"result": {"result": "TAKEN_ELSEWHERE"}},
    ),
    "cancelled": (
        "the user cancelled: the schedule fired anyway, nothing is done",
        [load_bid("CANCELLED")],
        {"result": {"result": "NOT_SCHEDULED", "status": "CANCELLED"}},
    ),
    "no-such-bid": (
        "a schedule whose bid was never written: logged, nothing else",
        [aws("GetItem", {"Key": {"userId": s(USER), "bidId": s(BID)}}, {})],
        {"result": {"result": "NO_SUCH_BID"}, "logged": [{"level": "WARN", "message": "no such bid: nothing to do"}]},
    ),
    "mail-rate-limited": (
        "Postmark answers 429 (nothing sent) then 200: the mail is sent once",
        start() + [item(), place(PLACED), bidding(high=True)] + recorded("PLACED")
        + [email({"status": 429, "body": {"ErrorCode": 429, "Message": "Rate limit exceeded"}}), email(), noted("SENT")],
        {"result": {"result": "PLACED"}},
    ),
    "mail-refused": (
        "Postmark refuses the token (401): not retried; FAILED recorded on the bid and logged",
        start() + [item(), place(PLACED), bidding(high=True)] + recorded("PLACED")
        + [email({"status": 401, "body": {"ErrorCode": 10, "Message": "Bad or missing Server API token."}}), noted("FAILED")],
        {"result": {"result": "PLACED"}, "logged": [{"level": "ERROR", "message": "outcome e-mail not sent"}]},
    ),
    "mail-unanswered": (
        "Postmark does not answer: not retried (it may have sent it); UNCONFIRMED recorded",
        start() + [item(), place(PLACED), bidding(high=True)] + recorded("PLACED")
        + [email({"timeout": True}), noted("UNCONFIRMED")],
        {"result": {"result": "PLACED"}},
    ),
    "mails-off": (
        "the user turned e-mails off: SKIPPED, no Postmark call",
        [load_bid(), claim(), bidder(notifications=False), EBAY_KEYS, decrypt(), user_token(),
         item(), place(PLACED), bidding(high=True), finish("PLACED"), history("PLACED"), noted("SKIPPED")],
        {"result": {"result": "PLACED"}},
    ),
    "outcome-not-recorded": (
        "DynamoDB fails the outcome's write: the invocation fails and the whole outcome is logged at ERROR",
        start() + [item(), place(PLACED), bidding(high=True),
                   dynamo_error("UpdateItem", "InternalServerError", status=500), history("PLACED"),
                   POSTMARK_KEYS, email(), noted("SENT")],
        {"failure": {"errorType": "HandlerFailed", "errorMessage": "recording the outcome on the bid failed"},
         "logged": [{"level": "ERROR", "message": "outcome not recorded", "outcome": {"result": "PLACED"}}]},
    ),
    "unreadable-input": (
        "an input that names no bid fails the invocation without any call",
        [],
        {"failure": {"errorType": "UnreadableEvent"}},
    ),
}


def main():
    out = pathlib.Path(__file__).parent / "fixtures"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    for name, (about, calls, expected) in CASES.items():
        event = {"bidId": BID} if name == "unreadable-input" else EVENT
        fixture = {"about": about, "event": event, "aws": calls, **expected}
        (out / f"{name}.json").write_text(json.dumps(fixture, indent=2) + "\n")
    print(f"{len(CASES)} fixtures written to {out}")


if __name__ == "__main__":
    main()
