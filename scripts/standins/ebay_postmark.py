#!/usr/bin/env python3
"""Local stand-in for eBay (OAuth token, Browse getItem, Offer bidding) and
Postmark (send e-mail), for the eBay sniper's tests (issue 12).

One HTTP server on 127.0.0.1 answers both APIs at their documented paths,
so the handlers' base URLs point at it unchanged apart from the host:
EBAY_API_BASE_URL=http://127.0.0.1:PORT stands for https://api.ebay.com and
the Postmark base URL http://127.0.0.1:PORT for https://api.postmarkapp.com.
Python 3.11+, standard library only.

Starting it (tests do this)
---------------------------
    python3 scripts/standins/ebay_postmark.py --port 0 --ready-file /tmp/x.json

--port 0 takes any free port. Once the socket listens, the ready file is
written atomically (temp file + rename, so a poller never reads half of
it) as {"port": N, "url": "http://127.0.0.1:N"}. SIGTERM or SIGINT stops
the server. --verbose logs each request to stderr.

The APIs served, and the documentation each follows
---------------------------------------------------
eBay OAuth (developer.ebay.com/api-docs/static/oauth-client-credentials-grant.html,
oauth-refresh-token-request.html, oauth-auth-code-grant-request.html):
  POST /identity/v1/oauth2/token    operation "token"
    HTTP Basic client_id:client_secret, form body.
    grant_type=client_credentials&scope=...  -> Application Access Token
    grant_type=refresh_token&refresh_token=...[&scope=...] -> User Access Token
    200 {"access_token","expires_in","token_type"}; no new refresh token.
    grant_type=authorization_code&code=...&redirect_uri=<RuName>
      -> 200 {"access_token","expires_in","refresh_token",
              "refresh_token_expires_in","token_type": "User Access Token"}
      for a code registered through the control API: each code works once,
      for its client and RuName, until it expires (eBay: 299 s); any other
      code is 400 invalid_grant. The refresh token it answers works from then
      on like one registered with /_standin/refresh_tokens.
    401 invalid_client; 400 invalid_grant / invalid_scope / invalid_request /
    unsupported_grant_type, as {"error","error_description"}.
eBay Browse getItem (buy/browse/v1 OpenAPI, Item schema):
  GET /buy/browse/v1/item/{item_id}  operation "item", Bearer token with the
    https://api.ebay.com/oauth/api_scope scope (application or user token).
    Unknown item: 404 with errorId 11001 (the OpenAPI file files 11001 under
    400 but leaves its 404 without ids; 404 is what a client sees for an id
    that does not exist, so 404 is used).
eBay Buy Offer v1_beta (buy_offer_v1_beta OpenAPI, x-response-codes):
  POST /buy/offer/v1_beta/bidding/{item_id}/place_proxy_bid  operation "bid"
  GET  /buy/offer/v1_beta/bidding/{item_id}                  operation "bidding"
    User access token with the buy.offer.auction scope and the
    X-EBAY-C-MARKETPLACE-ID header (required, case sensitive). Errors carry
    the documented ids: 120015/120017 marketplace, 120016 no maxAmount,
    120013 bad amount, 120014 bad currency code, 120001 unknown item (404),
    120012 auction ended, 120008 too low, 120009 currency differs from the
    item's, 120010 lowering your own proxy bid, 120032 adult consent
    (409 for the business ones), 120033 no bidding activity (getBidding).
  Errors of every eBay API use the envelope
    {"errors":[{"errorId","domain","category","message","longMessage"?}]}
  and the common errors of "Using eBay RESTful APIs": 1001 invalid token
  (401), 1002 missing token (400), 1003 wrong scheme (400), 1100 access
  denied (403), 2001 too many requests (429), 2004 invalid request (400),
  3003 resource not found (404).
Postmark (postmarkapp.com/developer/api/email-api, api/overview#error-codes):
  POST /email  operation "email", header X-Postmark-Server-Token.
    200 {"To","SubmittedAt","MessageID","ErrorCode":0,"Message":"OK"};
    401 {"ErrorCode":10,...}; 422 {"ErrorCode":300,...} for an invalid
    e-mail request, 402 for invalid JSON, 403 for JSON of the wrong shape,
    406 for an inactive recipient.

Auction rules (eBay help "Bid increments", "Automatic bidding")
---------------------------------------------------------------
A proxy bid must be at least the minimum to bid (Browse's
minimumPriceToBid): the starting price while there are no bids, else the
current price plus the increment for that price (US table, applied to every
currency). The price then moves as eBay's automatic bidding moves it: a new
leader pays one increment above the previous leader's maximum (never more
than its own maximum); a bid that does not beat the leader's maximum is
accepted (200, as on eBay) and the leader's proxy answers it at one
increment above it, so the bidder is outbid at once. Equal maximums: the
earlier bid leads. A reserve price, when set, is met as soon as the
leader's maximum reaches it. bidCount counts proxy bids.

Test control API (JSON, under /_standin/; never in the request log)
-------------------------------------------------------------------
  POST   /_standin/reset                 everything back to empty
  POST   /_standin/clients               {"clientId","clientSecret",
                                          "scopes"?: [...application scopes]}
  POST   /_standin/refresh_tokens        {"refreshToken","userId",
                                          "clientId"?: bound to that client,
                                          "scopes"?: [...], "expiresInSeconds"?}
                                          (re-register with a negative
                                          expiresInSeconds to expire it)
  POST   /_standin/authorization_codes   {"code","userId",
                                          "clientId"?: only that client may
                                          exchange it, "redirectUri"?: the
                                          RuName it must come with,
                                          "scopes"?: [...], "expiresInSeconds"?
                                          (default 299), "refreshTokenExpires
                                          InSeconds"? (default 47304000)}
  POST   /_standin/postmark_tokens       {"serverToken"}
  POST   /_standin/inactive_recipients   {"emails": [...]} -> ErrorCode 406
  POST   /_standin/items                 {"itemId","title","currency",
                                          "currentPrice": "10.00",
                                          "endTime": ISO 8601 | epoch ms,
                                          or "endsInSeconds": N,
                                          "bidCount"?, "rivalMaxBid"?,
                                          "reservePrice"?, "adultOnly"?,
                                          "buyingOptions"?: ["AUCTION"] or
                                          ["FIXED_PRICE"], ["AUCTION",
                                          "FIXED_PRICE"] ...}
                                          (replaces an item of that id)
  GET    /_standin/items/{id}            the item's whole state
  POST   /_standin/items/{id}/bids       {"bidder": "rival", "maxAmount":
                                          "20.00"} another bidder's proxy bid
  POST   /_standin/clock                 {"offsetMs": N} the stand-in's now
                                          is real time + N (auction end,
                                          token expiry); logs stay real time
  POST   /_standin/config                {"tokenLifetimeSeconds": N}
  POST   /_standin/failures              queue failures, see below
  GET    /_standin/failures              what is still queued
  DELETE /_standin/failures              clear the queue
  GET    /_standin/requests[?operation=bid&sinceMs=...]
           every request to the APIs, in arrival order: seq, operation,
           method, path, query, headers (names lower-cased), body (parsed
           JSON or form, else text), receivedAtMs (real epoch ms, taken as
           soon as the request's headers have been read), connection (the
           connection it came on, numbered 1, 2, ... in accept order: a
           client that keeps a connection alive sends several requests on
           one), status answered (null when none was), injected (the
           failure kind, or null) and, for held requests, outcome.
  GET    /_standin/emails                e-mails Postmark accepted
  GET    /_standin/bids                  proxy bids eBay accepted
  GET    /_standin/health

Switchable failures: POST /_standin/failures with
  {"operation": "token"|"item"|"bid"|"bidding"|"email",
   "kind": "401"|"429"|"500"|"503"|"timeout"|"error", "count": N (default 1),
   ...}
The next N requests of that operation get the failure instead of their
answer, before any validation (as an upstream outage would). Entries of one
operation are used in the order they were queued. Per kind:
  401, 429,      the status with the body each API uses for it: eBay APIs
  500, 503       1001 / 2001 / 11000 (Browse) or 120000 (Offer); token
                 invalid_client / 2001 / server_error / temporarily_unavailable;
                 Postmark ErrorCode 10 / 429 / none (a bare Message) / 100.
                 429 also sends Retry-After: "retryAfter" seconds (default 1)
  timeout        "seconds": how long to hold the connection without a byte
                 of answer (default 30; the hold ends early when the client
                 gives up and closes), then "then":
                   "close"  (default) close it; the request had no effect
                   "apply"  the request takes effect at once (a bid IS
                            placed) but its answer is lost: the connection
                            is closed after the hold
                   "answer" after the hold, handle it and answer normally
                            (if the client gave up first, nothing happens)
  error          a specific documented error: "errorId": 120012 (eBay
                 operations: looked up in the Offer, Browse and common
                 tables, with their documented status), "error":
                 "invalid_grant" (token), "errorCode": 406 (email); or any
                 answer verbatim with "status" and "body".
"""

