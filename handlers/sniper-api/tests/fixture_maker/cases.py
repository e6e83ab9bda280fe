#!/usr/bin/env python3
import sys, os, glob, json
sys.path.insert(0, os.path.dirname(__file__))
from gen import *

for old in glob.glob(os.path.join(OUT, "*.json")):
    os.remove(old)

# ---------------------------------------------------------------- profile
write("profile-get", "the profile is the Users item without its encrypted eBay token",
      event("GET", "/profile", "GET /profile"),
      [get_user(LINKED_USER)],
      ok({"userId": ALICE, "email": "alice.bids@example.com", "name": "Alice Liddell",
          "emailNotifications": False, "createdAt": "2026-11-01T08:00:00.000Z",
          "updatedAt": "2026-11-20T09:12:44.512Z", "ebayLinked": True,
          "ebayLinkedAt": LINKED_AT, "ebayTokenExpiresAt": REFRESH_EXPIRES, "ebayToken": None}))

write("profile-get-defaults", "no Users item yet: the token's e-mail, notifications on, nothing linked, and nothing written",
      event("GET", "/profile", "GET /profile"),
      [get_user(None)],
      ok({"userId": ALICE, "email": ALICE_EMAIL, "emailNotifications": True, "ebayLinked": False,
          "name": None, "createdAt": None, "ebayLinkedAt": None}))

profile_after = {"userId": ALICE, "email": ALICE_EMAIL, "name": "Alice Liddell", "emailNotifications": False,
                 "createdAt": NOW_TEXT, "updatedAt": NOW_TEXT}
write("profile-update", "a profile change creates the item on first write: createdAt and the token's e-mail only if absent",
      event("PUT", "/profile", "PUT /profile", body={"name": "  Alice Liddell ", "emailNotifications": False}),
      [{"request": {"operation": "UpdateItem", "body": {
          "TableName": USERS, "Key": {"userId": {"S": ALICE}},
          "UpdateExpression": "SET #name = :name, #emailNotifications = :emailNotifications, #updatedAt = :updatedAt, #createdAt = if_not_exists(#createdAt, :createdAt), #email = if_not_exists(#email, :email)",
          "ExpressionAttributeNames": {"#name": "name", "#emailNotifications": "emailNotifications", "#updatedAt": "updatedAt", "#createdAt": "createdAt", "#email": "email"},
          "ExpressionAttributeValues": {":name": {"S": "Alice Liddell"}, ":emailNotifications": {"BOOL": False},
                                        ":updatedAt": {"S": NOW_TEXT}, ":createdAt": {"S": NOW_TEXT}, ":email": {"S": ALICE_EMAIL}},
          "ReturnValues": "ALL_NEW"}},
        "response": {"status": 200, "body": {"Attributes": item(profile_after)}}}],
      ok(dict(profile_after, ebayLinked=False)))

write("profile-update-invalid", "every problem at once, unknown fields refused, nothing written",
      event("PUT", "/profile", "PUT /profile", body={"name": "", "email": "alice(at)example", "emailNotifications": "yes", "nickname": "al"}),
      [],
      err(400, "VALIDATION_ERROR", details=[
          {"field": "nickname", "message": "is not a field of a profile (its fields: name, email, emailNotifications)"},
          {"field": "name", "message": "must be 1 to 100 characters"},
          {"field": "email", "message": "must be an e-mail address, such as ada@example.com"},
          {"field": "emailNotifications", "message": "must be true or false"}]))

write("profile-update-nothing", "a change must change something",
      event("PUT", "/profile", "PUT /profile", body={}),
      [],
      err(400, "VALIDATION_ERROR", "body must change at least one of name, email, emailNotifications"))

# ------------------------------------------------------------ eBay account
def encrypt(token_text):
    return {"request": {"operation": "Encrypt", "body": {
                "KeyId": KEY, "Plaintext": base64.b64encode(token_text.encode()).decode(),
                "EncryptionContext": {"purpose": "ebay-refresh-token", "userId": ALICE}}},
            "response": {"status": 200, "body": {"CiphertextBlob": CIPHERTEXT, "KeyId": KEY, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}}}

EXPIRES_MS = NOW_MS + 47_304_000 * 1000
linked_item = {"userId": ALICE, "email": ALICE_EMAIL, "createdAt": NOW_TEXT, "updatedAt": NOW_TEXT,
               "ebayToken": CIPHERTEXT, "ebayLinkedAt": NOW_TEXT, "ebayTokenExpiresAt": iso_ms(EXPIRES_MS)}
