#!/usr/bin/env python3
"""Self-test of the eBay/Postmark stand-in (ebay_postmark.py).

Starts the stand-in as a subprocess on port 0, learns its port from the
ready file, and drives it over HTTP with urllib as a client would: each
endpoint's success and refusals, each switchable failure kind, the request
log's timestamps, reset, and hostile input.

    python3 scripts/standins/test_ebay_postmark.py
"""

import base64
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ left beside the sources
import ebay_postmark  # noqa: E402 - for the pure auction rules only

CLIENT_ID, CLIENT_SECRET = "SniperApp-PRD-1234", "PRD-secret"
REFRESH, USER = "v^1.1#i^1#r^1#refresh-ada", "ada"
POSTMARK_TOKEN = "pm-server-token"
ITEM = "v1|110012345678|0"
ITEM_PATH = urllib.parse.quote(ITEM, safe="")
SCOPE_PUBLIC = "https://api.ebay.com/oauth/api_scope"
EBAY_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class Standin:
    """The stand-in process, and a small urllib client for it."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory()
        ready = os.path.join(self.dir.name, "standin.ready.json")
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "ebay_postmark.py"), "--port", "0",
             "--ready-file", ready])
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the stand-in did not start")
            time.sleep(0.02)
        with open(ready, encoding="utf-8") as handle:
            self.ready = json.load(handle)
        self.port = self.ready["port"]
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.dir.cleanup()

    def call(self, method, path, body=None, headers=None, form=None, raw=None, timeout=5):
        """(status, headers, parsed JSON body) of one request."""
        headers = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                status, answer_headers, text = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            status, answer_headers, text = error.code, error.headers, error.read()
        return status, answer_headers, json.loads(text) if text else None

    def control(self, method, path, body=None):
        status, _, answer = self.call(method, "/_standin/" + path, body)
        if status != 200:
            raise AssertionError(f"control {path}: {status} {answer}")
        return answer


def basic(client_id=CLIENT_ID, secret=CLIENT_SECRET):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


class StandinTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Standin()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def setUp(self):
        s = self.s
        s.control("POST", "reset")
        s.control("POST", "clients", {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET})
        s.control("POST", "refresh_tokens", {"refreshToken": REFRESH, "userId": USER})
        s.control("POST", "postmark_tokens", {"serverToken": POSTMARK_TOKEN})
        self.add_item()

    # -- helpers ----------------------------------------------------------

    def add_item(self, item_id=ITEM, **fields):
        spec = {"itemId": item_id, "title": "Fender Jazzmaster 1958", "currency": "USD",
                "currentPrice": "10.00", "endsInSeconds": 600, **fields}
        return self.s.control("POST", "items", spec)

    def token(self, refresh=REFRESH, **form):
        status, _, answer = self.s.call(
            "POST", "/identity/v1/oauth2/token", headers={"Authorization": basic()},
            form={"grant_type": "refresh_token", "refresh_token": refresh, **form})
        self.assertEqual(status, 200, answer)
        return answer["access_token"]

    def app_token(self):
        status, _, answer = self.s.call(
            "POST", "/identity/v1/oauth2/token", headers={"Authorization": basic()},
            form={"grant_type": "client_credentials", "scope": SCOPE_PUBLIC})
        self.assertEqual(status, 200, answer)
        return answer["access_token"]

    def bid(self, value="25.00", currency="USD", token=None, item_path=ITEM_PATH,
            marketplace="EBAY_US", body=None, timeout=5):
        headers = {"Authorization": "Bearer " + (token or self.token())}
        if marketplace:
            headers["X-EBAY-C-MARKETPLACE-ID"] = marketplace
        if body is None:
            body = {"maxAmount": {"value": value, "currency": currency},
                    "userConsent": {"adultOnlyItem": False}}
        return self.s.call("POST", f"/buy/offer/v1_beta/bidding/{item_path}/place_proxy_bid",
                           body, headers, timeout=timeout)

    def get_bidding(self, token=None, item_path=ITEM_PATH):
        headers = {"Authorization": "Bearer " + (token or self.token()),
                   "X-EBAY-C-MARKETPLACE-ID": "EBAY_US"}
        return self.s.call("GET", f"/buy/offer/v1_beta/bidding/{item_path}", headers=headers)

    def get_item(self, token=None, item_path=ITEM_PATH, headers=None):
        headers = headers or {"Authorization": "Bearer " + (token or self.app_token())}
        return self.s.call("GET", f"/buy/browse/v1/item/{item_path}", headers=headers)

    def send_email(self, message=None, token=POSTMARK_TOKEN, raw=None, timeout=5):
        message = message if message is not None else {
            "From": "Sniper <sniper@example.com>", "To": "ada@example.com",
            "Subject": "Your bid was placed", "TextBody": "12.50 USD on the Jazzmaster",
            "MessageStream": "outbound"}
        headers = {"Accept": "application/json"}
        if token:
            headers["X-Postmark-Server-Token"] = token
        if raw is not None:
            headers["Content-Type"] = "application/json"
            return self.s.call("POST", "/email", headers=headers, raw=raw, timeout=timeout)
        return self.s.call("POST", "/email", message, headers, timeout=timeout)

    def assert_ebay_error(self, result, status, error_id, domain=None):
        got_status, _, body = result
        self.assertEqual(got_status, status, body)
        self.assertEqual(body["errors"][0]["errorId"], error_id, body)
        self.assertIn("message", body["errors"][0])
        self.assertIn(body["errors"][0]["category"], ("REQUEST", "BUSINESS", "APPLICATION"))
        if domain:
            self.assertEqual(body["errors"][0]["domain"], domain)

    def assert_oauth_error(self, result, status, error):
        got_status, _, body = result
        self.assertEqual(got_status, status, body)
        self.assertEqual(body["error"], error)
        self.assertTrue(body["error_description"])

    def assert_postmark_error(self, result, status, code):
        got_status, _, body = result
        self.assertEqual(got_status, status, body)
        self.assertEqual(body["ErrorCode"], code, body)
        self.assertTrue(body["Message"])

    def item_state(self, item_path=ITEM_PATH):
        return self.s.control("GET", f"items/{item_path}")

    def log(self, operation=None):
        query = f"?operation={operation}" if operation else ""
        return self.s.control("GET", "requests" + query)["requests"]

    def wait_for(self, predicate, seconds=5):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        self.fail("condition not met in time")


class ReadyFileTest(StandinTestCase):
    def test_ready_file_names_the_listening_port(self):
        self.assertIsInstance(self.s.ready["port"], int)
        self.assertGreater(self.s.ready["port"], 0)
        self.assertEqual(self.s.control("GET", "health"), {"ok": True})


class OAuthTest(StandinTestCase):
    def call_token(self, form, authorization=None):
        return self.s.call("POST", "/identity/v1/oauth2/token", form=form,
                           headers={"Authorization": authorization or basic()})

    def test_client_credentials_mints_an_application_token(self):
        status, headers, body = self.call_token(
            {"grant_type": "client_credentials", "scope": SCOPE_PUBLIC})
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(body["token_type"], "Application Access Token")
        self.assertEqual(body["expires_in"], 7200)
        self.assertNotIn("refresh_token", body)
        self.assertTrue(body["access_token"])

    def test_refresh_token_mints_a_user_token(self):
        status, _, body = self.call_token({"grant_type": "refresh_token",
                                           "refresh_token": REFRESH})
        self.assertEqual(status, 200)
        self.assertEqual(body["token_type"], "User Access Token")
        self.assertEqual(body["expires_in"], 7200)
        self.assertNotIn("refresh_token", body)

    def test_bad_client_is_401_invalid_client(self):
        form = {"grant_type": "client_credentials", "scope": SCOPE_PUBLIC}
        self.assert_oauth_error(self.call_token(form, basic(secret="wrong")), 401,
                                "invalid_client")
        self.assert_oauth_error(self.call_token(form, basic(client_id="nobody")), 401,
                                "invalid_client")
        self.assert_oauth_error(self.call_token(form, "Basic %%%not-base64"), 401,
                                "invalid_client")
        status, _, body = self.s.call("POST", "/identity/v1/oauth2/token", form=form)
        self.assertEqual((status, body["error"]), (401, "invalid_client"))

    def test_bad_or_expired_refresh_token_is_400_invalid_grant(self):
        self.assert_oauth_error(self.call_token({"grant_type": "refresh_token",
                                                 "refresh_token": "unknown"}),
                                400, "invalid_grant")
        self.s.control("POST", "refresh_tokens", {"refreshToken": "old", "userId": USER,
                                                  "expiresInSeconds": -1})
        self.assert_oauth_error(self.call_token({"grant_type": "refresh_token",
                                                 "refresh_token": "old"}),
                                400, "invalid_grant")
        self.s.control("POST", "refresh_tokens", {"refreshToken": "theirs", "userId": USER,
                                                  "clientId": "another-app"})
        self.assert_oauth_error(self.call_token({"grant_type": "refresh_token",
                                                 "refresh_token": "theirs"}),
                                400, "invalid_grant")

    def test_other_token_request_refusals(self):
        self.assert_oauth_error(self.call_token({"refresh_token": REFRESH}), 400,
                                "invalid_request")
        self.assert_oauth_error(self.call_token({"grant_type": "password"}), 400,
                                "unsupported_grant_type")
        self.assert_oauth_error(self.call_token({"grant_type": "client_credentials"}), 400,
                                "invalid_request")
        self.assert_oauth_error(self.call_token(
            {"grant_type": "client_credentials",
             "scope": "https://api.ebay.com/oauth/api_scope/sell.inventory"}),
            400, "invalid_scope")
        self.assert_oauth_error(self.call_token(
            {"grant_type": "refresh_token", "refresh_token": REFRESH,
             "scope": "https://api.ebay.com/oauth/api_scope/sell.finances"}),
            400, "invalid_scope")


class AuthorizationCodeTest(StandinTestCase):
    RU_NAME = "Sniper_App-SniperAp-SBX-abcdefghi"

    def add_code(self, code="v^1.1#i^1#f^0#p^3#I^3#t^code-1", **fields):
        spec = {"code": code, "userId": USER, "clientId": CLIENT_ID,
                "redirectUri": self.RU_NAME, **fields}
        self.s.control("POST", "authorization_codes", spec)
        return code

    def exchange(self, code, redirect_uri=None, authorization=None):
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.RU_NAME if redirect_uri is None else redirect_uri}
        return self.s.call("POST", "/identity/v1/oauth2/token", form=form,
                           headers={"Authorization": authorization or basic()})

    def test_a_code_gives_a_refresh_token_as_ebay_documents(self):
        code = self.add_code()
        status, _, body = self.exchange(code)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["token_type"], "User Access Token")
        self.assertEqual(body["expires_in"], 7200)
        self.assertEqual(body["refresh_token_expires_in"], 47304000)
        self.assertTrue(body["access_token"] and body["refresh_token"])
        # The access token bids; the refresh token mints more user tokens.
        self.assertEqual(self.bid(token=body["access_token"])[0], 200)
        user_token = self.token(refresh=body["refresh_token"])
        self.assertEqual(self.get_bidding(token=user_token)[0], 200)
        self.assertEqual(self.s.control("GET", "bids")["bids"][0]["userId"], USER)

    def test_a_code_works_once(self):
        code = self.add_code()
        self.assertEqual(self.exchange(code)[0], 200)
        self.assert_oauth_error(self.exchange(code), 400, "invalid_grant")

    def test_unknown_expired_or_misdirected_codes_are_invalid_grant(self):
        self.assert_oauth_error(self.exchange("never-issued"), 400, "invalid_grant")
        self.add_code("expired", expiresInSeconds=-1)
        self.assert_oauth_error(self.exchange("expired"), 400, "invalid_grant")
        self.add_code("elsewhere")
        self.assert_oauth_error(self.exchange("elsewhere", redirect_uri="Other_RuName"), 400,
                                "invalid_grant")
        self.add_code("theirs", clientId="another-app")
        self.assert_oauth_error(self.exchange("theirs"), 400, "invalid_grant")
        # A refused exchange does not use the code up.
        self.assertEqual(self.exchange("elsewhere")[0], 200)

    def test_the_refresh_tokens_lifetime_is_as_registered(self):
        code = self.add_code(refreshTokenExpiresInSeconds=60)
        status, _, body = self.exchange(code)
        self.assertEqual((status, body["refresh_token_expires_in"]), (200, 60))
        self.s.control("POST", "clock", {"offsetMs": 61_000})
        self.assert_oauth_error(self.s.call(
            "POST", "/identity/v1/oauth2/token", headers={"Authorization": basic()},
            form={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}),
            400, "invalid_grant")

    def test_missing_code_or_redirect_uri_is_invalid_request(self):
        self.add_code("c")
        for form in ({"grant_type": "authorization_code", "redirect_uri": self.RU_NAME},
                     {"grant_type": "authorization_code", "code": "c"}):
            self.assert_oauth_error(self.s.call(
                "POST", "/identity/v1/oauth2/token", form=form,
                headers={"Authorization": basic()}), 400, "invalid_request")
        self.assert_oauth_error(self.exchange("c", authorization=basic(secret="x")), 401,
                                "invalid_client")
        self.assertEqual(self.exchange("c")[0], 200)

    def test_bad_code_registrations_are_400(self):
        for body in ({"code": "c"}, {"userId": USER}, {"code": "", "userId": USER},
                     {"code": "c", "userId": USER, "redirectUri": 5},
                     {"code": "c", "userId": USER, "scopes": "all"}):
            status, _, answer = self.s.call("POST", "/_standin/authorization_codes", body)
            self.assertEqual(status, 400, (body, answer))

    def test_injected_token_failures_apply_to_code_exchanges(self):
        code = self.add_code()
        self.s.control("POST", "failures", {"operation": "token", "kind": "error",
                                            "error": "invalid_grant"})
        self.assert_oauth_error(self.exchange(code), 400, "invalid_grant")
        self.assertEqual(self.exchange(code)[0], 200)


class FixedPriceTest(StandinTestCase):
    def test_a_fixed_price_item_has_a_price_and_nothing_to_bid_on(self):
        self.add_item(buyingOptions=["FIXED_PRICE"], currentPrice="99.00")
        status, _, body = self.get_item()
        self.assertEqual(status, 200, body)
        self.assertEqual(body["buyingOptions"], ["FIXED_PRICE"])
        self.assertEqual(body["price"], {"value": "99.00", "currency": "USD"})
        for field in ("currentBidPrice", "minimumPriceToBid", "bidCount"):
            self.assertNotIn(field, body)
        self.assert_ebay_error(self.bid("120.00"), 404, 120001)
        self.assert_ebay_error(self.get_bidding(), 404, 120001)
        status, _, answer = self.s.call("POST", f"/_standin/items/{ITEM_PATH}/bids",
                                        {"maxAmount": "120.00"})
        self.assertEqual(status, 409, answer)
        self.assertEqual(self.s.control("GET", "bids")["bids"], [])

    def test_an_auction_with_buy_it_now_takes_bids(self):
        self.add_item(buyingOptions=["AUCTION", "FIXED_PRICE"])
        self.assertEqual(self.get_item()[2]["buyingOptions"], ["AUCTION", "FIXED_PRICE"])
        self.assertIn("currentBidPrice", self.get_item()[2])
        self.assertEqual(self.bid("25.00")[0], 200)

    def test_unknown_buying_options_and_bids_on_fixed_price_are_refused(self):
        for spec in ({"buyingOptions": []}, {"buyingOptions": ["RAFFLE"]},
                     {"buyingOptions": "AUCTION"},
                     {"buyingOptions": ["FIXED_PRICE"], "bidCount": 2}):
            status, _, answer = self.s.call("POST", "/_standin/items", {
                "itemId": ITEM, "endsInSeconds": 60, **spec})
            self.assertEqual(status, 400, (spec, answer))


class BrowseTest(StandinTestCase):
    def test_get_item_has_the_fields_a_sniper_reads(self):
        self.add_item(rivalMaxBid="14.00", bidCount=3)
        status, _, body = self.get_item()
        self.assertEqual(status, 200, body)
        self.assertEqual(body["itemId"], ITEM)
        self.assertEqual(body["title"], "Fender Jazzmaster 1958")
        self.assertEqual(body["buyingOptions"], ["AUCTION"])
        self.assertRegex(body["itemEndDate"], EBAY_TIME)
        self.assertEqual(body["currentBidPrice"], {"value": "10.00", "currency": "USD"})
        self.assertEqual(body["price"], {"value": "10.00", "currency": "USD"})
        self.assertEqual(body["minimumPriceToBid"], {"value": "10.50", "currency": "USD"})
        self.assertEqual(body["bidCount"], 3)

    def test_user_tokens_read_items_too(self):
        self.assertEqual(self.get_item(token=self.token())[0], 200)

    def test_unknown_item_is_404_11001(self):
        self.assert_ebay_error(self.get_item(item_path="v1%7C999%7C0"), 404, 11001,
                               "API_BROWSE")
        # Hostile ids are just unknown ids.
        for path in ("%00", "..%2F..%2Fetc", "%F0%9F%92%A3", "x" * 2000):
            self.assert_ebay_error(self.get_item(item_path=path), 404, 11001)

    def test_token_refusals_use_the_common_errors(self):
        self.assert_ebay_error(self.get_item(headers={"X-Other": "1"}), 400, 1002, "OAuth")
        self.assert_ebay_error(self.get_item(headers={"Authorization": basic()}), 400, 1003)
        self.assert_ebay_error(self.get_item(headers={"Authorization": "Bearer forged"}),
                               401, 1001)
        self.assert_ebay_error(self.get_item(headers={"Authorization": "Bearer"}), 401, 1001)

    def test_tokens_expire_on_the_standin_clock(self):
        self.s.control("POST", "config", {"tokenLifetimeSeconds": 60})
        token = self.app_token()
        self.assertEqual(self.get_item(token=token)[0], 200)
        self.s.control("POST", "clock", {"offsetMs": 61_000})
        self.assert_ebay_error(self.get_item(token=token), 401, 1001)


class OfferTest(StandinTestCase):
    def test_increment_table(self):
        increment = ebay_postmark.increment
        D = ebay_postmark.Decimal
        for price, step in (("0.99", "0.05"), ("1.00", "0.25"), ("4.99", "0.25"),
                            ("5.00", "0.50"), ("24.99", "0.50"), ("25.00", "1.00"),
                            ("100.00", "2.50"), ("250.00", "5.00"), ("500.00", "10.00"),
                            ("1000.00", "25.00"), ("2500.00", "50.00"),
                            ("5000.00", "100.00"), ("99999.00", "100.00")):
            self.assertEqual(increment(D(price)), D(step), price)

    def test_first_bid_takes_the_starting_price(self):
        status, _, body = self.bid("25.00")
        self.assertEqual(status, 200, body)
        self.assertRegex(body["proxyBidId"], r"^\w+$")
        item = self.item_state()
        self.assertEqual((item["currentPrice"], item["highBidder"], item["bidCount"]),
                         ("10.00", USER, 1))

    def test_new_leader_pays_one_increment_over_the_previous_maximum(self):
        self.add_item(rivalMaxBid="15.00")
        status, _, body = self.bid("30.00")
        self.assertEqual(status, 200, body)
        item = self.item_state()
        # 15.00 + the 0.50 increment of the 5.00-24.99 band, not the 30.00 maximum.
        self.assertEqual((item["currentPrice"], item["highBidder"]), ("15.50", USER))
        status, _, bidding = self.get_bidding()
        self.assertEqual(status, 200, bidding)
        self.assertEqual(bidding["itemId"], ITEM)
        self.assertEqual(bidding["auctionStatus"], "ACTIVE")
        self.assertRegex(bidding["auctionEndDate"], EBAY_TIME)
        self.assertTrue(bidding["highBidder"])
        self.assertEqual(bidding["currentPrice"], {"value": "15.50", "currency": "USD"})
        self.assertEqual(bidding["currentProxyBid"],
                         {"proxyBidId": body["proxyBidId"],
                          "maxAmount": {"value": "30.00", "currency": "USD"}})
        self.assertEqual(bidding["bidCount"], 2)
        self.assertEqual(bidding["suggestedBidAmounts"][0],
                         {"value": "16.00", "currency": "USD"})
        bids = self.s.control("GET", "bids")["bids"]
        self.assertEqual([(b["itemId"], b["userId"], b["maxAmount"]["value"]) for b in bids],
                         [(ITEM, USER, "30.00")])

    def test_a_bid_under_the_leaders_maximum_is_outbid_at_once(self):
        self.add_item(rivalMaxBid="50.00", bidCount=4)
        self.assertEqual(self.bid("20.00")[0], 200)
        item = self.item_state()
        self.assertEqual((item["currentPrice"], item["highBidder"]), ("20.50", "rival"))
        self.assertFalse(self.get_bidding()[2]["highBidder"])

    def test_a_rival_outbids_later_through_the_control_api(self):
        token = self.token()
        self.assertEqual(self.bid("20.00", token=token)[0], 200)
        answer = self.s.control("POST", f"items/{ITEM_PATH}/bids",
                                {"bidder": "bob", "maxAmount": "40.00"})
        self.assertEqual(answer["item"]["currentPrice"], "20.50")
        self.assertFalse(self.get_bidding(token=token)[2]["highBidder"])
        status, _, refused = self.s.call("POST", f"/_standin/items/{ITEM_PATH}/bids",
                                         {"bidder": "carol", "maxAmount": "1.00"})
        self.assertEqual((status, refused["ebay"]["errors"][0]["errorId"]), (409, 120008))

    def test_the_minimum_to_bid_is_accepted_and_a_cent_less_is_too_low(self):
        self.add_item(rivalMaxBid="10.00", bidCount=1)
        self.assert_ebay_error(self.bid("10.49"), 409, 120008, "API_OFFER")
        self.assertEqual(self.bid("10.50")[0], 200)

    def test_reserve_price_is_met_when_the_maximum_reaches_it(self):
        self.add_item(reservePrice="50.00")
        self.assertEqual(self.bid("40.00")[0], 200)
        self.assertFalse(self.get_item()[2]["reservePriceMet"])
        self.assertEqual(self.bid("60.00")[0], 200)
        self.assertEqual(self.item_state()["currentPrice"], "50.00")
        self.assertTrue(self.get_bidding()[2]["reservePriceMet"])

    def test_business_refusals(self):
        token = self.token()
        self.add_item("v1|2|0", endsInSeconds=-1)
        self.assert_ebay_error(self.bid(token=token, item_path="v1%7C2%7C0"), 409, 120012)
        self.assert_ebay_error(self.bid("9.99", token=token), 409, 120008)
        self.assert_ebay_error(self.bid("25.00", "EUR", token=token), 409, 120009)
        self.assertEqual(self.bid("25.00", token=token)[0], 200)
        self.assert_ebay_error(self.bid("20.00", token=token), 409, 120010)
        self.add_item("v1|3|0", adultOnly=True)
        self.assert_ebay_error(self.bid(token=token, item_path="v1%7C3%7C0"), 409, 120032)
        self.assertEqual(self.bid(token=token, item_path="v1%7C3%7C0", body={
            "maxAmount": {"value": "25.00", "currency": "USD"},
            "userConsent": {"adultOnlyItem": True}})[0], 200)

    def test_request_refusals(self):
        token = self.token()
        self.assert_ebay_error(self.bid(token=token, marketplace=None), 400, 120015)
        self.assert_ebay_error(self.bid(token=token, marketplace="EBAY_MARS"), 400, 120017)
        self.assert_ebay_error(self.bid(token=token, item_path="v1%7C404%7C0"), 404, 120001)
        self.assert_ebay_error(self.bid(token=token, body={}), 400, 120016)
        self.assert_ebay_error(self.bid(token=token, body={"userConsent": {}}), 400, 120016)
        for value in ("12.5.0", "-3.00", "0", "abc", "12.555", 12.5, None):
            self.assert_ebay_error(self.bid(value, token=token), 400, 120013)
        for currency in ("usd", "US", "DOLLAR", None):
            self.assert_ebay_error(self.bid("25.00", currency, token=token), 400, 120014)
        self.assert_ebay_error(self.bid(token=token, body=["not", "an", "object"]), 400, 2004)
        status, _, body = self.s.call(
            "POST", f"/buy/offer/v1_beta/bidding/{ITEM_PATH}/place_proxy_bid",
            raw=b'{"maxAmount": ', headers={"Authorization": "Bearer " + token,
                                            "X-EBAY-C-MARKETPLACE-ID": "EBAY_US",
                                            "Content-Type": "application/json"})
        self.assertEqual((status, body["errors"][0]["errorId"]), (400, 2004))
        self.assertEqual(self.item_state()["bidCount"], 0)  # no refusal had an effect

    def test_bidding_needs_a_user_token_with_the_offer_scope(self):
        self.assert_ebay_error(self.bid(token=self.app_token()), 403, 1100)
        narrow = self.token(scope=SCOPE_PUBLIC)
        self.assert_ebay_error(self.bid(token=narrow), 403, 1100)
        self.assert_ebay_error(self.bid(token="forged"), 401, 1001)

    def test_get_bidding_without_a_bid_is_404_120033(self):
        self.assert_ebay_error(self.get_bidding(), 404, 120033)
        self.assert_ebay_error(self.get_bidding(item_path="v1%7C404%7C0"), 404, 120001)

    def test_the_clock_offset_ends_an_auction(self):
        token = self.token()
        self.assertEqual(self.bid("25.00", token=token)[0], 200)
        self.s.control("POST", "clock", {"offsetMs": 601_000})
        self.assert_ebay_error(self.bid("30.00", token=token), 409, 120012)
        bidding = self.get_bidding(token=token)[2]
        self.assertEqual(bidding["auctionStatus"], "ENDED")
        self.assertEqual(bidding["suggestedBidAmounts"], [])
        self.assertEqual(self.get_item()[2]["estimatedAvailabilities"][0]
                         ["estimatedAvailabilityStatus"], "OUT_OF_STOCK")


class ConcurrencyTest(StandinTestCase):
    def test_concurrent_bids_from_many_users_stay_consistent(self):
        tokens = []
        for n in range(12):
            self.s.control("POST", "refresh_tokens",
                           {"refreshToken": f"rt-{n}", "userId": f"user-{n}"})
            tokens.append(self.token(refresh=f"rt-{n}"))
        results = [None] * len(tokens)

        def place(n):
            results[n] = self.bid(f"{20 + n}.00", token=tokens[n])[0]

        threads = [threading.Thread(target=place, args=(n,)) for n in range(len(tokens))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        accepted = results.count(200)
        self.assertEqual(accepted + results.count(409), len(tokens), results)
        item = self.item_state()
        self.assertEqual(item["bidCount"], accepted)
        self.assertEqual(len(self.s.control("GET", "bids")["bids"]), accepted)
        self.assertEqual(item["highBidder"], "user-11")  # the highest maximum leads
        self.assertEqual(len(self.log("bid")), len(tokens))


class PostmarkTest(StandinTestCase):
    def test_send_email(self):
        status, _, body = self.send_email()
        self.assertEqual(status, 200, body)
        self.assertEqual(body["To"], "ada@example.com")
        self.assertEqual((body["ErrorCode"], body["Message"]), (0, "OK"))
        self.assertRegex(body["MessageID"], r"^[0-9a-f-]{36}$")
        self.assertRegex(body["SubmittedAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        emails = self.s.control("GET", "emails")["emails"]
        self.assertEqual(len(emails), 1)
        self.assertEqual(emails[0]["MessageID"], body["MessageID"])
        self.assertEqual(emails[0]["Subject"], "Your bid was placed")
        self.assertEqual(emails[0]["TextBody"], "12.50 USD on the Jazzmaster")
        self.assertEqual(emails[0]["MessageStream"], "outbound")

    def test_html_body_and_named_recipients(self):
        status, _, body = self.send_email({
            "From": "sniper@example.com", "To": '"Lovelace, Ada" <ada@example.com>, b@x.org',
            "Subject": "Outbid", "HtmlBody": "<p>Outbid</p>"})
        self.assertEqual(status, 200, body)

    def test_bad_token_is_401_error_code_10(self):
        self.assert_postmark_error(self.send_email(token=None), 401, 10)
        self.assert_postmark_error(self.send_email(token="wrong"), 401, 10)

    def test_invalid_requests_are_422(self):
        good = {"From": "sniper@example.com", "To": "ada@example.com", "Subject": "s",
                "TextBody": "t"}
        for broken in ({k: v for k, v in good.items() if k != "To"},
                       {k: v for k, v in good.items() if k != "From"},
                       {k: v for k, v in good.items() if k != "TextBody"},
                       {**good, "To": "not-an-address"},
                       {**good, "From": "a@example.com, b@example.com"},
                       {**good, "To": ",".join(f"u{n}@example.com" for n in range(51))}):
            self.assert_postmark_error(self.send_email(broken), 422, 300)
        self.assert_postmark_error(self.send_email({**good, "To": ["ada@example.com"]}),
                                   422, 403)
        self.assert_postmark_error(self.send_email(raw=b'{"From": '), 422, 402)
        self.assert_postmark_error(self.send_email(raw=b"\xff\xfe\x00"), 422, 402)
        self.assert_postmark_error(self.send_email(raw=b"[1, 2]"), 422, 403)
        self.assertEqual(self.s.control("GET", "emails")["emails"], [])

    def test_inactive_recipient_is_406(self):
        self.s.control("POST", "inactive_recipients", {"emails": ["ADA@example.com"]})
        self.assert_postmark_error(self.send_email(), 422, 406)


class FailureTest(StandinTestCase):
    """Each failure kind, for each operation, then the normal answer again."""

    def do(self, operation, timeout=5):
        if operation == "token":
            return self.s.call("POST", "/identity/v1/oauth2/token",
                               headers={"Authorization": basic()}, timeout=timeout,
                               form={"grant_type": "refresh_token", "refresh_token": REFRESH})
        if operation == "item":
            return self.get_item(token=self.token_for_item)
        if operation == "bid":
            # Each bid raises the maximum: repeating one is refused (120010).
            self.next_max += 5
            return self.bid(f"{self.next_max}.00", token=self.user_token, timeout=timeout)
        if operation == "bidding":
            return self.get_bidding(token=self.user_token)
        return self.send_email(timeout=timeout)

    def setUp(self):
        super().setUp()
        self.user_token = self.token()
        self.token_for_item = self.app_token()
        self.next_max = 20

    def fail_next(self, operation, kind, **spec):
        return self.s.control("POST", "failures",
                              {"operation": operation, "kind": kind, **spec})

    def test_status_failures_in_each_apis_envelope(self):
        envelopes = {
            "token": {401: "invalid_client", 429: 2001, 500: "server_error",
                      503: "temporarily_unavailable"},
            "item": {401: 1001, 429: 2001, 500: 11000, 503: 11000},
            "bid": {401: 1001, 429: 2001, 500: 120000, 503: 120000},
            "email": {401: 10, 429: 429, 500: None, 503: 100},
        }
        for operation, expected in envelopes.items():
            for status, code in expected.items():
                with self.subTest(operation=operation, status=status):
                    self.fail_next(operation, str(status), retryAfter=7)
                    got, headers, body = self.do(operation)
                    self.assertEqual(got, status, body)
                    if status == 429:
                        self.assertEqual(headers["Retry-After"], "7")
                    if isinstance(code, str):
                        self.assertEqual(body["error"], code)
                    elif "errors" in body:
                        self.assertEqual(body["errors"][0]["errorId"], code)
                    else:
                        self.assertEqual(body.get("ErrorCode"), code)
                        self.assertTrue(body["Message"])
                    self.assertEqual(self.do(operation)[0], 200)  # one use only

    def test_count_and_order(self):
        self.fail_next("bid", "503", count=2)
        self.fail_next("bid", "429")
        self.assertEqual([self.do("bid")[0] for _ in range(4)], [503, 503, 429, 200])
        self.assertEqual(self.s.control("GET", "failures")["failures"], [])
        statuses = [r["injected"] for r in self.log("bid")]
        self.assertEqual(statuses, ["503", "503", "429", None])

    def test_failures_come_before_validation_and_have_no_effect(self):
        self.fail_next("bid", "500")
        self.assertEqual(self.do("bid")[0], 500)
        self.assertEqual(self.item_state()["bidCount"], 0)

    def test_specific_documented_errors(self):
        self.fail_next("bid", "error", errorId=120012)
        self.assert_ebay_error(self.do("bid"), 409, 120012, "API_OFFER")
        self.fail_next("bid", "error", errorId=120001)
        status, _, body = self.do("bid")
        self.assertEqual(status, 404)
        self.assertIn(ITEM, body["errors"][0]["message"])
        self.fail_next("item", "error", errorId=11004)
        self.assert_ebay_error(self.do("item"), 400, 11004, "API_BROWSE")
        self.fail_next("token", "error", error="invalid_grant")
        self.assert_oauth_error(self.do("token"), 400, "invalid_grant")
        self.fail_next("email", "error", errorCode=406)
        self.assert_postmark_error(self.do("email"), 422, 406)
        self.fail_next("bidding", "error", status=418, body={"teapot": True})
        self.assertEqual(self.do("bidding")[:3:2], (418, {"teapot": True}))

    def test_bad_failure_specs_are_refused(self):
        for spec in ({"operation": "bid", "kind": "404"}, {"operation": "nope", "kind": "500"},
                     {"operation": "bid", "kind": "error"},
                     {"operation": "bid", "kind": "error", "errorId": 42},
                     {"operation": "bid", "kind": "timeout", "then": "explode"},
                     {"operation": "bid", "kind": "500", "count": 0},
                     {"operation": "bid", "kind": "error", "status": 99, "body": {}}):
            status, _, body = self.s.call("POST", "/_standin/failures", spec)
            self.assertEqual(status, 400, spec)
            self.assertIn("error", body)

    def test_timeout_until_the_client_gives_up(self):
        self.fail_next("bid", "timeout", seconds=30)
        started = time.monotonic()
        with self.assertRaises((TimeoutError, urllib.error.URLError, OSError)):
            self.do("bid", timeout=0.5)
        self.assertLess(time.monotonic() - started, 2)
        record = self.wait_for(lambda: [r for r in self.log("bid") if "outcome" in r])[0]
        self.assertIn("client gave up", record["outcome"])
        self.assertLess(float(re.search(r"after ([\d.]+)s", record["outcome"]).group(1)), 3)
        self.assertIsNone(record["status"])
        self.assertEqual(self.item_state()["bidCount"], 0)
        self.assertEqual(self.do("bid")[0], 200)  # the next one is answered

    def test_timeout_then_close(self):
        self.fail_next("email", "timeout", seconds=0.3)
        started = time.monotonic()
        with self.assertRaises((urllib.error.URLError, OSError)):
            self.do("email", timeout=5)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        record = self.wait_for(lambda: [r for r in self.log("email") if "outcome" in r])[0]
        self.assertIn("closed without an answer", record["outcome"])
        self.assertEqual(self.s.control("GET", "emails")["emails"], [])

    def test_timeout_apply_places_the_bid_but_loses_the_answer(self):
        self.fail_next("bid", "timeout", seconds=0.3, then="apply")
        with self.assertRaises((urllib.error.URLError, OSError)):
            self.bid("25.00", token=self.user_token)
        self.assertEqual(len(self.s.control("GET", "bids")["bids"]), 1)
        self.assertEqual(self.item_state()["highBidder"], USER)
        # A retry of the same bid is now "cannot lower" (equal maximum): the
        # sniper has to read getBidding to learn the first one landed.
        self.assert_ebay_error(self.bid("25.00", token=self.user_token), 409, 120010)
        self.assertTrue(self.get_bidding(token=self.user_token)[2]["highBidder"])

    def test_timeout_then_answer_is_a_slow_success(self):
        self.fail_next("token", "timeout", seconds=0.4, then="answer")
        started = time.monotonic()
        status, _, body = self.do("token", timeout=5)
        self.assertEqual(status, 200, body)
        self.assertGreaterEqual(time.monotonic() - started, 0.4)
        self.assertIn("answered after", self.log("token")[-1]["outcome"])


class RequestLogTest(StandinTestCase):
    def test_every_api_request_with_its_arrival_time(self):
        self.s.control("POST", "failures", {"operation": "bid", "kind": "429"})
        token = self.token()
        before = int(time.time() * 1000)
        self.assertEqual(self.bid("25.00", token=token)[0], 429)
        time.sleep(0.05)
        middle = int(time.time() * 1000)
        self.assertEqual(self.bid("25.00", token=token)[0], 200)
        after = int(time.time() * 1000)
        bids = self.log("bid")
        self.assertEqual(len(bids), 2)
        first, second = bids
        for record in bids:
            self.assertEqual(record["method"], "POST")
            self.assertEqual(record["path"],
                             f"/buy/offer/v1_beta/bidding/{ITEM_PATH}/place_proxy_bid")
            self.assertEqual(record["headers"]["authorization"], "Bearer " + token)
            self.assertEqual(record["headers"]["x-ebay-c-marketplace-id"], "EBAY_US")
            self.assertEqual(record["body"]["maxAmount"], {"value": "25.00", "currency": "USD"})
        self.assertTrue(before <= first["receivedAtMs"] <= middle, (before, first, middle))
        self.assertTrue(middle <= second["receivedAtMs"] <= after)
        self.assertEqual((first["status"], first["injected"]), (429, "429"))
        self.assertEqual((second["status"], second["injected"]), (200, None))
        self.assertLess(first["seq"], second["seq"])
        since = self.s.control("GET", f"requests?operation=bid&sinceMs={middle}")["requests"]
        self.assertEqual([r["seq"] for r in since], [second["seq"]])

    def test_requests_on_one_kept_alive_connection_share_its_number(self):
        import http.client
        connection = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=5)
        headers = {"Authorization": "Bearer " + self.app_token()}
        for _ in range(2):
            connection.request("GET", f"/buy/browse/v1/item/{ITEM_PATH}", headers=headers)
            answer = connection.getresponse()
            answer.read()
            self.assertEqual(answer.status, 200)
        connection.close()
        self.assertEqual(self.get_item()[0], 200)
        numbers = [r["connection"] for r in self.log("item")]
        self.assertEqual(len(numbers), 3, numbers)
        self.assertEqual(numbers[0], numbers[1])
        self.assertNotEqual(numbers[1], numbers[2])
        self.assertTrue(all(isinstance(n, int) and n > 0 for n in numbers))

    def test_token_form_bodies_are_parsed_and_control_calls_are_not_logged(self):
        self.token()
        records = self.log()
        self.assertEqual([r["operation"] for r in records], ["token"])
        self.assertEqual(records[0]["body"], {"grant_type": "refresh_token",
                                              "refresh_token": REFRESH})


class ResetTest(StandinTestCase):
    def test_reset_forgets_everything(self):
        token = self.token()
        self.assertEqual(self.bid(token=token)[0], 200)
        self.assertEqual(self.send_email()[0], 200)
        self.s.control("POST", "failures", {"operation": "item", "kind": "500"})
        self.s.control("POST", "clock", {"offsetMs": 5000})
        self.s.control("POST", "reset")
        self.assertEqual(self.log(), [])
        self.assertEqual(self.s.control("GET", "emails")["emails"], [])
        self.assertEqual(self.s.control("GET", "bids")["bids"], [])
        self.assertEqual(self.s.control("GET", "failures")["failures"], [])
        self.assertEqual(self.s.call("GET", f"/_standin/items/{ITEM_PATH}")[0], 404)
        self.assert_ebay_error(self.get_item(headers={"Authorization": "Bearer " + token}),
                               401, 1001)
        self.assert_oauth_error(self.s.call("POST", "/identity/v1/oauth2/token",
                                            headers={"Authorization": basic()},
                                            form={"grant_type": "client_credentials",
                                                  "scope": SCOPE_PUBLIC}),
                                401, "invalid_client")
        self.assertEqual(self.s.control("POST", "clock", {"offsetMs": 0})["offsetMs"], 0)


class HostileInputTest(StandinTestCase):
    def raw(self, data):
        """Send raw bytes; (status line, headers+body text) of the answer."""
        with socket.create_connection(("127.0.0.1", self.s.port), timeout=5) as connection:
            connection.sendall(data)
            chunks = []
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        text = b"".join(chunks).decode("utf-8", errors="replace")
        head, _, body = text.partition("\r\n\r\n")
        return head.split("\r\n")[0], head, body

    def test_garbage_request_lines_get_a_json_400(self):
        for data in (b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9.9 extra\r\n\r\n",
                     b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
                     b"BREW /email HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"):
            with self.subTest(data=data[:20]):
                status_line, head, body = self.raw(data)
                self.assertIn(" 400 ", status_line + " ", head)
                self.assertIn("application/json", head)
                parsed = json.loads(body)
                self.assertIn(parsed["errors"][0]["errorId"], (3002, 3003))

    def test_broken_body_framing_gets_a_400_in_the_apis_envelope(self):
        status_line, _, body = self.raw(
            b"POST /email HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n{}")
        self.assertIn(" 400 ", status_line)
        self.assertEqual(json.loads(body)["ErrorCode"], 402)
        status_line, _, body = self.raw(
            b"POST /identity/v1/oauth2/token HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 99999999999\r\n\r\n")
        self.assertIn(" 400 ", status_line)
        self.assertEqual(json.loads(body)["error"], "invalid_request")
        status_line, _, body = self.raw(
            b"POST /buy/offer/v1_beta/bidding/x/place_proxy_bid HTTP/1.1\r\nHost: x\r\n"
            b"Transfer-Encoding: chunked\r\n\r\nzz\r\n")
        self.assertIn(" 400 ", status_line)
        self.assertEqual(json.loads(body)["errors"][0]["errorId"], 3002)

    def test_chunked_bodies_are_read(self):
        message = json.dumps({"From": "s@example.com", "To": "ada@example.com",
                              "Subject": "s", "TextBody": "t"}).encode()
        status_line, _, body = self.raw(
            b"POST /email HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"X-Postmark-Server-Token: " + POSTMARK_TOKEN.encode() + b"\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + f"{len(message):x}".encode() + b"\r\n" + message + b"\r\n0\r\n\r\n")
        self.assertIn(" 200 ", status_line)
        self.assertEqual(json.loads(body)["ErrorCode"], 0)

    def test_unknown_paths_and_methods(self):
        self.assert_ebay_error(self.s.call("GET", "/buy/browse/v1/nothing"), 404, 3003)
        self.assert_ebay_error(self.s.call("DELETE", f"/buy/browse/v1/item/{ITEM_PATH}"),
                               404, 3003)
        status, _, body = self.s.call("GET", "/email")
        self.assertEqual((status, body), (404, {"Message": "Not Found"}))
        self.assertEqual(self.s.call("GET", "/_standin/nothing")[0], 404)

    def test_bad_control_bodies_are_400(self):
        for path, body in (("items", {"itemId": ITEM}),
                           ("items", {"itemId": ITEM, "endsInSeconds": 5,
                                      "currentPrice": 5}),
                           ("items", {"itemId": ITEM, "endTime": "yesterday"}),
                           ("clients", {"clientId": 1}), ("clock", {"offsetMs": "x"}),
                           ("config", {"tokenLifetimeSeconds": 0})):
            status, _, answer = self.s.call("POST", "/_standin/" + path, body)
            self.assertEqual(status, 400, (path, body, answer))
        status, _, answer = self.s.call("POST", "/_standin/items", raw=b"{",
                                        headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400)

    def test_the_server_still_answers_after_all_that(self):
        self.test_garbage_request_lines_get_a_json_400()
        self.assertEqual(self.s.control("GET", "health"), {"ok": True})


if __name__ == "__main__":
    unittest.main(verbosity=1)