import argparse
import base64
import binascii
import collections
import datetime
import email.utils
import itertools
import json
import os
import re
import select
import signal
import socket
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ---------------------------------------------------------------------------
# Documented shapes
# ---------------------------------------------------------------------------

SCOPE_PUBLIC = "https://api.ebay.com/oauth/api_scope"
SCOPE_BIDDING = "https://api.ebay.com/oauth/api_scope/buy.offer.auction"
DEFAULT_USER_SCOPES = [SCOPE_PUBLIC, SCOPE_BIDDING]
DEFAULT_APP_SCOPES = [SCOPE_PUBLIC]
DEFAULT_TOKEN_LIFETIME_S = 7200  # eBay's documented expires_in for access tokens
# The authorization code grant: the code's life (the consent redirect's
# expires_in) and the refresh token's (18 months, refresh_token_expires_in).
DEFAULT_CODE_LIFETIME_S = 299
DEFAULT_REFRESH_LIFETIME_S = 47_304_000
# Browse's Item.buyingOptions values.
BUYING_OPTIONS = ("AUCTION", "FIXED_PRICE", "BEST_OFFER", "CLASSIFIED_AD")

# "Offer API" column of developer.ebay.com/api-docs/buy/ref-marketplace-supported.html
OFFER_MARKETPLACES = ["EBAY_AU", "EBAY_CA", "EBAY_DE", "EBAY_ES", "EBAY_FR",
                      "EBAY_GB", "EBAY_IT", "EBAY_US"]

# eBay help, "Bid increments" (pages.ebay.com/help/buy/bid-increments.html):
# (current price below this, increment); 100.00 from 5000.00 up.
BID_INCREMENTS = [
    (Decimal("1.00"), Decimal("0.05")),
    (Decimal("5.00"), Decimal("0.25")),
    (Decimal("25.00"), Decimal("0.50")),
    (Decimal("100.00"), Decimal("1.00")),
    (Decimal("250.00"), Decimal("2.50")),
    (Decimal("500.00"), Decimal("5.00")),
    (Decimal("1000.00"), Decimal("10.00")),
    (Decimal("2500.00"), Decimal("25.00")),
    (Decimal("5000.00"), Decimal("50.00")),
]
TOP_INCREMENT = Decimal("100.00")

# errorId -> (HTTP status, domain, category, message, longMessage or None).
# Common errors: "Using eBay RESTful APIs", table "Common error messages".
COMMON_ERRORS = {
    1001: (401, "OAuth", "REQUEST", "Invalid access token",
           "Invalid access token. Check the value of the Authorization HTTP request header."),
    1002: (400, "OAuth", "REQUEST", "Missing access token",
           "Access token is missing in the Authorization HTTP request header."),
    1003: (400, "OAuth", "REQUEST", "Token type in the Authorization header is invalid:{scheme}",
           "Token type in the Authorization header is invalid:{scheme}"),
    1100: (403, "OAuth", "REQUEST", "Access denied",
           "Insufficient permissions to fulfill the request."),
    2001: (429, "ACCESS", "REQUEST", "Too many requests",
           "The request limit has been reached for the resource."),
    2003: (500, "ACCESS", "APPLICATION", "Internal error",
           "There was a problem with an eBay internal system or process. "
           "Contact eBay developer support for assistance."),
    2004: (400, "ACCESS", "REQUEST", "Invalid request",
           "Request has errors. For help, see the documentation for this API."),
    3002: (400, "ROUTING", "REQUEST", "Malformed request",
           "The request has errors. For help, see the documentation for this API."),
    3003: (404, "ROUTING", "REQUEST", "Resource not found",
           "A resource (URI) associated with the request could not be resolved."),
}

# Browse API OpenAPI file, getItem x-response-codes.
BROWSE_ERRORS = {
    11000: (500, "API_BROWSE", "APPLICATION",
            "There was a problem with an eBay internal system or process. "
            "Contact eBay developer support for assistance.", None),
    11001: (404, "API_BROWSE", "REQUEST", "The specified item ID was not found.", None),
    11004: (400, "API_BROWSE", "REQUEST",
            "The item is not available for purchase. This can be for many reasons, such as "
            "when the listing is being updated by the seller. Wait a few minutes and try the "
            "call again.", None),
}


def _offer(status, category, message):
    return (status, "API_OFFER", category, message, None)


# buy_offer_v1_beta OpenAPI file, x-response-codes of placeProxyBid and getBidding.
OFFER_ERRORS = {
    120000: _offer(500, "APPLICATION", "There was a problem with an eBay internal system or "
                   "process. Contact eBay developer support for assistance."),
    120001: _offer(404, "REQUEST", "The item ID {item_id} was not found. Check that this is "
                   "an active auction item ID."),
    120002: _offer(409, "BUSINESS", "The auction was ended because the item was purchased "
                   "with Buy It Now (fixed_price)."),
    120003: _offer(409, "BUSINESS", "A seller cannot place a bid."),
    120004: _offer(409, "BUSINESS", "You are not eligible to bid on this item."),
    120005: _offer(409, "BUSINESS", "The bid price cannot be greater than the Buy It Now price."),
    120006: _offer(409, "BUSINESS", "You are not eligible to bid on this item due to seller "
                   "restrictions."),
    120007: _offer(409, "REQUEST", "The bid amount is too high."),
    120008: _offer(409, "BUSINESS", "The bid amount is too low."),
    120009: _offer(409, "BUSINESS", "The bid currency needs to match the item price currency."),
    120010: _offer(409, "BUSINESS", "You cannot lower your proxy bid."),
    120011: _offer(400, "REQUEST", "The bid amount exceeds the limit."),
    120012: _offer(409, "BUSINESS", "The auction has ended."),
    120013: _offer(400, "REQUEST", "The bid amount is missing or invalid."),
    120014: _offer(400, "REQUEST", "The bid currency is invalid. Refer to the documentation "
                   "for a list of currency codes."),
    120015: _offer(400, "REQUEST", "The X-EBAY-C-MARKETPLACE-ID header is missing. This is a "
                   "required header."),
    120016: _offer(400, "REQUEST", "The maximum bid amount is missing."),
    120017: _offer(400, "REQUEST", "The Marketplace {marketplace_id} is not supported. "
                   "Supported values are {allowed}."),
    120018: _offer(409, "REQUEST", "For this auction, the bid amount cannot have decimals."),
    120019: _offer(409, "BUSINESS", "You must be pre-approval to bid on this auction."),
    120020: _offer(409, "BUSINESS", "A user agreement acceptance is required for this auction."),
    120021: _offer(409, "BUSINESS", "You are not authorized to bid on adult items. See the "
                   "eBay help on adult items."),
    120022: _offer(409, "BUSINESS", "A privacy user agreement is required for this auction."),
    120023: _offer(409, "BUSINESS", "This is a business to business only auction."),
    120024: _offer(409, "BUSINESS", "The item is currently unavailable."),
    120025: _offer(409, "BUSINESS", "The bid was blocked because you have exceeded the item "
                   "purchased limit."),
    120026: _offer(409, "BUSINESS", "The bid was blocked due to a seller restriction based on "
                   "your feedback score."),
    120027: _offer(409, "BUSINESS", "The bid was blocked due to a seller restriction on the "
                   "shipping location."),
    120028: _offer(409, "BUSINESS", "The auction is restricted to users with a linked PayPal "
                   "accounts."),
    120029: _offer(409, "BUSINESS", "There has been a buyer policy violation."),
    120030: _offer(409, "BUSINESS", "The bid was blocked due to unpaid items."),
    120031: _offer(409, "BUSINESS", "This requires credit card verification."),
    120032: _offer(409, "REQUEST", "This requires the user's consent for adult items."),
    120033: _offer(404, "REQUEST", "There is no bidding activity for this auction (item ID "
                   "{item_id})."),
}