code_form = {"grant_type": "authorization_code", "code": AUTH_CODE, "redirect_uri": RU_NAME}
write("link-by-code", "an authorization code is exchanged for the refresh token, which is encrypted under the user's context and stored with its expiry",
      event("PUT", "/ebay-account", "PUT /ebay-account", body={"authorizationCode": AUTH_CODE}),
      [secret(),
       token_call(code_form, {"status": 200, "body": {"access_token": "v^1.1#i^1#user-access", "expires_in": 7200,
                                                       "refresh_token": REFRESH, "refresh_token_expires_in": 47304000,
                                                       "token_type": "User Access Token"}}),
       encrypt(REFRESH),
       {"request": {"operation": "UpdateItem", "body": {
           "TableName": USERS, "Key": {"userId": {"S": ALICE}},
           "UpdateExpression": "SET #ebayToken = :ebayToken, #ebayLinkedAt = :ebayLinkedAt, #ebayTokenExpiresAt = :ebayTokenExpiresAt, #updatedAt = :updatedAt, #createdAt = if_not_exists(#createdAt, :createdAt), #email = if_not_exists(#email, :email)",
           "ExpressionAttributeValues": {":ebayToken": {"S": CIPHERTEXT}, ":ebayLinkedAt": {"S": NOW_TEXT},
                                         ":ebayTokenExpiresAt": {"S": iso_ms(EXPIRES_MS)}, ":updatedAt": {"S": NOW_TEXT},
                                         ":createdAt": {"S": NOW_TEXT}, ":email": {"S": ALICE_EMAIL}},
           "ReturnValues": "ALL_NEW"}},
        "response": {"status": 200, "body": {"Attributes": item(linked_item)}}}],
      ok({"ebayLinked": True, "ebayLinkedAt": NOW_TEXT, "ebayTokenExpiresAt": iso_ms(EXPIRES_MS), "ebayToken": None}),
      logged=[{"level": "INFO", "message": "ebay account linked", "userId": ALICE, "via": "authorizationCode"}])

refresh_form = {"grant_type": "refresh_token", "refresh_token": REFRESH, "scope": f"{SCOPE_PUBLIC} {SCOPE_BIDDING}"}
linked_by_refresh = dict(linked_item)
del linked_by_refresh["ebayTokenExpiresAt"]
write("link-by-refresh-token", "a refresh token is proved by refreshing it with the bidding scope; an earlier link's expiry is removed",
      event("PUT", "/ebay-account", "PUT /ebay-account", body={"refreshToken": REFRESH}),
      [secret(),
       token_call(refresh_form, {"status": 200, "body": {"access_token": "v^1.1#i^1#user-access", "expires_in": 7200, "token_type": "User Access Token"}}),
       encrypt(REFRESH),
       {"request": {"operation": "UpdateItem", "body": {
           "TableName": USERS, "Key": {"userId": {"S": ALICE}},
           "UpdateExpression": "SET #ebayToken = :ebayToken, #ebayLinkedAt = :ebayLinkedAt, #updatedAt = :updatedAt, #createdAt = if_not_exists(#createdAt, :createdAt), #email = if_not_exists(#email, :email) REMOVE #ebayTokenExpiresAt",
           "ExpressionAttributeNames": {"#ebayToken": "ebayToken", "#ebayLinkedAt": "ebayLinkedAt", "#ebayTokenExpiresAt": "ebayTokenExpiresAt",
                                        "#updatedAt": "updatedAt", "#createdAt": "createdAt", "#email": "email"},
           "ReturnValues": "ALL_NEW"}},
        "response": {"status": 200, "body": {"Attributes": item(linked_by_refresh)}}}],
      ok({"ebayLinked": True, "ebayLinkedAt": NOW_TEXT, "ebayTokenExpiresAt": None}))

def link_refused(name, about, body, form, answer, response, logged=None):
    write(name, about, event("PUT", "/ebay-account", "PUT /ebay-account", body=body),
          [secret(), token_call(form, answer)], response, logged)

link_refused("link-code-invalid-grant", "eBay refusing the code: 422 with eBay's error name, nothing stored",
             {"authorizationCode": AUTH_CODE}, code_form,
             oauth_refusal(400, "invalid_grant", "the provided authorization grant code is invalid or was issued to another client"),
             err(422, "EBAY_LINK_REFUSED", "eBay refused to link the account (invalid_grant); start again from eBay's consent page",
                 {"ebayError": "invalid_grant"}))
link_refused("link-refresh-invalid-scope", "a refresh token without the bidding scope is refused: 422 invalid_scope",
             {"refreshToken": REFRESH}, refresh_form,
             oauth_refusal(400, "invalid_scope", "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client"),
             err(422, "EBAY_LINK_REFUSED", details={"ebayError": "invalid_scope"}))
link_refused("link-ebay-rate-limited", "eBay limiting calls: 429, nothing stored",
             {"refreshToken": REFRESH}, refresh_form,
             {"status": 429, "headers": {"retry-after": "3"}, "body": {"errors": [{"errorId": 2001, "message": "Too many requests"}]}},
             err(429, "TOO_MANY_REQUESTS"))
link_refused("link-ebay-no-answer", "eBay not answering: 502, nothing stored (a code is single-use: not repeated)",
             {"authorizationCode": AUTH_CODE}, code_form, {"timeout": True},
             err(502, "EBAY_UNAVAILABLE"))
link_refused("link-ebay-failing", "eBay failing (5xx): 502",
             {"refreshToken": REFRESH}, refresh_form, {"status": 503, "body": "Service Unavailable"},
             err(502, "EBAY_UNAVAILABLE"))
link_refused("link-keyset-rejected", "eBay rejecting our app keys (invalid_client) is ours: 500, and an ERROR line names the secret",
             {"authorizationCode": AUTH_CODE}, code_form,
             oauth_refusal(401, "invalid_client", "client authentication failed"),
             err(500, "INTERNAL_ERROR", "Internal server error"),
             [{"level": "ERROR", "secretArn": SECRET},
              {"level": "ERROR", "message": "request failed", "code": "INTERNAL_ERROR"}])

write("link-token-too-long", "a refresh token longer than KMS encrypts (4096 bytes) is refused before any call",
      event("PUT", "/ebay-account", "PUT /ebay-account", body={"refreshToken": "v^1.1#" + "A" * 4091}),
      [],
      err(400, "VALIDATION_ERROR", "refreshToken must be at most 4096 bytes (the most KMS encrypts)"))

write("link-both-given", "a code and a token at once is ambiguous: refused",
      event("PUT", "/ebay-account", "PUT /ebay-account", body={"authorizationCode": AUTH_CODE, "refreshToken": REFRESH}),
      [],
      err(400, "VALIDATION_ERROR", "body must give either authorizationCode or refreshToken, not both"))

write("ebay-account-get", "whether an account is linked, since when, until when; never the token",
      event("GET", "/ebay-account", "GET /ebay-account"),
      [get_user(LINKED_USER)],
      ok({"ebayLinked": True, "ebayLinkedAt": LINKED_AT, "ebayTokenExpiresAt": REFRESH_EXPIRES, "ebayToken": None, "email": None}))

def unlink_call(response):
    return {"request": {"operation": "UpdateItem", "body": {
                "TableName": USERS, "Key": {"userId": {"S": ALICE}},
                "UpdateExpression": "SET #updatedAt = :updatedAt REMOVE #ebayToken, #ebayLinkedAt, #ebayTokenExpiresAt",
                "ConditionExpression": "attribute_exists(#ebayToken)",
                "ExpressionAttributeValues": {":updatedAt": {"S": NOW_TEXT}}}},
            "response": response}

def count_call(count):
    return {"request": {"operation": "Query", "body": {
                "TableName": BIDS, "IndexName": "status-index", "Select": "COUNT",
                "KeyConditionExpression": "userId = :user AND begins_with(statusKey, :status)",
                "ExpressionAttributeValues": {":user": {"S": ALICE}, ":status": {"S": "SCHEDULED#"}}}},
            "response": {"status": 200, "body": {"Count": count, "ScannedCount": count}}}

write("ebay-account-unlink", "unlinking removes the token and answers how many scheduled bids will now fail",
      event("DELETE", "/ebay-account", "DELETE /ebay-account"),
      [unlink_call({"status": 200, "body": {}}), count_call(2)],
      ok({"ebayLinked": False, "scheduledBids": 2}),
      [{"level": "INFO", "message": "ebay account unlinked", "userId": ALICE}])

write("ebay-account-unlink-again", "unlinking an account that is not linked changes nothing and answers the same",
      event("DELETE", "/ebay-account", "DELETE /ebay-account"),
      [unlink_call(ddb_error("ConditionalCheckFailedException", "The conditional request failed")), count_call(0)],
      ok({"ebayLinked": False, "scheduledBids": 0}))