# RFC 6749 section 5.2 error codes. invalid_grant's and invalid_scope's
# descriptions are eBay's own words (as reported from its live answers);
# the other descriptions are this stand-in's.
OAUTH_ERRORS = {
    "invalid_client": (401, "client authentication failed"),
    "invalid_grant": (400, "the provided authorization refresh token is invalid or was "
                           "issued to another client"),
    "invalid_scope": (400, "The requested scope is invalid, unknown, malformed, or exceeds "
                           "the scope granted to the client"),
    "invalid_request": (400, "request is missing a required parameter or malformed."),
    "unsupported_grant_type": (400, "grant type in request is not supported by the "
                                    "authorization server"),
    "server_error": (500, "There was a problem with an eBay internal system or process."),
    "temporarily_unavailable": (503, "The service is temporarily unavailable."),
}

# Postmark "API error codes" (postmarkapp.com/developer/api/overview#error-codes):
# code -> (HTTP status, the code's documented title, used as the Message
# unless a handler words it as Postmark's live answers do).
POSTMARK_ERRORS = {
    10: (401, "Bad or missing API token"),
    100: (503, "Maintenance"),
    300: (422, "Invalid email request"),
    400: (422, "Sender Signature not found"),
    401: (422, "Sender signature not confirmed"),
    402: (422, "Invalid JSON"),
    403: (422, "Incompatible JSON"),
    405: (422, "Not allowed to send"),
    406: (422, "Inactive recipient"),
    409: (422, "JSON required"),
    412: (422, "Account is Pending"),
    413: (422, "Account May Not Send"),
    429: (429, "Rate Limit Exceeded"),
}
POSTMARK_MAX_RECIPIENTS = 50  # To + Cc + Bcc, Postmark's documented limit
# Postmark support article "What does Error Code 300 mean?": its mailbox and domain checks.
MAILBOX_RE = re.compile(r"^[a-z0-9.!#$%&'`*+\-/=^_{}|~]+$", re.IGNORECASE)
DOMAIN_RE = re.compile(r"^((\.)?[a-zA-Z0-9\-])+$")

MAX_BODY_BYTES = 1 << 20
FAILURE_KINDS = ("401", "429", "500", "503", "timeout", "error")
OPERATIONS = ("token", "item", "bid", "bidding", "email")
EBAY_OPERATIONS = ("item", "bid", "bidding")
TIMEOUT_THEN = ("close", "apply", "answer")


class Answer(Exception):
    """An HTTP answer. Raised for a refusal anywhere in a handler, so the
    checks read top to bottom; returned for a success."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class Malformed(Exception):
    """The request cannot be read (its body framing is broken)."""


def ebay_error(table, error_id, status=None, **values):
    """An eBay error answer, from a documented table, placeholders filled."""
    doc_status, domain, category, message, long_message = table[error_id]
    entry = {"errorId": error_id, "domain": domain, "category": category,
             "message": message.format(**values) if values else message}
    if long_message:
        entry["longMessage"] = long_message.format(**values) if values else long_message
    return Answer(status or doc_status, {"errors": [entry]})


def find_ebay_error(error_id):
    """Which documented table an errorId is in (each id lives in one)."""
    for table in (OFFER_ERRORS, BROWSE_ERRORS, COMMON_ERRORS):
        if error_id in table:
            return table
    return None


def oauth_error(code, description=None, status=None):
    doc_status, doc_description = OAUTH_ERRORS[code]
    return Answer(status or doc_status,
                  {"error": code, "error_description": description or doc_description})


def postmark_error(code, message=None, status=None):
    doc_status, doc_message = POSTMARK_ERRORS[code]
    return Answer(status or doc_status, {"ErrorCode": code, "Message": message or doc_message})


# ---------------------------------------------------------------------------
# Money and time
# ---------------------------------------------------------------------------

CENT = Decimal("0.01")
AMOUNT_RE = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def parse_amount(value):
    """A documented Amount.value (a string like "12.50"), or None if not one."""
    if not isinstance(value, str) or not AMOUNT_RE.match(value.strip()):
        return None
    amount = Decimal(value.strip())
    return amount if amount > 0 else None


def money(amount):
    return str(amount.quantize(CENT))


def amount_json(amount, currency):
    return {"value": money(amount), "currency": currency}


def increment(price):
    for below, step in BID_INCREMENTS:
        if price < below:
            return step
    return TOP_INCREMENT


def real_now_ms():
    return time.time_ns() // 1_000_000


def iso_ms(epoch_ms):
    """eBay's documented timestamp format, yyyy-MM-ddThh:mm:ss.sssZ (UTC)."""
    seconds, millis = divmod(epoch_ms, 1000)  # integers: no float rounding
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z"


def parse_time_ms(value):
    """Epoch milliseconds from an ISO 8601 string or a number of epoch ms."""
    if isinstance(value, bool):
        raise ValueError("a time is an ISO 8601 string or epoch milliseconds")
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        moment = datetime.datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return int(moment.timestamp() * 1000)
    raise ValueError("a time is an ISO 8601 string or epoch milliseconds")


# ---------------------------------------------------------------------------
# State: everything behind one lock
# ---------------------------------------------------------------------------

class State:
    """All of the stand-in's memory. Every read and write of it happens with
    `lock` held; nothing blocks (no I/O, no sleeping) while holding it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.reset()

    def reset(self):
        self.clock_offset_ms = 0
        self.token_lifetime_s = DEFAULT_TOKEN_LIFETIME_S
        self.clients = {}          # client id -> {"secret", "scopes"}
        self.refresh_tokens = {}   # token -> {"userId", "clientId", "scopes", "expiresAtMs"}
        # code -> {"userId", "clientId", "redirectUri", "scopes", "expiresAtMs",
        #          "refreshLifetimeS", "used"}
        self.authorization_codes = {}
        # token -> {"kind", "userId", "clientId", "scopes", "expiresAtMs"}
        self.access_tokens = {}
        self.postmark_tokens = set()
        self.inactive_recipients = set()
        self.items = {}            # item id -> item state (see new_item)
        self.bids = []             # accepted proxy bids, in order
        self.emails = []           # accepted e-mails, in order
        self.requests = []         # the request log
        self.failures = collections.defaultdict(collections.deque)
        self.next_seq = 1

    def now_ms(self):
        """The stand-in's clock: auction ends and token expiry go by it."""
        return real_now_ms() + self.clock_offset_ms

    def log_request(self, record):
        record["seq"] = self.next_seq
        self.next_seq += 1
        self.requests.append(record)
        return record

    def take_failure(self, operation):
        """The failure to apply to this request of `operation`, or None."""
        queue = self.failures.get(operation)
        if not queue:
            return None
        failure = queue[0]
        failure["remaining"] -= 1
        if failure["remaining"] <= 0:
            queue.popleft()
        return dict(failure)

    def mint_access_token(self, kind, user_id, client_id, scopes):
        token = "v^1.1#i^1#standin#" + uuid.uuid4().hex
        self.access_tokens[token] = {
            "kind": kind, "userId": user_id, "clientId": client_id, "scopes": list(scopes),
            "expiresAtMs": self.now_ms() + self.token_lifetime_s * 1000}
        return token


# ---------------------------------------------------------------------------
# eBay OAuth: POST /identity/v1/oauth2/token
# ---------------------------------------------------------------------------

def basic_credentials(header):
    """(client id, secret) from an HTTP Basic Authorization header, or None."""
    if not header or not header[:6].lower() == "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def requested_scopes(form):
    """The space-separated scope list of a token request, or None if absent."""
    raw = form.get("scope")
    return None if raw is None else [s for s in raw.split(" ") if s]


def oauth_token(state, request, params):
    form = request.form()
    credentials = basic_credentials(request.headers.get("Authorization"))
    with state.lock:
        client = state.clients.get(credentials[0]) if credentials else None
        if client is None or client["secret"] != credentials[1]:
            raise oauth_error("invalid_client")
        grant_type = form.get("grant_type")
        if not grant_type:
            raise oauth_error("invalid_request")
        if grant_type == "client_credentials":
            return application_token(state, form, credentials[0], client)
        if grant_type == "refresh_token":
            return user_token(state, form, credentials[0])
        if grant_type == "authorization_code":
            return code_token(state, form, credentials[0])
        raise oauth_error("unsupported_grant_type")