# -------------------------------------------------------------- POST /bids
put_body = {"TableName": BIDS, "Item": item(CREATED), "ConditionExpression": "attribute_not_exists(bidId)"}
write("bid-create", "a bid: linked account, the item on eBay, no duplicate; then the schedule (at() two minutes before the bid moment, UTC, no window, deleted after firing, retried briefly, dead-lettered), then the item",
      event("POST", "/bids", "POST /bids", body={"itemId": "110551991234", "maxAmount": {"value": "1500.00", "currency": "USD"}, "leadSeconds": 5, "marketplaceId": "EBAY_US"}),
      [linked_check(LINKED_USER)] + read_item() + [duplicate_query([]), create_schedule(),
       {"request": {"operation": "PutItem", "body": put_body}, "response": {"status": 200, "body": {}}}],
      ok(hidden(view(CREATED)), 201),
      [{"level": "INFO", "message": "bid scheduled", "bidId": BID_ID, "fireAt": "2026-11-25T17:57:55Z"}])

write("bid-create-not-linked", "no linked eBay account: 409 before anything else",
      event("POST", "/bids", "POST /bids", body=NEW_BID),
      [linked_check(None)],
      err(409, "EBAY_NOT_LINKED"))

write("bid-create-item-not-found", "eBay has no such item: 404 ITEM_NOT_FOUND, nothing scheduled",
      event("POST", "/bids", "POST /bids", body=NEW_BID),
      [linked_check(LINKED_USER), secret(), app_token(),
       item_call({"status": 404, "body": {"errors": [{"errorId": 11001, "domain": "API_BROWSE", "category": "REQUEST", "message": "The specified item Id was not found."}]}})],
      err(404, "ITEM_NOT_FOUND", "eBay has no item v1|110551991234|0"))

no_side_effect_refusal("bid-create-not-an-auction", "a fixed-price item has nothing to bid on: 422",
                       {"buyingOptions": ["FIXED_PRICE", "BEST_OFFER"], "currentBidPrice": None, "minimumPriceToBid": None, "bidCount": None},
                       422, "NOT_AN_AUCTION")
no_side_effect_refusal("bid-create-auction-ended", "an auction that has ended: 422",
                       {"itemEndDate": "2026-11-23T03:00:00.000Z"},
                       422, "AUCTION_ENDED", details={"auctionEndsAt": "2026-11-23T03:00:00.000Z"})
soon = iso_ms(NOW_MS + 184_000)
no_side_effect_refusal("bid-create-too-soon", "the schedule would fire less than a minute from now: 422 with the longest lead time that still works",
                       {"itemEndDate": soon},
                       422, "AUCTION_ENDS_TOO_SOON",
                       f"The auction ends at {soon}: too soon to schedule a bid 5 s before it; a lead time of at most 4 s would still work",
                       {"auctionEndsAt": soon, "maxLeadSeconds": 4})
no_side_effect_refusal("bid-create-amount-too-low", "a maximum not above the current price once someone bid: 422 with the price and eBay's minimum",
                       {}, 422, "AMOUNT_TOO_LOW",
                       "A maximum of 1250.00 USD cannot win: it must be above the current price of 1250.00 USD and at least eBay's minimum bid of 1275.00 USD",
                       {"currentPrice": {"value": "1250.00", "currency": "USD"}, "minimumToBid": {"value": "1275.00", "currency": "USD"}},
                       body={"itemId": ITEM, "maxAmount": {"value": "1250", "currency": "USD"}})
no_side_effect_refusal("bid-create-currency-mismatch", "a maximum in another currency than the item's: 422",
                       {}, 422, "CURRENCY_MISMATCH", details={"itemCurrency": "USD"},
                       body={"itemId": ITEM, "maxAmount": {"value": "1500.00", "currency": "EUR"}})

write("bid-create-duplicate", "a scheduled bid on the item already: 409 naming it, nothing scheduled",
      event("POST", "/bids", "POST /bids", body=NEW_BID),
      [linked_check(LINKED_USER)] + read_item() + [duplicate_query([{"bidId": OTHER_BID}])],
      err(409, "DUPLICATE_BID", details={"bidId": OTHER_BID}))

write("bid-create-invalid", "every problem of the body at once; no call made",
      event("POST", "/bids", "POST /bids", body={"itemId": "v2|1|0", "maxAmount": {"value": 25.5, "currency": "USD"}, "leadSeconds": 0, "marketplaceId": "EBAY_XX", "note": "snipe it"}),
      [],
      err(400, "VALIDATION_ERROR", details=[
          {"field": "note", "message": "is not a field of a bid (its fields: itemId, maxAmount, leadSeconds, marketplaceId)"},
          {"field": "itemId", "message": "must be an eBay item id: v1|<number>|0 or the number itself"},
          {"field": "maxAmount", "message": "must be {\"value\": \"25.50\", \"currency\": \"USD\"} (the value a string)"},
          {"field": "leadSeconds", "message": "must be between 1 and 60"},
          {"field": "marketplaceId", "message": "must be one of EBAY_AU, EBAY_CA, EBAY_DE, EBAY_ES, EBAY_FR, EBAY_GB, EBAY_IT, EBAY_US"}]))

write("bid-create-ebay-unavailable", "eBay failing twice (the read is repeated once): 502, nothing scheduled",
      event("POST", "/bids", "POST /bids", body=NEW_BID),
      [linked_check(LINKED_USER), secret(), app_token(),
       item_call({"status": 503, "body": "Service Unavailable"}),
       item_call({"status": 503, "body": "Service Unavailable"})],
      err(502, "EBAY_UNAVAILABLE"),
      [{"level": "WARN", "message": "reading the item from eBay failed; trying once more", "reason": "503"}])

write("bid-create-ebay-retry-succeeds", "eBay not answering once: the read is repeated (the app token is reused) and the bid goes on",
      event("POST", "/bids", "POST /bids", body=NEW_BID),
      [linked_check(LINKED_USER), secret(), app_token(), item_call({"timeout": True}),
       item_call({"status": 200, "body": ebay_item()}),
       duplicate_query([]), create_schedule(),
       {"request": {"operation": "PutItem", "body": put_body}, "response": {"status": 200, "body": {}}}],
      ok({"bidId": BID_ID, "status": "SCHEDULED"}, 201))

write("bid-create-ebay-rate-limited", "eBay limiting calls: 429 at once (not repeated), nothing scheduled",
      event("POST", "/bids", "POST /bids", body=NEW_BID),
      [linked_check(LINKED_USER), secret(), app_token(),
       item_call({"status": 429, "headers": {"retry-after": "2"}, "body": {"errors": [{"errorId": 2001, "message": "Too many requests"}]}})],
      err(429, "TOO_MANY_REQUESTS"))

write("bid-create-store-fails", "the bid item cannot be stored after the schedule was created: the schedule is deleted and the failure answered",
      event("POST", "/bids", "POST /bids", body=NEW_BID),
      [linked_check(LINKED_USER)] + read_item() + [duplicate_query([]), create_schedule(),
       {"request": {"operation": "PutItem", "body": {"TableName": BIDS}},
        "response": {"status": 500, "body": {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "Internal server error"}}},
       delete_schedule()],
      err(500, "INTERNAL_ERROR", "Internal server error"),
      [{"level": "ERROR", "message": "request failed", "code": "INTERNAL_ERROR"}])

write("bid-create-schedule-throttled", "Scheduler limiting calls: 429, and no bid item is written",
      event("POST", "/bids", "POST /bids", body=NEW_BID),
      [linked_check(LINKED_USER)] + read_item() + [duplicate_query([]),
       create_schedule(scheduler_error(429, "ThrottlingException", "Rate exceeded"))],
      err(429, "TOO_MANY_REQUESTS"))

# --------------------------------------------------------------- GET /bids
later_end = "2026-11-27T21:30:00.000Z"
second = bid_record(bid_id=OTHER_BID, auctionEndTime=ms_of(later_end), statusKey=f"SCHEDULED#{later_end}#{OTHER_BID}",
                    itemId="v1|110551995678|0", title="Gibson Les Paul Standard 1959 reissue")
first = bid_record()
start_key = {"userId": {"S": ALICE}, "bidId": {"S": "01a1e000-0000-7000-8000-000000000000"},
             "statusKey": {"S": "SCHEDULED#2026-11-24T12:00:00.000Z#01a1e000-0000-7000-8000-000000000000"}}