def application_token(state, form, client_id, client):
    scopes = requested_scopes(form)
    # The client credentials grant documents scope as required.
    if not scopes:
        raise oauth_error("invalid_request")
    if not set(scopes) <= set(client["scopes"]):
        raise oauth_error("invalid_scope")
    token = state.mint_access_token("application", None, client_id, scopes)
    return Answer(200, {"access_token": token, "expires_in": state.token_lifetime_s,
                        "token_type": "Application Access Token"})


def user_token(state, form, client_id):
    refresh = form.get("refresh_token")
    if not refresh:
        raise oauth_error("invalid_request")
    grant = state.refresh_tokens.get(refresh)
    if (grant is None or grant["expiresAtMs"] <= state.now_ms()
            or grant["clientId"] not in (None, client_id)):
        raise oauth_error("invalid_grant")
    # Scope is optional on a refresh; when given it may only narrow the consent.
    scopes = requested_scopes(form) or grant["scopes"]
    if not set(scopes) <= set(grant["scopes"]):
        raise oauth_error("invalid_scope")
    token = state.mint_access_token("user", grant["userId"], client_id, scopes)
    return Answer(200, {"access_token": token, "expires_in": state.token_lifetime_s,
                        "token_type": "User Access Token"})


def code_token(state, form, client_id):
    """The authorization code grant: a user's first refresh token. Both code
    and redirect_uri are documented as required; a code works once."""
    code, redirect_uri = form.get("code"), form.get("redirect_uri")
    if not code or redirect_uri is None:
        raise oauth_error("invalid_request")
    grant = state.authorization_codes.get(code)
    if (grant is None or grant["used"] or grant["expiresAtMs"] <= state.now_ms()
            or grant["clientId"] not in (None, client_id)
            or grant["redirectUri"] not in (None, redirect_uri)):
        raise oauth_error("invalid_grant", "the provided authorization grant code is invalid "
                                           "or was issued to another client")
    grant["used"] = True
    refresh = "v^1.1#i^1#r^1#standin-refresh#" + uuid.uuid4().hex
    state.refresh_tokens[refresh] = {
        "userId": grant["userId"], "clientId": client_id, "scopes": list(grant["scopes"]),
        "expiresAtMs": state.now_ms() + grant["refreshLifetimeS"] * 1000}
    token = state.mint_access_token("user", grant["userId"], client_id, grant["scopes"])
    return Answer(200, {"access_token": token, "expires_in": state.token_lifetime_s,
                        "refresh_token": refresh,
                        "refresh_token_expires_in": grant["refreshLifetimeS"],
                        "token_type": "User Access Token"})


def bearer_grant(state, request, scope, user_only):
    """The access token's grant for a Bearer-protected call, else the
    common OAuth error eBay answers. Call with the lock held."""
    header = request.headers.get("Authorization")
    if not header or not header.strip():
        raise ebay_error(COMMON_ERRORS, 1002)
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise ebay_error(COMMON_ERRORS, 1003, scheme=scheme)
    grant = state.access_tokens.get(token.strip())
    if grant is None or grant["expiresAtMs"] <= state.now_ms():
        raise ebay_error(COMMON_ERRORS, 1001)
    if scope not in grant["scopes"] or (user_only and grant["kind"] != "user"):
        raise ebay_error(COMMON_ERRORS, 1100)
    return grant


# ---------------------------------------------------------------------------
# Items and automatic (proxy) bidding
# ---------------------------------------------------------------------------

def new_item(spec, now_ms):
    """An item's state from the control API's registration body."""
    item_id = spec.get("itemId")
    if not isinstance(item_id, str) or not item_id:
        raise ValueError("itemId (a non-empty string) is required")
    currency = spec.get("currency", "USD")
    if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
        raise ValueError("currency must be a 3-letter ISO 4217 code")
    price = parse_amount(spec.get("currentPrice", "1.00"))
    if price is None:
        raise ValueError('currentPrice must be an amount string such as "10.00"')
    if "endTime" in spec:
        end_ms = parse_time_ms(spec["endTime"])
    elif "endsInSeconds" in spec:
        end_ms = now_ms + int(float(spec["endsInSeconds"]) * 1000)
    else:
        raise ValueError("endTime or endsInSeconds is required")
    buying = spec.get("buyingOptions", ["AUCTION"])
    if (not isinstance(buying, list) or not buying
            or not all(option in BUYING_OPTIONS for option in buying)):
        raise ValueError("buyingOptions must be a non-empty list of "
                         + ", ".join(BUYING_OPTIONS))
    item = {
        "itemId": item_id, "title": str(spec.get("title", "Item " + item_id)),
        "currency": currency, "startPrice": price, "currentPrice": price,
        "bidCount": max(0, int(spec.get("bidCount", 0))), "endMs": end_ms,
        "buyingOptions": buying, "adultOnly": bool(spec.get("adultOnly", False)),
        "reservePrice": None, "highBidder": None, "highMax": None, "proxies": {},
        "bidders": set(),
    }
    if spec.get("reservePrice") is not None:
        item["reservePrice"] = require_amount(spec["reservePrice"], "reservePrice")
    seed_rival(item, spec)
    return item


def require_amount(value, name):
    amount = parse_amount(value)
    if amount is None:
        raise ValueError(f'{name} must be an amount string such as "10.00"')
    return amount


def seed_rival(item, spec):
    """An item registered with bids already on it has a leader: a rival
    whose hidden maximum is rivalMaxBid (default: the current price)."""
    rival_max = spec.get("rivalMaxBid")
    if rival_max is None and item["bidCount"] == 0:
        return
    if not is_auction(item):
        raise ValueError("only an auction (buyingOptions with AUCTION) has bids")
    maximum = require_amount(rival_max, "rivalMaxBid") if rival_max else item["currentPrice"]
    if maximum < item["currentPrice"]:
        raise ValueError("rivalMaxBid cannot be below currentPrice")
    item["bidCount"] = max(item["bidCount"], 1)
    item["highBidder"], item["highMax"] = "rival", maximum
    item["proxies"]["rival"] = {"proxyBidId": new_proxy_bid_id(), "maxAmount": maximum}
    item["bidders"].add("rival")


def new_proxy_bid_id():
    return str(uuid.uuid4().int)[:16]


def minimum_to_bid(item):
    """Browse's minimumPriceToBid: the starting price until the first bid,
    then the current price plus its increment."""
    if item["highBidder"] is None:
        return item["startPrice"]
    return item["currentPrice"] + increment(item["currentPrice"])


def is_auction(item):
    return "AUCTION" in item["buyingOptions"]


def auction_ended(item, now_ms):
    return now_ms >= item["endMs"]


def check_bid_rules(item, bidder, maximum, currency, now_ms):
    """The business refusals of placeProxyBid, in eBay's documented ids."""
    if auction_ended(item, now_ms):
        raise ebay_error(OFFER_ERRORS, 120012)
    if currency != item["currency"]:
        raise ebay_error(OFFER_ERRORS, 120009)
    if item["highBidder"] == bidder:
        # The leader may only raise the maximum; the price does not move
        # against oneself.
        if maximum <= item["highMax"]:
            raise ebay_error(OFFER_ERRORS, 120010)
    elif maximum < minimum_to_bid(item):
        raise ebay_error(OFFER_ERRORS, 120008)


def apply_proxy_bid(item, bidder, maximum):
    """eBay's automatic bidding: move price and leader for a new maximum."""
    leader, leader_max = item["highBidder"], item["highMax"]
    if leader is None:
        item["currentPrice"] = item["startPrice"]
        item["highBidder"], item["highMax"] = bidder, maximum
    elif leader == bidder:
        item["highMax"] = maximum
    elif maximum > leader_max:
        item["currentPrice"] = min(maximum, leader_max + increment(leader_max))
        item["highBidder"], item["highMax"] = bidder, maximum
    else:
        # The leader's proxy answers; equal maximums go to the earlier bid.
        item["currentPrice"] = min(leader_max, maximum + increment(maximum))
    meet_reserve(item)
    item["bidCount"] += 1
    item["bidders"].add(bidder)
    proxy = {"proxyBidId": new_proxy_bid_id(), "maxAmount": maximum}
    item["proxies"][bidder] = proxy
    return proxy


def meet_reserve(item):
    reserve = item["reservePrice"]
    if reserve is not None and item["currentPrice"] < reserve <= item["highMax"]:
        item["currentPrice"] = reserve