page_in = token(f"bids:{ALICE}:SCHEDULED", start_key)
write("bids-list-by-status", "SCHEDULED bids soonest ending first, from a page token of this query; the next page's token is given",
      event("GET", "/bids", "GET /bids", query={"status": "SCHEDULED", "limit": "2", "nextToken": page_in}),
      [{"request": {"operation": "Query", "body": {
          "TableName": BIDS, "IndexName": "status-index",
          "KeyConditionExpression": "userId = :user AND begins_with(statusKey, :status)",
          "ExpressionAttributeValues": {":user": {"S": ALICE}, ":status": {"S": "SCHEDULED#"}},
          "ScanIndexForward": True, "Limit": 2, "ExclusiveStartKey": start_key}},
        "response": {"status": 200, "body": {"Items": [item(first), item(second)], "Count": 2, "ScannedCount": 2,
                                             "LastEvaluatedKey": {"userId": {"S": ALICE}, "bidId": {"S": OTHER_BID}, "statusKey": {"S": second["statusKey"]}}}}}],
      ok({"bids": [hidden(view(first)), hidden(view(second))]}))

write("bids-list-token-of-another-query", "a token from the list of all bids replayed on the SCHEDULED list is refused: 400, no call",
      event("GET", "/bids", "GET /bids", query={"status": "SCHEDULED", "nextToken": token(f"bids:{ALICE}:all", {"userId": {"S": ALICE}, "bidId": {"S": BID_ID}})}),
      [],
      err(400, "VALIDATION_ERROR", "nextToken is not a token this query returned"))

placed = bid_record(bid_id=OTHER_BID, status="PLACED", statusKey=f"PLACED#{END}#{OTHER_BID}",
                    outcome={"result": "PLACED", "proxyBidId": "5019384756", "currentPrice": {"value": "1300.00", "currency": "USD"}})
write("bids-list-all", "without a status: every bid, newest first (bid ids are UUID v7), 25 a page; the last page has no token",
      event("GET", "/bids", "GET /bids"),
      [{"request": {"operation": "Query", "body": {
          "TableName": BIDS, "KeyConditionExpression": "userId = :user",
          "ExpressionAttributeValues": {":user": {"S": ALICE}}, "ScanIndexForward": False, "Limit": 25, "IndexName": None}},
        "response": {"status": 200, "body": {"Items": [item(first), item(placed)], "Count": 2, "ScannedCount": 2}}}],
      ok({"bids": [hidden(view(first)), hidden(view(placed))], "nextToken": None}))

write("bids-list-bad-status", "an unknown status is refused naming the known ones",
      event("GET", "/bids", "GET /bids", query={"status": "WON"}),
      [],
      err(400, "VALIDATION_ERROR", "status must be one of SCHEDULED, EXECUTING, PLACED, OUTBID, AUCTION_ENDED, REJECTED, FAILED, CANCELLED"))

# ------------------------------------------------------- GET /bids/{bidId}
write("bid-get", "one bid as the API shows it (no index key, TTL or schedule name)",
      bid_event("GET"),
      [get_bid(first)],
      ok(hidden(view(first))))

write("bid-get-other-user", "another user's bid id: the key holds the caller's sub, so it is simply not found",
      bid_event("GET", sub=BOB),
      [get_bid(None, sub=BOB)],
      err(404, "NOT_FOUND", "Bid not found"))

write("bid-get-malformed-id", "an id that is no bid id names no bid: 404 without a call",
      event("GET", "/bids/..%2Fprofile", "GET /bids/{bidId}", params={"bidId": "../profile"}),
      [],
      err(404, "NOT_FOUND"))