def item_view(item):
    """The item in the control API's terms (amounts as strings)."""
    view = {k: v for k, v in item.items() if k not in ("proxies", "bidders")}
    for key in ("startPrice", "currentPrice", "highMax", "reservePrice"):
        if view[key] is not None:
            view[key] = money(view[key])
    view["endTime"] = iso_ms(item["endMs"])
    view["proxies"] = {who: {"proxyBidId": p["proxyBidId"], "maxAmount": money(p["maxAmount"])}
                       for who, p in item["proxies"].items()}
    view["minimumToBid"] = money(minimum_to_bid(item))
    return view


# ---------------------------------------------------------------------------
# eBay Browse: GET /buy/browse/v1/item/{item_id}
# ---------------------------------------------------------------------------

def browse_get_item(state, request, params):
    with state.lock:
        bearer_grant(state, request, SCOPE_PUBLIC, user_only=False)
        item = state.items.get(params["item_id"])
        if item is None:
            raise ebay_error(BROWSE_ERRORS, 11001)
        return Answer(200, browse_item_json(item, state.now_ms()))


def browse_item_json(item, now_ms):
    """The Item fields a sniper reads, as the Browse Item schema names them."""
    currency = item["currency"]
    ended = auction_ended(item, now_ms)
    numeric_id = item["itemId"].split("|")[1] if item["itemId"].count("|") == 2 else item["itemId"]
    body = {
        "itemId": item["itemId"],
        "legacyItemId": numeric_id,
        "title": item["title"],
        "buyingOptions": list(item["buyingOptions"]),
        "itemEndDate": iso_ms(item["endMs"]),
        # The schema documents price as the item's cost; for an auction
        # without Buy It Now live answers carry the current bid there, so a
        # client reading either field gets the same amount.
        "price": amount_json(item["currentPrice"], currency),
        "adultOnly": item["adultOnly"],
        "itemWebUrl": f"https://www.ebay.com/itm/{numeric_id}",
        "estimatedAvailabilities": [{
            "estimatedAvailabilityStatus": "OUT_OF_STOCK" if ended else "IN_STOCK"}],
    }
    if not is_auction(item):
        # A fixed-price listing has a price and nothing about bidding.
        return body
    body.update({
        "currentBidPrice": amount_json(item["currentPrice"], currency),
        "minimumPriceToBid": amount_json(minimum_to_bid(item), currency),
        "bidCount": item["bidCount"],
        "uniqueBidderCount": len(item["bidders"]),
    })
    if item["reservePrice"] is not None:
        body["reservePriceMet"] = reserve_met(item)
    return body


def reserve_met(item):
    return item["highBidder"] is not None and item["currentPrice"] >= item["reservePrice"]


# ---------------------------------------------------------------------------
# eBay Buy Offer: place_proxy_bid and getBidding
# ---------------------------------------------------------------------------

def require_marketplace(request):
    marketplace = request.headers.get("X-EBAY-C-MARKETPLACE-ID")
    if not marketplace:
        raise ebay_error(OFFER_ERRORS, 120015)
    if marketplace not in OFFER_MARKETPLACES:
        raise ebay_error(OFFER_ERRORS, 120017, marketplace_id=marketplace,
                         allowed="[" + ", ".join(OFFER_MARKETPLACES) + "]")
    return marketplace


def read_bid_request(request):
    """(maximum, currency, adult consent) from a PlaceProxyBidRequest body."""
    content_type = request.headers.get("Content-Type", "")
    # The Content-Type header is documented as required: application/json.
    if request.raw_body and not content_type.lower().startswith("application/json"):
        raise ebay_error(COMMON_ERRORS, 2004)
    body = request.json() if request.raw_body else {}
    if not isinstance(body, dict):
        raise ebay_error(COMMON_ERRORS, 2004)
    amount = body.get("maxAmount")
    if amount is None or amount == {}:
        raise ebay_error(OFFER_ERRORS, 120016)
    if not isinstance(amount, dict):
        raise ebay_error(OFFER_ERRORS, 120013)
    maximum = parse_amount(amount.get("value"))
    if maximum is None:
        raise ebay_error(OFFER_ERRORS, 120013)
    currency = amount.get("currency")
    if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
        raise ebay_error(OFFER_ERRORS, 120014)
    consent = body.get("userConsent") or {}
    adult_ok = isinstance(consent, dict) and consent.get("adultOnlyItem") is True
    return maximum, currency, adult_ok


def offer_place_proxy_bid(state, request, params):
    item_id = params["item_id"]
    with state.lock:
        grant = bearer_grant(state, request, SCOPE_BIDDING, user_only=True)
        marketplace = require_marketplace(request)
        item = state.items.get(item_id)
        # 120001 asks for "an active auction item ID": a fixed-price
        # listing is not one.
        if item is None or not is_auction(item):
            raise ebay_error(OFFER_ERRORS, 120001, item_id=item_id)
        maximum, currency, adult_ok = read_bid_request(request)
        if item["adultOnly"] and not adult_ok:
            raise ebay_error(OFFER_ERRORS, 120032)
        bidder, now = grant["userId"], state.now_ms()
        check_bid_rules(item, bidder, maximum, currency, now)
        proxy = apply_proxy_bid(item, bidder, maximum)
        state.bids.append({
            "proxyBidId": proxy["proxyBidId"], "itemId": item_id, "userId": bidder,
            "marketplaceId": marketplace, "maxAmount": amount_json(maximum, currency),
            "placedAtMs": real_now_ms(), "standinNowMs": now,
            "currentPrice": amount_json(item["currentPrice"], currency),
            "highBidder": item["highBidder"] == bidder})
        return Answer(200, {"proxyBidId": proxy["proxyBidId"]})


def offer_get_bidding(state, request, params):
    item_id = params["item_id"]
    with state.lock:
        grant = bearer_grant(state, request, SCOPE_BIDDING, user_only=True)
        require_marketplace(request)
        item = state.items.get(item_id)
        if item is None or not is_auction(item):
            raise ebay_error(OFFER_ERRORS, 120001, item_id=item_id)
        proxy = item["proxies"].get(grant["userId"])
        if proxy is None:
            raise ebay_error(OFFER_ERRORS, 120033, item_id=item_id)
        return Answer(200, bidding_json(item, grant["userId"], proxy, state.now_ms()))


def bidding_json(item, user_id, proxy, now_ms):
    """The Offer API's Bidding type for this buyer."""
    currency = item["currency"]
    ended = auction_ended(item, now_ms)
    body = {
        "itemId": item["itemId"],
        "auctionStatus": "ENDED" if ended else "ACTIVE",
        "auctionEndDate": iso_ms(item["endMs"]),
        "bidCount": item["bidCount"],
        "currentPrice": amount_json(item["currentPrice"], currency),
        "currentProxyBid": {"proxyBidId": proxy["proxyBidId"],
                            "maxAmount": amount_json(proxy["maxAmount"], currency)},
        "highBidder": item["highBidder"] == user_id,
        "suggestedBidAmounts": [] if ended else suggested_bids(item),
    }
    if item["reservePrice"] is not None:
        body["reservePriceMet"] = reserve_met(item)
    return body


def suggested_bids(item):
    first = minimum_to_bid(item)
    step = increment(first)
    return [amount_json(first + step * n, item["currency"]) for n in range(3)]


# ---------------------------------------------------------------------------
# Postmark: POST /email
# ---------------------------------------------------------------------------

def postmark_send_email(state, request, params):
    with state.lock:
        require_postmark_token(state, request)
        message = read_postmark_json(request)
        recipients = validate_email_request(message)
        inactive = [r for r in recipients if r.lower() in state.inactive_recipients]
        if inactive:
            raise postmark_error(406, "You tried to send to recipient(s) that have been "
                                 "marked as inactive. Found inactive addresses: "
                                 + ", ".join(inactive) + ". Inactive recipients are ones that "
                                 "have generated a hard bounce, a spam complaint, or a manual "
                                 "suppression.")
        return Answer(200, accept_email(state, message))


def require_postmark_token(state, request):
    token = request.headers.get("X-Postmark-Server-Token")
    if not token:
        raise postmark_error(10, "No Account or Server API tokens were supplied in the HTTP "
                                 "headers. Please add a header for either "
                                 "X-Postmark-Server-Token or X-Postmark-Account-Token.")
    if token not in state.postmark_tokens:
        raise postmark_error(10, "Request does not contain a valid Server token.")


def read_postmark_json(request):
    try:
        message = json.loads(request.raw_body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise postmark_error(402)
    if not isinstance(message, dict):
        raise postmark_error(403)
    return message


def split_addresses(field_value):
    """The addresses of a Postmark address field: comma separated, each bare
    or 'Name <address>' (RFC 5322 parsing, so a quoted name may hold commas)."""
    if not field_value:
        return []
    return [address for _, address in email.utils.getaddresses([str(field_value)]) if address]


def valid_address(address):
    mailbox, at, domain = address.rpartition("@")
    return bool(at and MAILBOX_RE.match(mailbox) and DOMAIN_RE.match(domain))


def validate_email_request(message):
    """Postmark's ErrorCode 300 checks; the recipients if the request is valid."""
    for field in ("From", "To", "Cc", "Bcc", "Subject", "TextBody", "HtmlBody",
                  "MessageStream", "ReplyTo", "Tag"):
        value = message.get(field)
        if value is not None and not isinstance(value, str):
            raise postmark_error(403)
    senders = split_addresses(message.get("From"))
    if len(senders) != 1 or not valid_address(senders[0]):
        raise postmark_error(300, f"Invalid 'From' address: '{message.get('From') or ''}'.")
    recipients = []
    for field in ("To", "Cc", "Bcc"):
        for address in split_addresses(message.get(field)):
            if not valid_address(address):
                raise postmark_error(300, f"Error parsing '{field}': Illegal email address "
                                          f"'{address}'.")
            recipients.append(address)
    if not split_addresses(message.get("To")):
        raise postmark_error(300, "Zero recipients specified")
    if len(recipients) > POSTMARK_MAX_RECIPIENTS:
        raise postmark_error(300, "Maximum of 50 recipients allowed per email message")
    if not (message.get("TextBody") or message.get("HtmlBody")):
        raise postmark_error(300, "Provide either email TextBody or HtmlBody or both.")
    return recipients


def accept_email(state, message):
    submitted = datetime.datetime.now(datetime.timezone.utc).isoformat()
    message_id = str(uuid.uuid4())
    state.emails.append({
        **message, "MessageStream": message.get("MessageStream") or "outbound",
        "MessageID": message_id, "SubmittedAt": submitted, "receivedAtMs": real_now_ms()})
    return {"To": message["To"], "SubmittedAt": submitted, "MessageID": message_id,
            "ErrorCode": 0, "Message": "OK"}


# ---------------------------------------------------------------------------
# Failure injection
# ---------------------------------------------------------------------------

def new_failure(spec):
    """A queued failure from the control API's body (raises ValueError)."""
    operation = spec.get("operation")
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {', '.join(OPERATIONS)}")
    kind = str(spec.get("kind", ""))
    if kind not in FAILURE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(FAILURE_KINDS)}")
    count = int(spec.get("count", 1))
    if count < 1:
        raise ValueError("count must be at least 1")
    failure = {"operation": operation, "kind": kind, "count": count, "remaining": count,
               "retryAfter": int(spec.get("retryAfter", 1)),
               "seconds": max(0.0, float(spec.get("seconds", 30))),
               "then": spec.get("then", "close")}
    if failure["then"] not in TIMEOUT_THEN:
        raise ValueError(f"then must be one of {', '.join(TIMEOUT_THEN)}")
    if kind == "error":
        failure["answer"] = specific_error(operation, spec)
    return failure


def specific_error(operation, spec):
    """The answer of a kind=error failure, as {"status", "body"}."""
    status = http_status(spec.get("status"))
    if "body" in spec:
        return {"status": status or 400, "body": spec["body"]}
    if operation in EBAY_OPERATIONS and "errorId" in spec:
        table = find_ebay_error(int(spec["errorId"]))
        if table is None:
            raise ValueError(f"errorId {spec['errorId']} is in no documented table here; "
                             "give status and body instead")
        # {item_id} stays a placeholder until the request names the item.
        answer = ebay_error(table, int(spec["errorId"]), status,
                            item_id="{item_id}", marketplace_id="{marketplace_id}",
                            allowed="{allowed}", scheme="")
    elif operation == "token" and spec.get("error") in OAUTH_ERRORS:
        answer = oauth_error(spec["error"], spec.get("description"), status)
    elif operation == "email" and int(spec.get("errorCode", -1)) in POSTMARK_ERRORS:
        answer = postmark_error(int(spec["errorCode"]), spec.get("message"), status)
    else:
        raise ValueError("kind=error needs errorId (eBay operations), error (token), "
                         "errorCode (email), or status and body")
    return {"status": answer.status, "body": answer.body}


def http_status(value):
    """An optional status override from the control API, checked."""
    if value is None:
        return None
    status = int(value)
    if not 200 <= status <= 599:
        raise ValueError("status must be an HTTP status from 200 to 599")
    return status


def injected_answer(operation, failure, item_id):
    """The answer for kinds 401/429/500/503/error, in the operation's envelope."""
    kind = failure["kind"]
    if kind == "error":
        # Fill the documented {item_id} placeholder, escaped as JSON text.
        escaped = json.dumps(item_id)[1:-1]
        body = json.loads(json.dumps(failure["answer"]["body"]).replace("{item_id}", escaped))
        return Answer(failure["answer"]["status"], body)
    headers = {"Retry-After": str(failure["retryAfter"])} if kind == "429" else {}
    answer = status_answer(operation, int(kind))
    answer.headers.update(headers)
    return answer


def status_answer(operation, status):
    """A bare 401/429/500/503 in the body each API uses for it."""
    if operation == "email":
        return {401: postmark_error(10, "Request does not contain a valid Server token."),
                429: postmark_error(429),
                # Postmark documents no ErrorCode for a 500 (and ErrorCode 500
                # means something else), so the body has only a Message.
                500: Answer(500, {"Message": "Internal Server Error"}),
                503: postmark_error(100)}[status]
    if operation == "token":
        return {401: oauth_error("invalid_client"),
                429: ebay_error(COMMON_ERRORS, 2001),
                500: oauth_error("server_error"),
                503: oauth_error("temporarily_unavailable")}[status]
    internal = (BROWSE_ERRORS, 11000) if operation == "item" else (OFFER_ERRORS, 120000)
    return {401: ebay_error(COMMON_ERRORS, 1001),
            429: ebay_error(COMMON_ERRORS, 2001),
            500: ebay_error(*internal),
            503: ebay_error(*internal, status=503)}[status]


# ---------------------------------------------------------------------------
# Test control API
# ---------------------------------------------------------------------------

def control_reset(state, request, params):
    with state.lock:
        state.reset()
    return Answer(200, {"reset": True})


def control_health(state, request, params):
    return Answer(200, {"ok": True})


def control_clients(state, request, params):
    spec = request.control_json()
    client_id, secret = spec.get("clientId"), spec.get("clientSecret")
    if not isinstance(client_id, str) or not isinstance(secret, str) or not client_id:
        raise ValueError("clientId and clientSecret (strings) are required")
    scopes = string_list(spec.get("scopes", DEFAULT_APP_SCOPES), "scopes")
    with state.lock:
        state.clients[client_id] = {"secret": secret, "scopes": scopes}
    return Answer(200, {"clientId": client_id, "scopes": scopes})


def control_refresh_tokens(state, request, params):
    spec = request.control_json()
    token, user_id = spec.get("refreshToken"), spec.get("userId")
    if not isinstance(token, str) or not token or not isinstance(user_id, str) or not user_id:
        raise ValueError("refreshToken and userId (non-empty strings) are required")
    scopes = string_list(spec.get("scopes", DEFAULT_USER_SCOPES), "scopes")
    lifetime_s = float(spec.get("expiresInSeconds", 18 * 30 * 24 * 3600))  # eBay: 18 months
    with state.lock:
        state.refresh_tokens[token] = {
            "userId": user_id, "clientId": spec.get("clientId"), "scopes": scopes,
            "expiresAtMs": state.now_ms() + int(lifetime_s * 1000)}
    return Answer(200, {"refreshToken": token, "userId": user_id, "scopes": scopes})


def string_list(value, name):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings")
    return value