# ------------------------------------------------------- PUT /bids/{bidId}
def bid_update(expression, values, names, answer):
    values = dict(values, **{":scheduled": {"S": "SCHEDULED"}, ":updatedAt": {"S": NOW_TEXT}})
    names = dict(names, **{"#status": "status", "#updatedAt": "updatedAt"})
    return {"request": {"operation": "UpdateItem", "body": {
                "TableName": BIDS, "Key": {"userId": {"S": ALICE}, "bidId": {"S": BID_ID}},
                "UpdateExpression": expression, "ConditionExpression": "#status = :scheduled",
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
                "ReturnValues": "ALL_NEW", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            "response": answer}

raised = bid_record(max_value="1600.00", updatedAt=NOW_TEXT)
write("bid-update-amount", "a new maximum is checked against the item as eBay shows it now; the schedule stays",
      bid_event("PUT", {"maxAmount": {"value": "1600", "currency": "USD"}}),
      [get_bid(first)] + read_item(currentBidPrice={"value": "1325.00", "currency": "USD"}, minimumPriceToBid={"value": "1350.00", "currency": "USD"}, bidCount=9) +
      [bid_update("SET #maxAmount = :maxAmount, #updatedAt = :updatedAt",
                  {":maxAmount": {"M": {"value": {"S": "1600.00"}, "currency": {"S": "USD"}}}}, {"#maxAmount": "maxAmount"},
                  {"status": 200, "body": {"Attributes": item(raised)}})],
      ok(hidden(view(raised))))

moved = bid_record(lead=10, updatedAt=NOW_TEXT)
update_schedule_body = schedule_body(lead=10)
write("bid-update-lead", "a new lead time moves the schedule (UpdateSchedule with the whole definition), then the item",
      bid_event("PUT", {"leadSeconds": 10}),
      [get_bid(first),
       {"request": {"method": "PUT", "host": "scheduler.us-east-1.amazonaws.com", "path": SCHEDULE_PATH, "body": update_schedule_body},
        "response": {"status": 200, "body": {"ScheduleArn": SCHEDULE_ARN}}},
       bid_update("SET #leadSeconds = :leadSeconds, #fireAt = :fireAt, #updatedAt = :updatedAt",
                  {":leadSeconds": {"N": "10"}, ":fireAt": {"S": "2026-11-25T17:57:50Z"}},
                  {"#leadSeconds": "leadSeconds", "#fireAt": "fireAt"},
                  {"status": 200, "body": {"Attributes": item(moved)}})],
      ok(dict(hidden(view(moved)), leadSeconds=10, bidAt="2026-11-25T17:59:50.000Z", fireAt="2026-11-25T17:57:50Z")))

write("bid-update-placed", "a bid that has run cannot change: 409 with its status, no call to eBay or Scheduler",
      bid_event("PUT", {"maxAmount": {"value": "1600.00", "currency": "USD"}}),
      [get_bid(placed | {"bidId": BID_ID})],
      err(409, "BID_NOT_EDITABLE", "The bid is PLACED: only a SCHEDULED bid can change", {"status": "PLACED"}))

write("bid-update-taken-meanwhile", "the executor took the bid between the read and the write: 409 with the status it found, logged since the schedule had moved",
      bid_event("PUT", {"leadSeconds": 10}),
      [get_bid(first),
       {"request": {"method": "PUT", "path": SCHEDULE_PATH}, "response": {"status": 200, "body": {"ScheduleArn": SCHEDULE_ARN}}},
       bid_update("SET #leadSeconds = :leadSeconds, #fireAt = :fireAt, #updatedAt = :updatedAt",
                  {":leadSeconds": {"N": "10"}, ":fireAt": {"S": "2026-11-25T17:57:50Z"}},
                  {"#leadSeconds": "leadSeconds", "#fireAt": "fireAt"},
                  {"status": 400, "body": {"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                                           "message": "The conditional request failed",
                                           "Item": item(bid_record(status="EXECUTING", statusKey=f"EXECUTING#{END}#{BID_ID}"))}})],
      err(409, "BID_NOT_EDITABLE", details={"status": "EXECUTING"}),
      [{"level": "WARN", "message": "the schedule moved but the bid had been taken meanwhile", "bidId": BID_ID}])

# ---------------------------------------------------- DELETE /bids/{bidId}
cancelled = bid_record(status="CANCELLED", statusKey=f"CANCELLED#{END}#{BID_ID}", updatedAt=NOW_TEXT)
write("bid-cancel", "cancelling marks the bid CANCELLED (only while SCHEDULED), then deletes its schedule",
      bid_event("DELETE"),
      [get_bid(first),
       {"request": {"operation": "UpdateItem", "body": {
           "TableName": BIDS, "Key": {"userId": {"S": ALICE}, "bidId": {"S": BID_ID}},
           "UpdateExpression": "SET #status = :status, #statusKey = :statusKey, #updatedAt = :updatedAt",
           "ConditionExpression": "#status = :scheduled",
           "ExpressionAttributeValues": {":status": {"S": "CANCELLED"}, ":statusKey": {"S": f"CANCELLED#{END}#{BID_ID}"},
                                         ":updatedAt": {"S": NOW_TEXT}, ":scheduled": {"S": "SCHEDULED"}},
           "ReturnValues": "ALL_NEW"}},
        "response": {"status": 200, "body": {"Attributes": item(cancelled)}}},
       delete_schedule()],
      ok(hidden(view(cancelled))))

write("bid-cancel-again", "cancelling a cancelled bid answers it again and deletes its schedule again (already gone is fine)",
      bid_event("DELETE"),
      [get_bid(cancelled),
       delete_schedule(scheduler_error(404, "ResourceNotFoundException", f"Schedule bid-{BID_ID} does not exist."))],
      ok({"bidId": BID_ID, "status": "CANCELLED"}))

write("bid-cancel-executing", "a bid being placed cannot be cancelled: 409, nothing changed",
      bid_event("DELETE"),
      [get_bid(bid_record(status="EXECUTING", statusKey=f"EXECUTING#{END}#{BID_ID}", executionId="c0ffee00-1111-2222-3333-444455556666"))],
      err(409, "BID_NOT_EDITABLE", details={"status": "EXECUTING"}))

write("bid-cancel-unknown", "cancelling a bid that does not exist: 404",
      bid_event("DELETE"),
      [get_bid(None)],
      err(404, "NOT_FOUND"))

# ------------------------------------------------------------ GET /history
def history_item(ms, result, bid_id=BID_ID, **extra):
    entry = {"userId": ALICE, "timestamp": ms, "at": iso_ms(ms), "bidId": bid_id, "itemId": ITEM,
             "title": "Fender Stratocaster 1962 Sunburst, original case",
             "maxAmount": {"value": "1500.00", "currency": "USD"}, "leadSeconds": 5,
             "result": result, "ttl": ms // 1000 + 365 * 86400}
    entry.update(extra)
    return entry

h1 = history_item(1_795_380_000_123, "PLACED", proxyBidId="5019384756")
h2 = history_item(1_795_300_000_456, "OUTBID", bid_id=OTHER_BID, itemId="v1|110551995678|0")
def entry_view(h):
    out = dict(h)
    out["ttl"] = None
    return out

write("history-page", "the history newest first, without the entries' TTL; a full page gives a token",
      event("GET", "/history", "GET /history", query={"limit": "2"}),
      [{"request": {"operation": "Query", "body": {
          "TableName": HISTORY, "KeyConditionExpression": "userId = :user",
          "ExpressionAttributeValues": {":user": {"S": ALICE}}, "ScanIndexForward": False, "Limit": 2}},
        "response": {"status": 200, "body": {"Items": [item(h1), item(h2)], "Count": 2, "ScannedCount": 2,
                                             "LastEvaluatedKey": {"userId": {"S": ALICE}, "timestamp": {"N": str(h2["timestamp"])}}}}}],
      ok({"entries": [entry_view(h1), entry_view(h2)]}))

h3 = history_item(1_795_200_000_789, "SCHEDULED")
history_start = {"userId": {"S": ALICE}, "timestamp": {"N": "1795390000000"}}
write("history-by-bid", "one bid's entries: pages are followed (never reading more than the page still needs) until it is full",
      event("GET", "/history", "GET /history", query={"bidId": BID_ID, "limit": "2", "nextToken": token(f"history:{ALICE}", history_start)}),
      [{"request": {"operation": "Query", "body": {
          "TableName": HISTORY, "FilterExpression": "bidId = :bid", "Limit": 2, "ExclusiveStartKey": history_start,
          "ExpressionAttributeValues": {":user": {"S": ALICE}, ":bid": {"S": BID_ID}}, "ScanIndexForward": False}},
        "response": {"status": 200, "body": {"Items": [item(h1)], "Count": 1, "ScannedCount": 2,
                                             "LastEvaluatedKey": {"userId": {"S": ALICE}, "timestamp": {"N": str(h2["timestamp"])}}}}},
       {"request": {"operation": "Query", "body": {
          "TableName": HISTORY, "FilterExpression": "bidId = :bid", "Limit": 1,
          "ExclusiveStartKey": {"userId": {"S": ALICE}, "timestamp": {"N": str(h2["timestamp"])}}}},
        "response": {"status": 200, "body": {"Items": [item(h3)], "Count": 1, "ScannedCount": 1}}}],
      ok({"entries": [entry_view(h1), entry_view(h3)], "nextToken": None}))

# ------------------------------------------------------------------ other
no_claims = event("GET", "/profile", "GET /profile", claims=False)
write("no-token", "a request without verified claims (a route left public by mistake) is 401, never a guessed user",
      no_claims, [], err(401, "UNAUTHORIZED"))

write("unknown-route", "a route the function does not serve: 404 ROUTE_NOT_FOUND",
      event("GET", "/admin/users", "GET /admin/users"), [],
      err(404, "ROUTE_NOT_FOUND", "no route GET /admin/users"))

print(len(WRITTEN), "fixtures")