def control_authorization_codes(state, request, params):
    """A code as eBay's consent page would hand it to the app's RuName."""
    spec = request.control_json()
    code, user_id = spec.get("code"), spec.get("userId")
    if not isinstance(code, str) or not code or not isinstance(user_id, str) or not user_id:
        raise ValueError("code and userId (non-empty strings) are required")
    for name in ("clientId", "redirectUri"):
        if spec.get(name) is not None and not isinstance(spec[name], str):
            raise ValueError(f"{name} must be a string")
    scopes = string_list(spec.get("scopes", DEFAULT_USER_SCOPES), "scopes")
    lifetime_s = float(spec.get("expiresInSeconds", DEFAULT_CODE_LIFETIME_S))
    refresh_lifetime_s = int(spec.get("refreshTokenExpiresInSeconds",
                                      DEFAULT_REFRESH_LIFETIME_S))
    if refresh_lifetime_s < 1:
        raise ValueError("refreshTokenExpiresInSeconds must be at least 1")
    with state.lock:
        state.authorization_codes[code] = {
            "userId": user_id, "clientId": spec.get("clientId"),
            "redirectUri": spec.get("redirectUri"), "scopes": scopes,
            "expiresAtMs": state.now_ms() + int(lifetime_s * 1000),
            "refreshLifetimeS": refresh_lifetime_s, "used": False}
    return Answer(200, {"code": code, "userId": user_id, "scopes": scopes})


def control_postmark_tokens(state, request, params):
    token = request.control_json().get("serverToken")
    if not isinstance(token, str) or not token:
        raise ValueError("serverToken (a non-empty string) is required")
    with state.lock:
        state.postmark_tokens.add(token)
    return Answer(200, {"serverToken": token})


def control_inactive_recipients(state, request, params):
    emails = string_list(request.control_json().get("emails"), "emails")
    with state.lock:
        state.inactive_recipients.update(e.lower() for e in emails)
        listed = sorted(state.inactive_recipients)
    return Answer(200, {"emails": listed})


def control_put_item(state, request, params):
    spec = request.control_json()
    with state.lock:
        item = new_item(spec, state.now_ms())
        state.items[item["itemId"]] = item
        return Answer(200, item_view(item))


def control_get_item(state, request, params):
    with state.lock:
        item = state.items.get(params["item_id"])
        if item is None:
            return Answer(404, {"error": f"no item {params['item_id']}"})
        return Answer(200, item_view(item))


def control_rival_bid(state, request, params):
    """Another bidder's proxy bid, under the same rules as the API's."""
    spec = request.control_json()
    bidder = spec.get("bidder", "rival")
    if not isinstance(bidder, str) or not bidder:
        raise ValueError("bidder must be a non-empty string")
    maximum = require_amount(spec.get("maxAmount"), "maxAmount")
    with state.lock:
        item = state.items.get(params["item_id"])
        if item is None:
            return Answer(404, {"error": f"no item {params['item_id']}"})
        if not is_auction(item):
            return Answer(409, {"error": "not an auction: nobody bids on it"})
        try:
            check_bid_rules(item, bidder, maximum, item["currency"], state.now_ms())
        except Answer as refusal:
            return Answer(409, {"error": "refused by the auction rules", "ebay": refusal.body})
        proxy = apply_proxy_bid(item, bidder, maximum)
        return Answer(200, {"proxyBidId": proxy["proxyBidId"], "item": item_view(item)})


def control_clock(state, request, params):
    offset = request.control_json().get("offsetMs")
    if isinstance(offset, bool) or not isinstance(offset, (int, float)):
        raise ValueError("offsetMs (a number of milliseconds) is required")
    with state.lock:
        state.clock_offset_ms = int(offset)
        now = state.now_ms()
    return Answer(200, {"offsetMs": int(offset), "nowMs": now, "now": iso_ms(now)})


def control_config(state, request, params):
    spec = request.control_json()
    with state.lock:
        if "tokenLifetimeSeconds" in spec:
            lifetime = int(spec["tokenLifetimeSeconds"])
            if lifetime < 1:
                raise ValueError("tokenLifetimeSeconds must be at least 1")
            state.token_lifetime_s = lifetime
        return Answer(200, {"tokenLifetimeSeconds": state.token_lifetime_s})


def control_add_failure(state, request, params):
    failure = new_failure(request.control_json())
    with state.lock:
        state.failures[failure["operation"]].append(failure)
    return Answer(200, failure)


def control_list_failures(state, request, params):
    with state.lock:
        queued = [dict(f) for queue in state.failures.values() for f in queue]
    return Answer(200, {"failures": queued})


def control_clear_failures(state, request, params):
    with state.lock:
        state.failures.clear()
    return Answer(200, {"failures": []})


def control_requests(state, request, params):
    operation = request.query.get("operation")
    since = int(request.query.get("sinceMs", 0))
    with state.lock:
        found = [dict(r) for r in state.requests
                 if (operation is None or r["operation"] == operation)
                 and r["receivedAtMs"] >= since]
    return Answer(200, {"requests": found})


def control_emails(state, request, params):
    with state.lock:
        return Answer(200, {"emails": [dict(e) for e in state.emails]})


def control_bids(state, request, params):
    with state.lock:
        return Answer(200, {"bids": [dict(b) for b in state.bids]})


# ---------------------------------------------------------------------------
# Routing
# ---------------------------------------------------------------------------

Route = collections.namedtuple("Route", "method pattern operation handler")
ITEM = r"(?P<item_id>[^/]+)"
API_ROUTES = [
    Route("POST", r"/identity/v1/oauth2/token", "token", oauth_token),
    Route("GET", r"/buy/browse/v1/item/" + ITEM, "item", browse_get_item),
    Route("POST", r"/buy/offer/v1_beta/bidding/" + ITEM + r"/place_proxy_bid", "bid",
          offer_place_proxy_bid),
    Route("GET", r"/buy/offer/v1_beta/bidding/" + ITEM, "bidding", offer_get_bidding),
    Route("POST", r"/email", "email", postmark_send_email),
]
CONTROL_ROUTES = [
    Route("POST", r"/_standin/reset", "control", control_reset),
    Route("GET", r"/_standin/health", "control", control_health),
    Route("POST", r"/_standin/clients", "control", control_clients),
    Route("POST", r"/_standin/refresh_tokens", "control", control_refresh_tokens),
    Route("POST", r"/_standin/authorization_codes", "control", control_authorization_codes),
    Route("POST", r"/_standin/postmark_tokens", "control", control_postmark_tokens),
    Route("POST", r"/_standin/inactive_recipients", "control", control_inactive_recipients),
    Route("POST", r"/_standin/items", "control", control_put_item),
    Route("GET", r"/_standin/items/" + ITEM, "control", control_get_item),
    Route("POST", r"/_standin/items/" + ITEM + r"/bids", "control", control_rival_bid),
    Route("POST", r"/_standin/clock", "control", control_clock),
    Route("POST", r"/_standin/config", "control", control_config),
    Route("POST", r"/_standin/failures", "control", control_add_failure),
    Route("GET", r"/_standin/failures", "control", control_list_failures),
    Route("DELETE", r"/_standin/failures", "control", control_clear_failures),
    Route("GET", r"/_standin/requests", "control", control_requests),
    Route("GET", r"/_standin/emails", "control", control_emails),
    Route("GET", r"/_standin/bids", "control", control_bids),
]
COMPILED = [(re.compile(r.pattern + r"/?\Z"), r) for r in API_ROUTES + CONTROL_ROUTES]


def match_route(method, path):
    """(route, path parameters) or (None, {}). Path segments are matched
    before percent-decoding, so an item id's %7C ("|") stays inside its
    segment; parameters are decoded afterwards."""
    for pattern, route in COMPILED:
        found = pattern.match(path)
        if found and route.method == method:
            return route, {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
    return None, {}


def operation_of(path):
    """The operation a path belongs to whatever the method (for envelopes)."""
    for pattern, route in COMPILED:
        if pattern.match(path):
            return route.operation
    return "control" if path.startswith("/_standin/") else "unknown"


def not_found(operation):
    """Unknown resource or method, in the envelope the path's API uses."""
    if operation == "email":
        # No documented ErrorCode for this either; a bare Message as for a 500.
        return Answer(404, {"Message": "Not Found"})
    if operation == "control":
        return Answer(404, {"error": "no such control endpoint"})
    return ebay_error(COMMON_ERRORS, 3003)


def malformed(operation, detail):
    """A request that cannot be read, in the envelope its API uses."""
    if operation == "email":
        return postmark_error(402, status=400)
    if operation == "token":
        return oauth_error("invalid_request", status=400)
    if operation == "control":
        return Answer(400, {"error": detail})
    return ebay_error(COMMON_ERRORS, 3002)


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

class Request:
    """What a handler sees of a request."""

    def __init__(self, method, path, query, headers, raw_body, received_ms):
        self.method, self.path, self.query = method, path, query
        self.headers, self.raw_body, self.received_ms = headers, raw_body, received_ms

    def form(self):
        text = self.raw_body.decode("utf-8", errors="replace")
        return {k: v[-1] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}

    def json(self):
        """The body as JSON, or eBay's invalid-request error."""
        try:
            return json.loads(self.raw_body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ebay_error(COMMON_ERRORS, 2004)

    def control_json(self):
        if not self.raw_body:
            return {}
        try:
            body = json.loads(self.raw_body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"body is not JSON: {error}")
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        return body

    def logged_body(self):
        """The body for the request log: parsed when it parses."""
        if not self.raw_body:
            return None
        content_type = self.headers.get("Content-Type", "").lower()
        if "x-www-form-urlencoded" in content_type:
            return self.form()
        try:
            return json.loads(self.raw_body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return self.raw_body.decode("utf-8", errors="replace")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs; every answer has a length
    timeout = 300  # an idle keep-alive connection is dropped after this many seconds
    server_version = "standin-ebay-postmark/1"
    error_message_format = ""  # send_error below writes JSON instead of HTML

    # -- entry points -------------------------------------------------------

    def setup(self):
        super().setup()
        # One handler per connection: its number, in accept order.
        self.connection_number = next(self.server.connection_numbers)

    def parse_request(self):
        # The arrival time is taken as soon as the request line and headers
        # are read, before anything else: the benchmark measures it.
        self.received_ms = real_now_ms()
        return super().parse_request()

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def dispatch(self):
        state = self.server.state
        split = urllib.parse.urlsplit(self.path)
        route, params = match_route(self.command, split.path)
        operation = route.operation if route else operation_of(split.path)
        try:
            raw_body = self.read_body()
        except Malformed as error:
            self.close_connection = True
            self.answer(malformed(operation, str(error)))
            return
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(split.query).items()}
        request = Request(self.command, split.path, query, self.headers, raw_body,
                          self.received_ms)
        if operation == "control" or route is None:
            self.serve_control_or_unknown(state, route, params, request, operation)
        else:
            self.serve_api(state, route, params, request)

    # -- the APIs -----------------------------------------------------------

    def serve_api(self, state, route, params, request):
        with state.lock:
            record = state.log_request({
                "operation": route.operation, "method": request.method,
                "path": request.path, "query": request.query,
                # Header names lower-cased: clients differ in the case they send.
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "body": request.logged_body(),
                "receivedAtMs": request.received_ms, "connection": self.connection_number,
                "status": None, "injected": None})
            failure = state.take_failure(route.operation)
            if failure:
                record["injected"] = failure["kind"]
        if failure and failure["kind"] == "timeout":
            self.serve_timeout(state, route, params, request, record, failure)
            return
        if failure:
            answer = injected_answer(route.operation, failure, params.get("item_id", ""))
        else:
            answer = self.run(route, state, request, params)
        self.finish_api(state, record, answer)

    def serve_timeout(self, state, route, params, request, record, failure):
        """Hold the connection without answering, then close, or answer."""
        applied = failure["then"] == "apply"
        if applied:
            # The request takes effect; only its answer is lost.
            self.run(route, state, request, params)
        started = time.monotonic()
        client_stayed = self.hold(failure["seconds"])
        held = round(time.monotonic() - started, 3)
        if failure["then"] == "answer" and client_stayed:
            answer = self.run(route, state, request, params)
            self.finish_api(state, record, answer, outcome=f"answered after {held}s")
            return
        with state.lock:
            record["outcome"] = ("applied, " if applied else "") + (
                f"held {held}s, closed without an answer" if client_stayed
                else f"client gave up after {held}s")
        self.close_connection = True

    def run(self, route, state, request, params):
        """A handler's answer; a crash becomes a 500 in the API's envelope
        (the traceback goes to stderr, never to the client)."""
        try:
            return route.handler(state, request, params)
        except Answer as answer:
            return answer
        except Exception:  # noqa: BLE001 - the stand-in must answer whatever happens
            traceback.print_exc(file=sys.stderr)
            return status_answer(route.operation, 500)

    def finish_api(self, state, record, answer, outcome=None):
        with state.lock:
            record["status"] = answer.status
            if outcome:
                record["outcome"] = outcome
        self.answer(answer)

    def hold(self, seconds):
        """Wait up to `seconds` without answering. False when the client
        closed the connection first (gave up), True when the time ran out."""
        deadline = time.monotonic() + seconds
        connection = self.connection
        while not self.server.state.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            readable, _, _ = select.select([connection], [], [], min(left, 0.05))
            if readable:
                try:
                    if not connection.recv(1, socket.MSG_PEEK):
                        return False  # orderly close: the client gave up
                except OSError:
                    return False  # reset: the client gave up
                time.sleep(min(left, 0.05))  # more bytes (pipelining): keep holding
        return False

    # -- control API and unknown paths ---------------------------------------

    def serve_control_or_unknown(self, state, route, params, request, operation):
        if route is None:
            self.answer(not_found(operation))
            return
        try:
            answer = route.handler(state, request, params)
        except Answer as refusal:
            answer = refusal
        except (ValueError, TypeError, KeyError, InvalidOperation) as error:
            answer = Answer(400, {"error": str(error)})
        except Exception as error:  # noqa: BLE001
            traceback.print_exc(file=sys.stderr)
            answer = Answer(500, {"error": f"{type(error).__name__}: {error}"})
        self.answer(answer)

    # -- reading and writing ------------------------------------------------

    def read_body(self):
        """The request body, by Content-Length or chunked; Malformed if the
        framing is broken or the body is over MAX_BODY_BYTES."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit():
            raise Malformed(f"Content-Length {length!r} is not a number")
        size = int(length)
        if size > MAX_BODY_BYTES:
            raise Malformed(f"body of {size} bytes is over {MAX_BODY_BYTES}")
        body = self.rfile.read(size)
        if len(body) != size:
            raise Malformed("body shorter than its Content-Length")
        return body

    def read_chunked(self):
        body = b""
        while True:
            line = self.rfile.readline(100).split(b";")[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise Malformed("bad chunk size")
            if size == 0:
                self.rfile.readline(100)
                return body
            if len(body) + size > MAX_BODY_BYTES:
                raise Malformed(f"body over {MAX_BODY_BYTES} bytes")
            body += self.rfile.read(size)
            self.rfile.readline(100)

    def answer(self, answer):
        payload = json.dumps(answer.body).encode("utf-8")
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client left; nothing to tell it

    def send_error(self, code, message=None, explain=None):
        """The stdlib's own refusals (bad request line, headers too long,
        ...) as JSON in eBay's common envelope instead of an HTML page."""
        self.close_connection = True
        # A request line too broken to name its version leaves HTTP/0.9,
        # under which the stdlib writes no status line: answer in HTTP/1.1.
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.1"
        error = COMMON_ERRORS[3002]
        body = {"errors": [{"errorId": 3002, "domain": error[1], "category": error[2],
                            "message": error[3], "longMessage": message or error[4]}]}
        payload = json.dumps(body).encode("utf-8")
        try:
            # Always 400 (even for the stdlib's 414/431/501): the request is
            # malformed. The reason phrase stays the standard one, since the
            # stdlib's message quotes client bytes the status line cannot carry.
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", None) != "HEAD":
                self.wfile.write(payload)
        except OSError:
            pass

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        if self.server.verbose:
            sys.stderr.write("standin: %s - %s\n" % (self.address_string(), format % args))


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True  # a held (timeout) connection never blocks shutdown
    allow_reuse_address = True

    def __init__(self, address, verbose=False):
        super().__init__(address, Handler)
        self.state = State()
        self.verbose = verbose
        self.connection_numbers = itertools.count(1)  # next() is atomic under the GIL


def write_ready_file(path, port):
    """Atomically, so a test polling for the file never reads half of it."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump({"port": port, "url": f"http://127.0.0.1:{port}"}, handle)
    os.replace(temporary, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 = any free")
    parser.add_argument("--ready-file", help='written as {"port": N} once listening')
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    options = parser.parse_args(argv)

    server = StandinServer(("127.0.0.1", options.port), verbose=options.verbose)
    port = server.server_address[1]

    def stop(signum, frame):
        server.state.stopping.set()
        # shutdown() waits for serve_forever, which runs in this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if options.ready_file:
        write_ready_file(options.ready_file, port)
    if options.verbose:
        sys.stderr.write(f"standin: listening on http://127.0.0.1:{port}\n")
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
