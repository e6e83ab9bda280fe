//! Contract test of the eBay bid sniper backend (seed 004, issue 12) through
//! the path a user's request takes (tier `tier-emulator`): `ebay-sniper`
//! deployed to the emulator (moto: DynamoDB, Cognito, KMS, Secrets Manager,
//! EventBridge Scheduler, SQS) with its two real handler packages, eBay and
//! Postmark played by the local stand-in (`scripts/standins/ebay_postmark.py`),
//! the HTTP API served by `stackctl local` (the JWT authorizer checking real
//! ID tokens of the deployed pool, each function a `bootstrap` under its own
//! role, its AWS calls checked by the IAM proxy) and the bid executor run by
//! `stackctl local invoke` with the input of the bid's schedule, as
//! Scheduler would.
//!
//! One deploy, one `stackctl local` session:
//!
//! - profile: defaults, a change, read back;
//! - the eBay account: linked with a refresh token (stored encrypted with
//!   the stack key, bound to the user's encryption context), a token eBay
//!   does not know refused, linked again through the authorization code
//!   grant (a code works once);
//! - bids: created, with the one-time schedule read back from Scheduler
//!   (expression, time zone, window, target, role, input, dead-letter queue,
//!   retry policy, deletion after completion); edited (the schedule moves);
//! - the executor fired with the schedule's input: one proxy bid on eBay at
//!   the bid moment (the delay printed), the bid PLACED, a history entry, one
//!   e-mail; fired again and twice at once: still one bid;
//! - a cancelled bid: its schedule gone, cancelling again fine, firing it
//!   bids nothing;
//! - each way eBay and Postmark fail, recorded on the bid, in the history
//!   and in the e-mail (or the recorded notification failure);
//! - bad input, each with its code and no side effect (no schedule, no bid
//!   item, no proxy bid);
//! - listing bids and history, another user seeing none of it, unlinking;
//! - what `stackctl local` and `local invoke` printed: no AWS call denied
//!   by IAM, no function failing.
//!
//! Every check that fails is recorded and the test carries on; it fails at
//! the end with the list. Per route it prints requests and latency, and the
//! executor's delay from the bid moment for each bid it placed.

mod support;

use aws_sdk_dynamodb::types::{AttributeValue, Select};
use aws_sdk_scheduler::primitives::{DateTime, DateTimeFormat};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;
use support::local::{Answer, Local};
use support::sniper::{function_failures, iam_denials, now_ms, Invocation, User, World};
use support::sniper::{APP_ID, CERT_ID, MAIL_FROM, RU_NAME};
use support::standin::item_path;

const ORIGIN: &str = "http://localhost:3000";
/// Sam's eBay account: the user id eBay knows them by, the refresh token
/// they hold, and a code eBay's consent page would hand the app.
const SAM_EBAY: &str = "sam-ebay-buyer";
const SAM_REFRESH: &str = "v^1.1#i^1#f^0#p^3#r^1#I^3#t^Ul4xMF8yOjM0sam-refresh";
const SAM_CODE: &str = "v^1.1#i^1#f^0#I^3#r^1#p^3#t^Ul41XzA6MjAsam-consent-code";
/// How far ahead an item ends when its bid is made: the schedule fires
/// 120 s before the bid moment and must be at least 60 s away.
const CREATE_AHEAD_MS: u64 = 240_000;
/// When a bid is fired, its item is moved to end this long after the
/// bid moment is reached... counted from now: `stackctl local invoke`
/// starts (and checks the build) within it, then the executor waits.
const FIRE_MARGIN_MS: u64 = 9_000;

#[derive(Default)]
struct Stat {
    millis: Vec<f64>,
    failures: usize,
}

/// A bid the test made: its item as registered in the stand-in (without
/// its end) and the input its schedule sends.
#[derive(Clone)]
struct TestBid {
    label: &'static str,
    id: String,
    item_id: String,
    item: Value,
    lead: u32,
    max: &'static str,
    input: Value,
}

/// One firing of the executor: the end the item was moved to, the bid
/// moment, and the run.
struct Fired {
    end_ms: u64,
    moment_ms: u64,
    run: Invocation,
}

struct Backend {
    world: World,
    local: Local,
    dynamodb: aws_sdk_dynamodb::Client,
    scheduler: aws_sdk_scheduler::Client,
    kms: aws_sdk_kms::Client,
    stats: Mutex<BTreeMap<String, Stat>>,
    problems: Mutex<Vec<String>>,
    /// Every executor run: (what, run), for the IAM check at the end.
    runs: Mutex<Vec<(String, Invocation)>>,
    /// Delay of each proxy bid from its bid moment (stand-in arrival), ms.
    delays: Mutex<Vec<(String, i64)>>,
}

/// Records a failed check (with its line) and carries on.
macro_rules! check {
    ($b:expr, $cond:expr, $($message:tt)+) => {
        if !$cond {
            $b.fail(format!("line {}: {}", line!(), format!($($message)+)));
        }
    };
}

#[derive(Clone, Copy)]
enum Expect<'a> {
    /// A function's success envelope with this status.
    Ok(u16),
    /// A function's error envelope with this status and code.
    Error(u16, &'a str),
    /// API Gateway's own answer (`{"message": …}`), before any function.
    Gateway(u16, &'a str),
}

impl Expect<'_> {
    fn status(self) -> u16 {
        match self {
            Expect::Ok(s) | Expect::Error(s, _) | Expect::Gateway(s, _) => s,
        }
    }
}

impl Backend {
    fn fail(&self, problem: String) {
        eprintln!("FAILED {problem}");
        self.problems.lock().unwrap().push(problem);
    }

    /// A request as the frontend sends it (`Authorization: Bearer ID_TOKEN`,
    /// the dev origin), timed, counted and checked against `expect`.
    fn call(
        &self,
        user: Option<&User>,
        method: &str,
        path: &str,
        body: Option<Value>,
        expect: Expect<'_>,
    ) -> Answer {
        let text = body.map(|b| b.to_string());
        self.call_raw(
            user.map(|u| u.id_token.as_str()),
            method,
            path,
            text.as_deref(),
            expect,
        )
    }

    fn call_raw(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
        expect: Expect<'_>,
    ) -> Answer {
        let mut headers = vec![("origin".to_string(), ORIGIN.to_string())];
        if body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        if let Some(token) = token {
            headers.push(("authorization".into(), format!("Bearer {token}")));
        }
        let body = body.unwrap_or_default();
        let started = Instant::now();
        let r = self.local.request(method, path, &headers, body.as_bytes());
        let took = started.elapsed().as_secs_f64() * 1000.0;
        let request = format!("{method} {path} {body}");
        let unexpected = r.status != expect.status();
        {
            let mut stats = self.stats.lock().unwrap();
            let stat = stats.entry(route_of(method, path)).or_default();
            stat.millis.push(took);
            stat.failures += usize::from(unexpected);
        }
        let shown = describe(&r);
        check!(
            self,
            !unexpected,
            "{request}: expected {}, got {shown}",
            expect.status()
        );
        if unexpected {
            return r;
        }
        match expect {
            Expect::Ok(_) => check!(
                self,
                r.body["success"] == json!(true) && r.body.get("data").is_some(),
                "{request}: not a success envelope: {shown}"
            ),
            Expect::Error(status, code) => {
                let error = &r.body["error"];
                check!(
                    self,
                    r.body["success"] == json!(false)
                        && error["code"] == json!(code)
                        && error["message"].as_str().is_some_and(|m| !m.is_empty())
                        && error["statusCode"] == json!(status),
                    "{request}: expected the error envelope {status} {code}, got {shown}"
                );
            }
            Expect::Gateway(_, message) => check!(
                self,
                r.body == json!({ "message": message }),
                "{request}: expected API Gateway's {{\"message\": {message:?}}}, got {shown}"
            ),
        }
        r
    }

    // ------------------------------------------------------------ reads

    async fn users_item(&self, user: &User) -> HashMap<String, AttributeValue> {
        self.dynamodb
            .get_item()
            .table_name(&self.world.users_table)
            .key("userId", AttributeValue::S(user.sub.clone()))
            .consistent_read(true)
            .send()
            .await
            .expect("GetItem on the Users table")
            .item
            .unwrap_or_default()
    }

    async fn stored_token(&self, user: &User) -> Option<String> {
        self.users_item(user)
            .await
            .get("ebayToken")
            .and_then(|v| v.as_s().ok())
            .cloned()
    }

    /// The plaintext of a stored token under `user_id`'s encryption context.
    async fn decrypt(&self, ciphertext: &str, user_id: &str) -> Result<String, String> {
        let blob =
            aws_smithy_types::base64::decode(ciphertext).map_err(|e| format!("not base64: {e}"))?;
        let context = HashMap::from([
            ("purpose".to_string(), "ebay-refresh-token".to_string()),
            ("userId".to_string(), user_id.to_string()),
        ]);
        let answer = self
            .kms
            .decrypt()
            .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob))
            .set_encryption_context(Some(context))
            .send()
            .await
            .map_err(|e| format!("{}", aws_sdk_kms::error::DisplayErrorContext(e)))?;
        let plaintext = answer.plaintext().map(|p| p.as_ref().to_vec());
        String::from_utf8(plaintext.unwrap_or_default()).map_err(|e| e.to_string())
    }

    /// The names of every schedule in the bid group.
    async fn schedule_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .scheduler
                .list_schedules()
                .group_name(&self.world.schedule_group)
                .set_next_token(next)
                .send()
                .await
                .expect("ListSchedules");
            names.extend(
                page.schedules()
                    .iter()
                    .filter_map(|s| s.name().map(String::from)),
            );
            next = page.next_token().map(String::from);
            if next.is_none() {
                return names;
            }
        }
    }

    async fn schedule(
        &self,
        bid_id: &str,
    ) -> Result<aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput, String> {
        self.scheduler
            .get_schedule()
            .group_name(&self.world.schedule_group)
            .name(format!("bid-{bid_id}"))
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception())
                {
                    "not found".to_string()
                } else {
                    format!("{}", aws_sdk_scheduler::error::DisplayErrorContext(e))
                }
            })
    }

    /// How many items the Bids table holds for a user (read directly).
    async fn bid_items(&self, user: &User) -> i32 {
        self.dynamodb
            .query()
            .table_name(&self.world.bids_table)
            .key_condition_expression("userId = :u")
            .expression_attribute_values(":u", AttributeValue::S(user.sub.clone()))
            .select(Select::Count)
            .consistent_read(true)
            .send()
            .await
            .expect("Query the Bids table")
            .count
    }

    fn standin_bids_on(&self, item_id: &str) -> Vec<Value> {
        self.world
            .standin
            .bids()
            .into_iter()
            .filter(|b| b["itemId"] == json!(item_id))
            .collect()
    }

    /// Requests of `operation` whose path names the item.
    fn requests_on(&self, operation: &str, item_id: &str) -> Vec<Value> {
        let path = item_path(item_id);
        self.world
            .standin
            .requests(Some(operation))
            .into_iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.contains(&path)))
            .collect()
    }

    fn emails_for(&self, bid_id: &str) -> Vec<Value> {
        self.world
            .standin
            .emails()
            .into_iter()
            .filter(|e| e["Metadata"]["bidId"] == json!(bid_id))
            .collect()
    }

    fn bid_view(&self, user: &User, bid_id: &str) -> Value {
        let r = self.call(
            Some(user),
            "GET",
            &format!("/bids/{bid_id}"),
            None,
            Expect::Ok(200),
        );
        r.data().clone()
    }

    fn history_of(&self, user: &User, bid_id: &str) -> Vec<Value> {
        let r = self.call(
            Some(user),
            "GET",
            &format!("/history?bidId={bid_id}"),
            None,
            Expect::Ok(200),
        );
        r.data()["entries"].as_array().cloned().unwrap_or_default()
    }

    // ------------------------------------------------------------ firing

    /// Moves the bid's item to end `FIRE_MARGIN_MS` after now plus the
    /// lead (the same item otherwise), then runs the executor with the
    /// schedule's input.
    fn fire(&self, bid: &TestBid) -> Fired {
        self.fire_with(bid, FIRE_MARGIN_MS)
    }

    fn fire_with(&self, bid: &TestBid, margin_ms: u64) -> Fired {
        let end_ms = now_ms() + u64::from(bid.lead) * 1000 + margin_ms;
        self.move_end(bid, end_ms);
        let run = self.world.invoke(&bid.input);
        self.keep(bid.label, &run);
        Fired {
            end_ms,
            moment_ms: end_ms - u64::from(bid.lead) * 1000,
            run,
        }
    }

    fn move_end(&self, bid: &TestBid, end_ms: u64) {
        let mut spec = bid.item.clone();
        spec["endTime"] = json!(end_ms);
        self.world.standin.item(spec);
    }

    fn keep(&self, label: &str, run: &Invocation) {
        self.runs
            .lock()
            .unwrap()
            .push((label.to_string(), run.clone()));
    }

    /// The first proxy bid request on the item: its delay from the moment.
    fn delay(&self, bid: &TestBid, fired: &Fired) -> Option<i64> {
        let first = self.requests_on("bid", &bid.item_id).into_iter().next()?;
        let at = first["receivedAtMs"].as_i64()?;
        let delay = at - fired.moment_ms as i64;
        self.delays
            .lock()
            .unwrap()
            .push((bid.label.to_string(), delay));
        Some(delay)
    }

    /// What a fired bid must show whatever happened: the status and the
    /// outcome's result on the bid, one history entry with that result.
    fn recorded(&self, user: &User, bid: &TestBid, status: &str) -> (Value, Vec<Value>) {
        let view = self.bid_view(user, &bid.id);
        check!(
            self,
            view["status"] == json!(status) && view["outcome"]["result"] == json!(status),
            "{}: the bid is {status} with an outcome saying so: {view}",
            bid.label
        );
        check!(
            self,
            view["outcome"]["reason"]
                .as_str()
                .is_some_and(|r| !r.is_empty()),
            "{}: the outcome says why: {view}",
            bid.label
        );
        let history = self.history_of(user, &bid.id);
        check!(
            self,
            history.len() == 1
                && history[0]["result"] == json!(status)
                && history[0]["bidId"] == json!(bid.id)
                && history[0]["itemId"] == json!(bid.item_id)
                && history[0]["maxAmount"] == json!({"value": bid.max, "currency": "USD"}),
            "{}: one history entry recording {status}: {history:?}",
            bid.label
        );
        (view, history)
    }

    /// The one e-mail of a fired bid, as Postmark accepted it, and the
    /// bid's `notification` naming it.
    fn mailed(&self, user: &User, bid: &TestBid, view: &Value, subject_has: &str) {
        let emails = self.emails_for(&bid.id);
        check!(
            self,
            emails.len() == 1,
            "{}: exactly one e-mail: {emails:?}",
            bid.label
        );
        if let Some(email) = emails.first() {
            check!(
                self,
                email["To"] == json!(user.email)
                    && email["From"] == json!(MAIL_FROM)
                    && email["Subject"]
                        .as_str()
                        .is_some_and(|s| s.contains(subject_has))
                    && email["TextBody"]
                        .as_str()
                        .is_some_and(|t| t.contains(&bid.item_id)),
                "{}: the e-mail goes to {} from {MAIL_FROM}, its subject says {subject_has:?}, \
                 its text names the item: {email}",
                bid.label,
                user.email
            );
            check!(
                self,
                view["notification"]["status"] == json!("SENT")
                    && view["notification"]["messageId"] == email["MessageID"],
                "{}: the bid records the e-mail as SENT with Postmark's MessageID {}: {}",
                bid.label,
                email["MessageID"],
                view["notification"]
            );
        }
    }
}

/// The route (the API's route key) a request goes to.
fn route_of(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let route = match path.trim_start_matches('/').split('/').collect::<Vec<_>>()[..] {
        ["bids", _] => "/bids/{bidId}".to_string(),
        _ => path.to_string(),
    };
    format!("{method} {route}")
}

fn describe(r: &Answer) -> String {
    let mut text = r.text.clone();
    if text.len() > 700 {
        text.truncate(700);
        text.push('…');
    }
    format!("{} {text}", r.status)
}

/// `2026-12-03T07:01:34Z`.
fn rfc3339(secs: u64) -> String {
    DateTime::from_secs(secs as i64)
        .fmt(DateTimeFormat::DateTime)
        .unwrap()
}

fn usd(value: &str) -> Value {
    json!({"value": value, "currency": "USD"})
}

// ---------------------------------------------------------------- cases

/// No token, a token that is not one: the authorizer's 401, no function.
fn refused_by_the_authorizer(b: &Backend) {
    for (method, path) in [
        ("GET", "/profile"),
        ("PUT", "/ebay-account"),
        ("POST", "/bids"),
        ("GET", "/bids"),
        ("DELETE", "/bids/019ae0c4-0000-7000-8000-000000000001"),
        ("GET", "/history"),
    ] {
        let body = (method != "GET" && method != "DELETE").then_some("{}");
        b.call_raw(
            None,
            method,
            path,
            body,
            Expect::Gateway(401, "Unauthorized"),
        );
        b.call_raw(
            Some("not-a-jwt"),
            method,
            path,
            body,
            Expect::Gateway(401, "Unauthorized"),
        );
    }
}

/// `GET`/`PUT /profile`.
fn profile(b: &Backend, sam: &User) {
    let r = b.call(Some(sam), "GET", "/profile", None, Expect::Ok(200));
    let p = r.data();
    check!(
        b,
        p["userId"] == json!(sam.sub)
            && p["email"] == json!(sam.email)
            && p["emailNotifications"] == json!(true)
            && p["ebayLinked"] == json!(false)
            && p.get("name").is_none()
            && p.get("createdAt").is_none()
            && p.get("ebayToken").is_none(),
        "GET /profile before any write: the token's e-mail, notifications on, no eBay account: {p}"
    );
    check!(
        b,
        r.header("access-control-allow-origin") == Some(ORIGIN),
        "GET /profile from {ORIGIN}: CORS allows it: {:?}",
        r.headers
    );
    let r = b.call(
        Some(sam),
        "PUT",
        "/profile",
        Some(json!({"name": "Sam Sniper"})),
        Expect::Ok(200),
    );
    let p = r.data();
    check!(
        b,
        p["name"] == json!("Sam Sniper")
            && p["email"] == json!(sam.email)
            && p["createdAt"].is_string()
            && p["updatedAt"].is_string(),
        "PUT /profile {{name}}: the name, the e-mail kept, the item's stamps: {p}"
    );
    let r = b.call(Some(sam), "GET", "/profile", None, Expect::Ok(200));
    let p = r.data();
    check!(
        b,
        p["name"] == json!("Sam Sniper")
            && p["email"] == json!(sam.email)
            && p["emailNotifications"] == json!(true),
        "GET /profile reads the change back: {p}"
    );
    for body in [
        json!({}),
        json!({"colour": "red"}),
        json!({"email": "not-an-address"}),
        json!({"emailNotifications": "yes"}),
    ] {
        b.call(
            Some(sam),
            "PUT",
            "/profile",
            Some(body),
            Expect::Error(400, "VALIDATION_ERROR"),
        );
    }
    let r = b.call(Some(sam), "GET", "/ebay-account", None, Expect::Ok(200));
    check!(
        b,
        r.data() == &json!({"ebayLinked": false}),
        "GET /ebay-account before linking: {}",
        r.data()
    );
}

/// `PUT /ebay-account`: a refresh token, one eBay does not know, a code.
async fn link(b: &Backend, sam: &User, nina: &User) {
    let r = b.call(
        Some(sam),
        "PUT",
        "/ebay-account",
        Some(json!({"refreshToken": SAM_REFRESH})),
        Expect::Ok(200),
    );
    check!(
        b,
        r.data()["ebayLinked"] == json!(true) && r.data()["ebayLinkedAt"].is_string(),
        "PUT /ebay-account {{refreshToken}}: linked: {}",
        r.data()
    );
    check!(
        b,
        !r.text.contains(SAM_REFRESH),
        "the answer never carries the token: {}",
        r.text
    );
    let proof = b.world.standin.requests(Some("token"));
    check!(
        b,
        proof
            .iter()
            .any(|t| t["body"]["grant_type"] == json!("refresh_token")
                && t["body"]["refresh_token"] == json!(SAM_REFRESH)
                && t["status"] == json!(200)),
        "the API proved the refresh token with eBay (a refresh grant): {proof:?}"
    );
    let stored = b.stored_token(sam).await;
    match &stored {
        None => b.fail(format!(
            "line {}: the Users item has no ebayToken after linking: {:?}",
            line!(),
            b.users_item(sam).await
        )),
        Some(ciphertext) => {
            check!(
                b,
                ciphertext != SAM_REFRESH && !ciphertext.contains("sam-refresh"),
                "the stored ebayToken is not the plaintext token: {ciphertext}"
            );
            let mine = b.decrypt(ciphertext, &sam.sub).await;
            check!(
                b,
                mine.as_deref() == Ok(SAM_REFRESH),
                "the stored ebayToken is the token encrypted with the stack key under \
                 {{purpose: ebay-refresh-token, userId}}: {mine:?}"
            );
            let other = b.decrypt(ciphertext, &nina.sub).await;
            check!(
                b,
                other.is_err(),
                "under another user's context it does not decrypt: {other:?}"
            );
        }
    }
    let r = b.call(Some(sam), "GET", "/ebay-account", None, Expect::Ok(200));
    check!(
        b,
        r.data()["ebayLinked"] == json!(true)
            && !r.text.contains(SAM_REFRESH)
            && stored.as_deref().is_none_or(|c| !r.text.contains(c)),
        "GET /ebay-account: linked, neither token nor ciphertext shown: {}",
        r.text
    );
    let r = b.call(Some(sam), "GET", "/profile", None, Expect::Ok(200));
    check!(
        b,
        r.data()["ebayLinked"] == json!(true) && r.data().get("ebayToken").is_none(),
        "GET /profile: linked, no token: {}",
        r.data()
    );

    // A token eBay does not know changes nothing.
    let r = b.call(
        Some(sam),
        "PUT",
        "/ebay-account",
        Some(json!({"refreshToken": "v^1.1#i^1#r^1#never-issued"})),
        Expect::Error(422, "EBAY_LINK_REFUSED"),
    );
    check!(
        b,
        !r.text.contains("never-issued"),
        "the refusal does not echo the token: {}",
        r.text
    );
    check!(
        b,
        b.stored_token(sam).await == stored,
        "a refused link leaves the stored token as it was"
    );

    // The authorization code grant: the code for a refresh token, once.
    let before_code = b.world.standin.requests(Some("token")).len();
    let r = b.call(
        Some(sam),
        "PUT",
        "/ebay-account",
        Some(json!({"authorizationCode": SAM_CODE})),
        Expect::Ok(200),
    );
    let expires = r.data()["ebayTokenExpiresAt"].as_str().unwrap_or_default();
    // eBay: refresh tokens live 47,304,000 s (about 18 months).
    let year_after = rfc3339(now_ms() / 1000 + 365 * 86_400);
    check!(
        b,
        r.data()["ebayLinked"] == json!(true) && expires > year_after.as_str(),
        "PUT /ebay-account {{authorizationCode}}: linked, the refresh token's expiry as eBay said \
         (about 18 months ahead): {}",
        r.data()
    );
    let exchange: Vec<Value> = b.world.standin.requests(Some("token"))[before_code..].to_vec();
    let basic = format!(
        "Basic {}",
        aws_smithy_types::base64::encode(format!("{APP_ID}:{CERT_ID}"))
    );
    check!(
        b,
        exchange.len() == 1
            && exchange[0]["body"]
                == json!({"grant_type": "authorization_code", "code": SAM_CODE, "redirect_uri": RU_NAME})
            && exchange[0]["headers"]["authorization"] == json!(basic)
            && exchange[0]["status"] == json!(200),
        "one code exchange, with the keyset's RuName as redirect_uri and the App ID/Cert ID: {exchange:?}"
    );
    let by_code = b.stored_token(sam).await;
    check!(
        b,
        by_code.is_some() && by_code != stored,
        "linking by code replaced the stored token"
    );
    if let Some(ciphertext) = &by_code {
        let plain = b.decrypt(ciphertext, &sam.sub).await;
        check!(
            b,
            plain
                .as_deref()
                .is_ok_and(|p| p.starts_with("v^1.1#i^1#r^1#standin-refresh#")),
            "the stored token is the refresh token eBay issued for the code: {plain:?}"
        );
    }
    b.call(
        Some(sam),
        "PUT",
        "/ebay-account",
        Some(json!({"authorizationCode": SAM_CODE})),
        Expect::Error(422, "EBAY_LINK_REFUSED"),
    );
    check!(
        b,
        b.stored_token(sam).await == by_code,
        "a code used twice is refused and changes nothing"
    );
    for body in [
        json!({}),
        json!({"authorizationCode": "a", "refreshToken": "b"}),
        json!({"refreshToken": ""}),
        json!({"refreshToken": 5}),
        json!({"password": "hunter2"}),
    ] {
        b.call(
            Some(sam),
            "PUT",
            "/ebay-account",
            Some(body),
            Expect::Error(400, "VALIDATION_ERROR"),
        );
    }
}

/// The item of a bid, as the stand-in holds it (its end set when registered).
fn item_spec(n: u32, title: &str, price: &str, extra: Value) -> (String, Value) {
    let item_id = format!("v1|1105519{n:05}|0");
    let mut spec =
        json!({"itemId": item_id, "title": title, "currency": "USD", "currentPrice": price});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    (item_id, spec)
}

/// Registers the item ending `CREATE_AHEAD_MS` ahead and makes a bid on it
/// (201); the schedule's input, read from Scheduler.
async fn make_bid(
    b: &Backend,
    sam: &User,
    label: &'static str,
    n: u32,
    lead: u32,
    max: &'static str,
    extra: Value,
) -> Option<(TestBid, u64)> {
    let (item_id, item) = item_spec(n, &format!("Guitar {n} ({label})"), "100.00", extra);
    let end_ms = now_ms() + CREATE_AHEAD_MS;
    let mut registered = item.clone();
    registered["endTime"] = json!(end_ms);
    b.world.standin.item(registered);
    let r = b.call(
        Some(sam),
        "POST",
        "/bids",
        Some(json!({"itemId": item_id, "maxAmount": usd(max), "leadSeconds": lead})),
        Expect::Ok(201),
    );
    let id = r.data()["bidId"].as_str()?.to_string();
    let input = match b.schedule(&id).await {
        Ok(schedule) => {
            let text = schedule.target().and_then(|t| t.input()).unwrap_or("null");
            serde_json::from_str(text).unwrap_or(Value::Null)
        }
        Err(e) => {
            b.fail(format!(
                "line {}: {label}: no schedule bid-{id}: {e}",
                line!()
            ));
            json!({"userId": sam.sub, "bidId": id})
        }
    };
    check!(
        b,
        input == json!({"userId": sam.sub, "bidId": id}),
        "{label}: the schedule's input names the bid: {input}"
    );
    Some((
        TestBid {
            label,
            id,
            item_id,
            item,
            lead,
            max,
            input,
        },
        end_ms,
    ))
}

struct Bids {
    main: TestBid,
    concurrent: TestBid,
    cancelled: TestBid,
    edited: TestBid,
    failures: Vec<TestBid>,
}

/// Step 4: the first bid checked in full (answer, schedule, stored item),
/// then the others the later steps fire.
async fn create_bids(b: &Backend, sam: &User) -> Option<Bids> {
    let schedules_before = b.schedule_names().await.len();
    let (main, end_ms) = make_bid(b, sam, "main", 1, 5, "250.00", json!({})).await?;
    let view = b.bid_view(sam, &main.id);
    let fire_s = (end_ms - 5_000 - 120_000) / 1000;
    check!(
        b,
        view["status"] == json!("SCHEDULED")
            && view["itemId"] == json!(main.item_id)
            && view["title"] == json!("Guitar 1 (main)")
            && view["maxAmount"] == usd("250.00")
            && view["leadSeconds"] == json!(5)
            && view["marketplaceId"] == json!("EBAY_US")
            && view["fireAt"] == json!(rfc3339(fire_s))
            && view["itemUrl"].is_string()
            && view.get("statusKey").is_none()
            && view.get("ttl").is_none(),
        "GET /bids/{{id}} of a new bid: SCHEDULED, the item, the maximum, the lead, EBAY_US, \
         fireAt {}, no internals: {view}",
        rfc3339(fire_s)
    );
    match b.schedule(&main.id).await {
        Err(e) => b.fail(format!(
            "line {}: GetSchedule bid-{}: {e}",
            line!(),
            main.id
        )),
        Ok(s) => {
            let expression = format!("at({})", rfc3339(fire_s).trim_end_matches('Z'));
            check!(
                b,
                s.schedule_expression() == Some(expression.as_str()),
                "the schedule fires at the auction's end less the lead less 120 s, to the second \
                 rounded down: expected {expression}, got {:?}",
                s.schedule_expression()
            );
            check!(
                b,
                s.schedule_expression_timezone() == Some("UTC"),
                "the schedule's time zone is UTC: {:?}",
                s.schedule_expression_timezone()
            );
            check!(
                b,
                s.flexible_time_window().map(|w| w.mode().as_str()) == Some("OFF"),
                "the flexible time window is off: {:?}",
                s.flexible_time_window()
            );
            check!(
                b,
                s.action_after_completion().map(|a| a.as_str()) == Some("DELETE"),
                "the schedule deletes itself once it has fired: {:?}",
                s.action_after_completion()
            );
            check!(
                b,
                s.state().map(|a| a.as_str()) == Some("ENABLED"),
                "the schedule is enabled: {:?}",
                s.state()
            );
            match s.target() {
                None => b.fail(format!("line {}: the schedule has no target", line!())),
                Some(t) => {
                    check!(
                        b,
                        t.arn() == b.world.executor_arn,
                        "the target is the executor {}: {}",
                        b.world.executor_arn,
                        t.arn()
                    );
                    check!(
                        b,
                        t.role_arn() == b.world.scheduler_role_arn,
                        "the target's role is the group's {}: {}",
                        b.world.scheduler_role_arn,
                        t.role_arn()
                    );
                    check!(
                        b,
                        t.dead_letter_config().and_then(|d| d.arn())
                            == Some(b.world.dead_letter_arn.as_str()),
                        "the dead-letter queue is the stack's {}: {:?}",
                        b.world.dead_letter_arn,
                        t.dead_letter_config()
                    );
                    // Retries after the bid moment (120 s after firing) are useless.
                    let retry = t.retry_policy();
                    let attempts = retry.and_then(|r| r.maximum_retry_attempts());
                    let age = retry.and_then(|r| r.maximum_event_age_in_seconds());
                    check!(
                        b,
                        attempts.is_some_and(|a| (1..=185).contains(&a))
                            && age.is_some_and(|a| (60..=120).contains(&a)),
                        "a retry policy that stops by the bid moment (retries 1-185, event age \
                         60-120 s): {retry:?}"
                    );
                }
            }
        }
    }
    let stored = b
        .dynamodb
        .get_item()
        .table_name(&b.world.bids_table)
        .key("userId", AttributeValue::S(sam.sub.clone()))
        .key("bidId", AttributeValue::S(main.id.clone()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem on the Bids table")
        .item
        .unwrap_or_default();
    let text = |k: &str| stored.get(k).and_then(|v| v.as_s().ok()).cloned();
    check!(
        b,
        text("status").as_deref() == Some("SCHEDULED")
            && text("statusKey")
                .is_some_and(|k| k.starts_with("SCHEDULED#") && k.ends_with(&main.id))
            && text("scheduleName") == Some(format!("bid-{}", main.id)),
        "the Bids item: SCHEDULED, its status key, its schedule's name: {stored:?}"
    );

    let (concurrent, _) = make_bid(b, sam, "concurrent", 2, 5, "250.00", json!({})).await?;
    let (cancelled, _) = make_bid(b, sam, "cancelled", 3, 5, "250.00", json!({})).await?;
    let (edited, _) = make_bid(b, sam, "edited", 4, 5, "250.00", json!({})).await?;
    let mut failures = Vec::new();
    for (label, n, lead) in [
        ("bid 429", 10, 5),
        ("bid 503", 11, 5),
        ("bid timeout, applied", 12, 20),
        ("bid error 120012", 13, 5),
        ("token invalid_grant", 14, 5),
        ("Postmark 429 once", 15, 5),
        ("Postmark 401", 16, 5),
        ("outbid by a rival", 17, 5),
        ("price passed the maximum", 18, 5),
        ("bid error 120004", 19, 5),
        ("bid 401, token renewed", 20, 5),
    ] {
        // A rival leads the first of these with a hidden maximum above ours.
        let extra = if label == "outbid by a rival" {
            json!({"bidCount": 1, "rivalMaxBid": "400.00"})
        } else {
            json!({})
        };
        failures.push(make_bid(b, sam, label, n, lead, "250.00", extra).await?.0);
    }
    let schedules = b.schedule_names().await;
    check!(
        b,
        schedules.len() == schedules_before + 15,
        "fifteen bids, fifteen schedules in the group: {schedules:?}"
    );
    Some(Bids {
        main,
        concurrent,
        cancelled,
        edited,
        failures,
    })
}

/// `PUT /bids/{id}`: a new maximum, a new lead (the schedule moves), and
/// what cannot change.
async fn edits(b: &Backend, sam: &User, bid: &mut TestBid) {
    let before = b.schedule(&bid.id).await.ok();
    let r = b.call(
        Some(sam),
        "PUT",
        &format!("/bids/{}", bid.id),
        Some(json!({"maxAmount": usd("300.00")})),
        Expect::Ok(200),
    );
    check!(
        b,
        r.data()["maxAmount"] == usd("300.00") && r.data()["status"] == json!("SCHEDULED"),
        "PUT /bids/{{id}} {{maxAmount}}: the new maximum: {}",
        r.data()
    );
    let r = b.call(
        Some(sam),
        "PUT",
        &format!("/bids/{}", bid.id),
        Some(json!({"leadSeconds": 10})),
        Expect::Ok(200),
    );
    check!(
        b,
        r.data()["leadSeconds"] == json!(10) && r.data()["maxAmount"] == usd("300.00"),
        "PUT /bids/{{id}} {{leadSeconds}}: the new lead, the maximum kept: {}",
        r.data()
    );
    let fire_at = r.data()["fireAt"].as_str().unwrap_or_default().to_string();
    let after = b.schedule(&bid.id).await;
    let moved = |s: &aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput| {
        s.schedule_expression().map(String::from)
    };
    match (&before, &after) {
        (Some(before), Ok(after)) => {
            let expected = format!("at({})", fire_at.trim_end_matches('Z'));
            check!(
                b,
                moved(after).as_deref() == Some(expected.as_str())
                    && moved(after) != moved(before)
                    && after.target().and_then(|t| t.input())
                        == before.target().and_then(|t| t.input()),
                "the schedule moved 5 s earlier to {expected}, same input: {:?} → {:?}",
                moved(before),
                moved(after)
            );
        }
        _ => b.fail(format!(
            "line {}: the edited bid's schedule: {after:?}",
            line!()
        )),
    }
    bid.lead = 10;
    bid.max = "300.00";
    let path = format!("/bids/{}", bid.id);
    for body in [
        json!({}),
        json!({"leadSeconds": 0}),
        json!({"leadSeconds": 61}),
        json!({"maxAmount": {"value": 300, "currency": "USD"}}),
        json!({"itemId": "v1|1|0"}),
    ] {
        b.call(
            Some(sam),
            "PUT",
            &path,
            Some(body),
            Expect::Error(400, "VALIDATION_ERROR"),
        );
    }
    b.call(
        Some(sam),
        "PUT",
        &path,
        Some(json!({"maxAmount": {"value": "300.00", "currency": "EUR"}})),
        Expect::Error(422, "CURRENCY_MISMATCH"),
    );
    b.call(
        Some(sam),
        "PUT",
        &path,
        Some(json!({"maxAmount": usd("50.00")})),
        Expect::Error(422, "AMOUNT_TOO_LOW"),
    );
}

/// What a refused request must not have done.
struct Counts {
    schedules: usize,
    sam_bids: i32,
    nina_bids: i32,
    proxy_bids: usize,
    bid_requests: usize,
}

async fn counts(b: &Backend, sam: &User, nina: &User) -> Counts {
    Counts {
        schedules: b.schedule_names().await.len(),
        sam_bids: b.bid_items(sam).await,
        nina_bids: b.bid_items(nina).await,
        proxy_bids: b.world.standin.bids().len(),
        bid_requests: b.world.standin.requests(Some("bid")).len(),
    }
}

/// Step 9: each bad `POST /bids` with its code, and no side effect.
async fn bad_bids(b: &Backend, sam: &User, nina: &User, duplicate_of: &TestBid) {
    let ahead = now_ms() + CREATE_AHEAD_MS;
    let items = [
        item_spec(
            20,
            "Fixed-price Telecaster",
            "499.00",
            json!({"buyingOptions": ["FIXED_PRICE"], "endTime": ahead}),
        ),
        item_spec(21, "Ended auction", "80.00", json!({"endsInSeconds": -60})),
        item_spec(
            22,
            "Ending too soon",
            "80.00",
            json!({"endsInSeconds": 120}),
        ),
        item_spec(
            23,
            "Bid on already",
            "30.00",
            json!({"bidCount": 2, "rivalMaxBid": "45.00", "endTime": ahead}),
        ),
        item_spec(24, "Open auction", "30.00", json!({"endTime": ahead})),
    ];
    for (_, spec) in &items {
        b.world.standin.item(spec.clone());
    }
    let [fixed, ended, soon, bid_on, open] = items.map(|(id, _)| id);
    let unknown = "v1|110551999999|0".to_string();
    let before = counts(b, sam, nina).await;
    let cases: Vec<(&str, &User, Value, Expect<'_>)> = vec![
        (
            "not linked",
            nina,
            json!({"itemId": open, "maxAmount": usd("60.00")}),
            Expect::Error(409, "EBAY_NOT_LINKED"),
        ),
        (
            "unknown item",
            sam,
            json!({"itemId": unknown, "maxAmount": usd("60.00")}),
            Expect::Error(404, "ITEM_NOT_FOUND"),
        ),
        (
            "fixed price",
            sam,
            json!({"itemId": fixed, "maxAmount": usd("600.00")}),
            Expect::Error(422, "NOT_AN_AUCTION"),
        ),
        (
            "ended",
            sam,
            json!({"itemId": ended, "maxAmount": usd("90.00")}),
            Expect::Error(422, "AUCTION_ENDED"),
        ),
        (
            "ending too soon",
            sam,
            json!({"itemId": soon, "maxAmount": usd("90.00")}),
            Expect::Error(422, "AUCTION_ENDS_TOO_SOON"),
        ),
        (
            "not above the current price",
            sam,
            json!({"itemId": bid_on, "maxAmount": usd("30.00")}),
            Expect::Error(422, "AMOUNT_TOO_LOW"),
        ),
        (
            "below the minimum to bid",
            sam,
            json!({"itemId": bid_on, "maxAmount": usd("30.50")}),
            Expect::Error(422, "AMOUNT_TOO_LOW"),
        ),
        (
            "below the starting price",
            sam,
            json!({"itemId": open, "maxAmount": usd("29.99")}),
            Expect::Error(422, "AMOUNT_TOO_LOW"),
        ),
        (
            "wrong currency",
            sam,
            json!({"itemId": open, "maxAmount": {"value": "60.00", "currency": "EUR"}}),
            Expect::Error(422, "CURRENCY_MISMATCH"),
        ),
        (
            "duplicate",
            sam,
            json!({"itemId": duplicate_of.item_id, "maxAmount": usd("400.00")}),
            Expect::Error(409, "DUPLICATE_BID"),
        ),
    ];
    for (what, user, body, expect) in cases {
        let r = b.call(Some(user), "POST", "/bids", Some(body), expect);
        if what == "duplicate" {
            check!(
                b,
                r.body["error"]["details"]["bidId"] == json!(duplicate_of.id),
                "DUPLICATE_BID names the scheduled bid {}: {}",
                duplicate_of.id,
                r.text
            );
        }
        if what == "ending too soon" {
            check!(
                b,
                r.body["error"]["details"]["auctionEndsAt"].is_string(),
                "AUCTION_ENDS_TOO_SOON says when the auction ends: {}",
                r.text
            );
        }
    }
    // Several problems at once: each named.
    let r = b.call(
        Some(sam),
        "POST",
        "/bids",
        Some(
            json!({"itemId": "guitar-42", "maxAmount": {"value": 25, "currency": "USD"},
                    "leadSeconds": 500, "marketplaceId": "EBAY_MARS", "colour": "red"}),
        ),
        Expect::Error(400, "VALIDATION_ERROR"),
    );
    let fields: HashSet<&str> = r.body["error"]["details"]
        .as_array()
        .map(|d| d.iter().filter_map(|p| p["field"].as_str()).collect())
        .unwrap_or_default();
    let wanted: HashSet<&str> = [
        "itemId",
        "maxAmount",
        "leadSeconds",
        "marketplaceId",
        "colour",
    ]
    .into_iter()
    .collect();
    check!(
        b,
        fields == wanted,
        "a body with five problems gets each named ({wanted:?}): {}",
        r.text
    );
    for body in ["{", "[]", "", "{\"maxAmount\": null}"] {
        b.call_raw(
            Some(&sam.id_token),
            "POST",
            "/bids",
            Some(body),
            Expect::Error(400, "VALIDATION_ERROR"),
        );
    }
    // Routes the API does not have: API Gateway's 404, no function.
    for (method, path) in [
        ("GET", "/nothing"),
        ("POST", "/bids/019ae0c4-0000-7000-8000-000000000001"),
        ("PATCH", "/profile"),
        ("GET", "/bids/a/b"),
    ] {
        b.call(
            Some(sam),
            method,
            path,
            None,
            Expect::Gateway(404, "Not Found"),
        );
    }
    b.call_raw(
        None,
        "POST",
        "/bids",
        Some(&json!({"itemId": open, "maxAmount": usd("60.00")}).to_string()),
        Expect::Gateway(401, "Unauthorized"),
    );

    let after = counts(b, sam, nina).await;
    check!(
        b,
        after.schedules == before.schedules,
        "refused bids create no schedule: {} before, {} after",
        before.schedules,
        after.schedules
    );
    check!(
        b,
        after.sam_bids == before.sam_bids && after.nina_bids == before.nina_bids,
        "refused bids store no bid: sam {} → {}, nina {} → {}",
        before.sam_bids,
        after.sam_bids,
        before.nina_bids,
        after.nina_bids
    );
    check!(
        b,
        after.proxy_bids == before.proxy_bids && after.bid_requests == before.bid_requests,
        "refused bids reach no eBay bidding: {} → {} proxy bids, {} → {} bid requests",
        before.proxy_bids,
        after.proxy_bids,
        before.bid_requests,
        after.bid_requests
    );
    // Another user's bid is not theirs to see or touch; unknown ids are 404.
    for (method, body) in [
        ("GET", None),
        ("PUT", Some(json!({"leadSeconds": 7}))),
        ("DELETE", None),
    ] {
        b.call(
            Some(nina),
            method,
            &format!("/bids/{}", duplicate_of.id),
            body,
            Expect::Error(404, "NOT_FOUND"),
        );
    }
    for id in ["019ae0c4-0000-7000-8000-00000000beef", "not-a-bid-id"] {
        b.call(
            Some(sam),
            "GET",
            &format!("/bids/{id}"),
            None,
            Expect::Error(404, "NOT_FOUND"),
        );
    }
}

/// Step 5: the executor with the schedule's input places exactly one bid.
/// The moment is far enough ahead (over 10 s) for the executor's long
/// wait: a look at the item 2 s before it keeps the connection warm.
fn fire_main(b: &Backend, sam: &User, bid: &TestBid) {
    let fired = b.fire_with(bid, 14_000);
    check!(
        b,
        fired.run.ok && fired.run.result() == "PLACED",
        "the executor answers PLACED: {} (took {:?})\n{}",
        fired.run.stdout,
        fired.run.took,
        tail(&fired.run.stderr)
    );
    let placed = b.standin_bids_on(&bid.item_id);
    check!(
        b,
        placed.len() == 1,
        "exactly one proxy bid on eBay: {placed:?}"
    );
    if let Some(p) = placed.first() {
        check!(
            b,
            p["userId"] == json!(SAM_EBAY)
                && p["maxAmount"] == usd(bid.max)
                && p["marketplaceId"] == json!("EBAY_US")
                && p["highBidder"] == json!(true),
            "the proxy bid is sam's, for the maximum, on EBAY_US, and leads: {p}"
        );
    }
    let (view, history) = b.recorded(sam, bid, "PLACED");
    let proxy_id = placed.first().map(|p| p["proxyBidId"].clone());
    check!(
        b,
        Some(&view["outcome"]["proxyBidId"]) == proxy_id.as_ref()
            && view["outcome"]["bidSentAt"].is_string()
            && view["outcome"]["delayMs"].is_i64(),
        "the outcome names eBay's proxy bid id {proxy_id:?} and when it was sent: {}",
        view["outcome"]
    );
    check!(
        b,
        view["auctionEndsAt"] == json!(rfc3339_millis(fired.end_ms)),
        "the bid records the end eBay said at execution ({}): {}",
        rfc3339_millis(fired.end_ms),
        view["auctionEndsAt"]
    );
    check!(
        b,
        history
            .first()
            .is_some_and(|h| h["proxyBidId"] == view["outcome"]["proxyBidId"]),
        "the history entry carries the outcome: {history:?}"
    );
    b.mailed(sam, bid, &view, "leading");
    let reads = b.requests_on("item", &bid.item_id);
    let bids = b.requests_on("bid", &bid.item_id);
    let warm_up = reads.last().and_then(|r| r["receivedAtMs"].as_i64());
    let moment = fired.moment_ms as i64;
    check!(
        b,
        reads.len() == 3 && warm_up.is_some_and(|w| (moment - 2_500..moment).contains(&w)),
        "the API's read, the executor's look, and its warm-up read within 2.5 s before the \
         moment {moment}: {:?}",
        reads.iter().map(|r| &r["receivedAtMs"]).collect::<Vec<_>>()
    );
    check!(
        b,
        bids.first().map(|r| &r["connection"]) == reads.last().map(|r| &r["connection"]),
        "the bid goes out on the connection the warm-up read used (no new handshake): bid on \
         {:?}, warm-up on {:?}",
        bids.first().map(|r| &r["connection"]),
        reads.last().map(|r| &r["connection"])
    );
    match b.delay(bid, &fired) {
        Some(delay) => {
            eprintln!(
                "bid placed {delay} ms after the bid moment (the executor's own figure: {} ms)",
                view["outcome"]["delayMs"]
            );
            check!(
                b,
                (0..1_000).contains(&delay),
                "the bid reaches eBay at the bid moment, never before and within 1 s: {delay} ms"
            );
        }
        None => b.fail(format!("line {}: no bid request on the item", line!())),
    }
}

/// Step 6: fired again, nothing more; two runs at once, one bid.
fn fire_again_and_twice(b: &Backend, sam: &User, main: &TestBid, concurrent: &TestBid) {
    let requests = b.requests_on("bid", &main.item_id).len();
    let run = b.world.invoke(&main.input);
    b.keep("main, again", &run);
    check!(
        b,
        run.ok && run.result() == "NOT_SCHEDULED",
        "fired again, the executor does nothing (NOT_SCHEDULED): {}\n{}",
        run.stdout,
        tail(&run.stderr)
    );
    check!(
        b,
        b.standin_bids_on(&main.item_id).len() == 1
            && b.requests_on("bid", &main.item_id).len() == requests
            && b.emails_for(&main.id).len() == 1
            && b.history_of(sam, &main.id).len() == 1,
        "fired again: still one proxy bid, no new bid request, one e-mail, one history entry"
    );

    // With e-mails off, the outcome is recorded and no mail goes out.
    b.call(
        Some(sam),
        "PUT",
        "/profile",
        Some(json!({"emailNotifications": false})),
        Expect::Ok(200),
    );
    let end_ms = now_ms() + 5_000 + FIRE_MARGIN_MS;
    b.move_end(concurrent, end_ms);
    let (first, second) = std::thread::scope(|s| {
        let one = s.spawn(|| b.world.invoke(&concurrent.input));
        let two = s.spawn(|| b.world.invoke(&concurrent.input));
        (one.join().unwrap(), two.join().unwrap())
    });
    b.keep("concurrent, first", &first);
    b.keep("concurrent, second", &second);
    eprintln!(
        "two runs at once: {} in {:?}, {} in {:?}",
        first.result(),
        first.took,
        second.result(),
        second.took
    );
    let fired = Fired {
        end_ms,
        moment_ms: end_ms - 5_000,
        run: first.clone(),
    };
    b.delay(concurrent, &fired);
    let mut results = [first.result().to_string(), second.result().to_string()];
    results.sort();
    check!(
        b,
        first.ok
            && second.ok
            && results[1] == "PLACED"
            && ["NOT_SCHEDULED", "TAKEN_ELSEWHERE"].contains(&results[0].as_str()),
        "two runs at once: one PLACED, the other does nothing: {results:?}\n{}\n{}",
        tail(&first.stderr),
        tail(&second.stderr)
    );
    check!(
        b,
        b.standin_bids_on(&concurrent.item_id).len() == 1
            && b.requests_on("bid", &concurrent.item_id).len() == 1
            && b.history_of(sam, &concurrent.id).len() == 1,
        "two runs at once: one bid request, one proxy bid, one history entry"
    );
    let (view, _) = b.recorded(sam, concurrent, "PLACED");
    check!(
        b,
        b.emails_for(&concurrent.id).is_empty()
            && view["notification"]["status"] == json!("SKIPPED"),
        "e-mails off: no e-mail, the notification recorded as SKIPPED: {}",
        view["notification"]
    );
    let r = b.call(
        Some(sam),
        "PUT",
        "/profile",
        Some(json!({"emailNotifications": true})),
        Expect::Ok(200),
    );
    check!(
        b,
        r.data()["emailNotifications"] == json!(true),
        "e-mails back on: {}",
        r.data()
    );
    // A bid that has run cannot be cancelled or changed.
    for (method, body) in [("DELETE", None), ("PUT", Some(json!({"leadSeconds": 9})))] {
        b.call(
            Some(sam),
            method,
            &format!("/bids/{}", main.id),
            body,
            Expect::Error(409, "BID_NOT_EDITABLE"),
        );
    }
}

/// Step 7: cancelling deletes the schedule; a late firing bids nothing.
async fn cancel(b: &Backend, sam: &User, bid: &TestBid) {
    let path = format!("/bids/{}", bid.id);
    let r = b.call(Some(sam), "DELETE", &path, None, Expect::Ok(200));
    check!(
        b,
        r.data()["status"] == json!("CANCELLED"),
        "DELETE /bids/{{id}}: CANCELLED: {}",
        r.data()
    );
    let schedule = b.schedule(&bid.id).await;
    check!(
        b,
        matches!(&schedule, Err(e) if e == "not found"),
        "the cancelled bid's schedule is gone: {:?}",
        schedule.map(|s| s.schedule_expression().map(String::from))
    );
    let r = b.call(Some(sam), "DELETE", &path, None, Expect::Ok(200));
    check!(
        b,
        r.data()["status"] == json!("CANCELLED"),
        "DELETE again: still CANCELLED, 200: {}",
        r.data()
    );
    b.call(
        Some(sam),
        "PUT",
        &path,
        Some(json!({"leadSeconds": 9})),
        Expect::Error(409, "BID_NOT_EDITABLE"),
    );
    // A schedule that had already fired (Scheduler delivers at least once).
    let fired = b.fire(bid);
    check!(
        b,
        fired.run.ok && fired.run.result() == "NOT_SCHEDULED",
        "a cancelled bid's input fired: nothing to do: {}\n{}",
        fired.run.stdout,
        tail(&fired.run.stderr)
    );
    check!(
        b,
        b.requests_on("bid", &bid.item_id).is_empty()
            && b.requests_on("item", &bid.item_id).len() == 1
            && b.emails_for(&bid.id).is_empty()
            && b.history_of(sam, &bid.id).is_empty(),
        "a cancelled bid: no bid request, no e-mail, no history (only the API's item read)"
    );
    let view = b.bid_view(sam, &bid.id);
    check!(
        b,
        view["status"] == json!("CANCELLED") && view.get("outcome").is_none(),
        "the cancelled bid stays CANCELLED: {view}"
    );
}

/// Step 8: each eBay and Postmark failure, recorded and mailed; and the
/// other ways a bid ends: outbid (by a rival's proxy at once, or the price
/// past the maximum before the moment), refused by eBay.
fn failures(b: &Backend, sam: &User, bids: &[TestBid]) {
    for bid in bids {
        let mut bid = bid.clone();
        let bid = &mut bid;
        if bid.label == "price passed the maximum" {
            // Rivals pushed the price past our maximum since the bid was made.
            bid.item["currentPrice"] = json!("300.00");
            bid.item["bidCount"] = json!(6);
            bid.item["rivalMaxBid"] = json!("320.00");
        }
        let failure = match bid.label {
            "outbid by a rival" | "price passed the maximum" => None,
            other => Some(match other {
                "bid 429" => json!({"operation": "bid", "kind": "429", "retryAfter": 1}),
                "bid 503" => json!({"operation": "bid", "kind": "503"}),
                "bid timeout, applied" => {
                    json!({"operation": "bid", "kind": "timeout", "seconds": 12, "then": "apply"})
                }
                "bid error 120012" => {
                    json!({"operation": "bid", "kind": "error", "errorId": 120012})
                }
                "token invalid_grant" => {
                    json!({"operation": "token", "kind": "error", "error": "invalid_grant"})
                }
                "Postmark 429 once" => json!({"operation": "email", "kind": "429"}),
                "Postmark 401" => json!({"operation": "email", "kind": "401"}),
                "bid error 120004" => {
                    json!({"operation": "bid", "kind": "error", "errorId": 120004})
                }
                "bid 401, token renewed" => json!({"operation": "bid", "kind": "401"}),
                other => panic!("no failure for {other}"),
            }),
        };
        b.world.standin.control("DELETE", "failures", None);
        let tokens_before = b.world.standin.requests(Some("token")).len();
        if let Some(failure) = failure {
            b.world.standin.fail(failure);
        }
        let emails_before = b.world.standin.emails().len();
        let fired = b.fire(bid);
        let left = b.world.standin.control("GET", "failures", None);
        check!(
            b,
            left["failures"].as_array().is_some_and(Vec::is_empty),
            "{}: the queued failure was used: {left}",
            bid.label
        );
        let bid_requests = b.requests_on("bid", &bid.item_id);
        let accepted = b.standin_bids_on(&bid.item_id);
        let statuses: Vec<&Value> = bid_requests.iter().map(|r| &r["status"]).collect();
        let answer = format!(
            "{} (took {:?})\n{}",
            fired.run.stdout,
            fired.run.took,
            tail(&fired.run.stderr)
        );
        match bid.label {
            "bid 429" => {
                check!(
                    b,
                    fired.run.result() == "PLACED",
                    "bid 429: retried and PLACED: {answer}"
                );
                check!(
                    b,
                    statuses == [&json!(429), &json!(200)] && accepted.len() == 1,
                    "bid 429: the 429, then one accepted bid: {statuses:?}, {accepted:?}"
                );
                let gap = match bid_requests.as_slice() {
                    [first, second] => second["receivedAtMs"]
                        .as_i64()
                        .zip(first["receivedAtMs"].as_i64())
                        .map(|(s, f)| s - f),
                    _ => None,
                };
                check!(
                    b,
                    gap.is_some_and(|g| g >= 1_000),
                    "bid 429 with Retry-After: 1: the bid is sent again no sooner than 1 s \
                     later: {gap:?} ms"
                );
                let (view, _) = b.recorded(sam, bid, "PLACED");
                b.mailed(sam, bid, &view, "leading");
            }
            "bid 503" => {
                let reads = b.requests_on("bidding", &bid.item_id);
                check!(
                    b,
                    fired.run.result() == "PLACED",
                    "bid 503: eBay's record read, retried, PLACED: {answer}"
                );
                check!(
                    b,
                    statuses == [&json!(503), &json!(200)]
                        && accepted.len() == 1
                        // The stand-in's sequence number orders requests that
                        // arrive within the same millisecond.
                        && reads.first().is_some_and(|r| r["status"] == json!(404)
                            && r["seq"].as_u64() > bid_requests[0]["seq"].as_u64()),
                    "bid 503: the 503, eBay's record read (no bid of ours: 404 120033), one more \
                     bid accepted: bids {statuses:?}, reads {:?}, accepted {accepted:?}",
                    reads.iter().map(|r| &r["status"]).collect::<Vec<_>>()
                );
                let (view, _) = b.recorded(sam, bid, "PLACED");
                b.mailed(sam, bid, &view, "leading");
            }
            "bid timeout, applied" => {
                let reads = b.requests_on("bidding", &bid.item_id);
                check!(
                    b,
                    fired.run.result() == "PLACED",
                    "a bid eBay took but whose answer was lost: PLACED from eBay's record: {answer}"
                );
                check!(
                    b,
                    bid_requests.len() == 1
                        && accepted.len() == 1
                        && bid_requests[0]["outcome"]
                            .as_str()
                            .is_some_and(|o| o.starts_with("applied"))
                        && reads.first().is_some_and(|r| r["status"] == json!(200)),
                    "bid timeout: one bid request (applied, unanswered), eBay's record read, no \
                     second bid: {bid_requests:?}, reads {reads:?}, accepted {accepted:?}"
                );
                let (view, _) = b.recorded(sam, bid, "PLACED");
                b.mailed(sam, bid, &view, "leading");
            }
            "bid error 120012" => {
                check!(
                    b,
                    fired.run.result() == "AUCTION_ENDED",
                    "eBay's 120012: AUCTION_ENDED: {answer}"
                );
                check!(
                    b,
                    statuses == [&json!(409)] && accepted.is_empty(),
                    "120012: one bid request refused, none accepted: {statuses:?}"
                );
                let (view, _) = b.recorded(sam, bid, "AUCTION_ENDED");
                check!(
                    b,
                    view["outcome"]["ebayError"] == json!("120012"),
                    "the outcome keeps eBay's error id: {}",
                    view["outcome"]
                );
                b.mailed(sam, bid, &view, "auction ended");
            }
            "token invalid_grant" => {
                check!(
                    b,
                    fired.run.result() == "FAILED",
                    "a refresh token eBay refuses: FAILED: {answer}"
                );
                check!(
                    b,
                    bid_requests.is_empty() && accepted.is_empty(),
                    "invalid_grant: no bid request at all: {statuses:?}"
                );
                let (view, _) = b.recorded(sam, bid, "FAILED");
                let reason = view["outcome"]["reason"].as_str().unwrap_or_default();
                check!(
                    b,
                    reason.contains("link your eBay account again")
                        && view["outcome"]["ebayError"] == json!("invalid_grant"),
                    "the reason asks to link the account again, eBay's error kept: {}",
                    view["outcome"]
                );
                b.mailed(sam, bid, &view, "could not be placed");
            }
            "Postmark 429 once" => {
                let sends = b.world.standin.requests(Some("email"));
                let mine: Vec<&Value> = sends
                    .iter()
                    .filter(|r| r["body"]["Metadata"]["bidId"] == json!(bid.id))
                    .collect();
                check!(
                    b,
                    fired.run.result() == "PLACED"
                        && mine.iter().map(|r| &r["status"]).collect::<Vec<_>>()
                            == [&json!(429), &json!(200)],
                    "Postmark 429 once: retried, the bid PLACED: {answer} {mine:?}"
                );
                let (view, _) = b.recorded(sam, bid, "PLACED");
                b.mailed(sam, bid, &view, "leading");
            }
            "outbid by a rival" => {
                check!(
                    b,
                    fired.run.result() == "OUTBID",
                    "a rival's higher maximum answers our bid at once: OUTBID: {answer}"
                );
                check!(
                    b,
                    statuses == [&json!(200)]
                        && accepted.len() == 1
                        && accepted[0]["highBidder"] == json!(false),
                    "outbid: the bid was taken and beaten: {statuses:?} {accepted:?}"
                );
                let (view, _) = b.recorded(sam, bid, "OUTBID");
                // The rival's proxy answers one increment (5.00) above 250.00.
                check!(
                    b,
                    view["outcome"]["currentPrice"] == usd("255.00"),
                    "the outcome has the price the rival's proxy set: {}",
                    view["outcome"]
                );
                b.mailed(sam, bid, &view, "outbid");
            }
            "price passed the maximum" => {
                check!(
                    b,
                    fired.run.result() == "OUTBID",
                    "the price past the maximum at the moment: OUTBID: {answer}"
                );
                check!(
                    b,
                    bid_requests.is_empty() && accepted.is_empty(),
                    "the price past the maximum: no bid sent: {statuses:?}"
                );
                let (view, _) = b.recorded(sam, bid, "OUTBID");
                check!(
                    b,
                    view["outcome"]["currentPrice"] == usd("300.00")
                        && view["outcome"]["reason"]
                            .as_str()
                            .is_some_and(|r| r.contains("no bid was sent")),
                    "the outcome says no bid was sent, with eBay's price: {}",
                    view["outcome"]
                );
                b.mailed(sam, bid, &view, "outbid");
            }
            "bid error 120004" => {
                check!(
                    b,
                    fired.run.result() == "REJECTED",
                    "eBay's refusal 120004 (not eligible): REJECTED: {answer}"
                );
                check!(
                    b,
                    statuses == [&json!(409)] && accepted.is_empty(),
                    "120004: one bid request, refused, not repeated: {statuses:?}"
                );
                let (view, _) = b.recorded(sam, bid, "REJECTED");
                check!(
                    b,
                    view["outcome"]["ebayError"] == json!("120004"),
                    "the outcome keeps eBay's error id: {}",
                    view["outcome"]
                );
                b.mailed(sam, bid, &view, "refused");
            }
            "bid 401, token renewed" => {
                let tokens = b.world.standin.requests(Some("token"))[tokens_before..].to_vec();
                check!(
                    b,
                    fired.run.result() == "PLACED",
                    "eBay refusing the access token (401): a new one, the bid again, PLACED: \
                     {answer}"
                );
                check!(
                    b,
                    statuses == [&json!(401), &json!(200)]
                        && accepted.len() == 1
                        && tokens.len() == 2
                        && tokens
                            .iter()
                            .all(|t| t["body"]["grant_type"] == json!("refresh_token")
                                && t["status"] == json!(200)),
                    "bid 401: a second user token from the refresh token, then one accepted bid: \
                     bids {statuses:?}, token requests {tokens:?}"
                );
                let (view, _) = b.recorded(sam, bid, "PLACED");
                b.mailed(sam, bid, &view, "leading");
            }
            "Postmark 401" => {
                check!(
                    b,
                    fired.run.result() == "PLACED",
                    "Postmark refusing our token does not change the bid: PLACED: {answer}"
                );
                let (view, _) = b.recorded(sam, bid, "PLACED");
                let emails = b.emails_for(&bid.id);
                let reason = view["notification"]["reason"].as_str().unwrap_or_default();
                check!(
                    b,
                    emails.is_empty()
                        && view["notification"]["status"] == json!("FAILED")
                        && reason.contains("401"),
                    "Postmark 401: no e-mail, the bid records the notification FAILED with \
                     Postmark's answer: {} {emails:?}",
                    view["notification"]
                );
            }
            _ => {}
        }
        check!(
            b,
            b.world.standin.emails().len() - emails_before
                == usize::from(bid.label != "Postmark 401"),
            "{}: one e-mail sent by this run (none for Postmark 401)",
            bid.label
        );
        if !bid_requests.is_empty() {
            b.delay(bid, &fired);
        }
    }
}

/// A run long before the bid moment (beyond the executor's time limit):
/// refused as a failed invocation, so Lambda retries it, with the bid left
/// SCHEDULED and nothing asked of eBay. The bid is cancelled afterwards.
async fn too_early(b: &Backend, sam: &User) -> Option<TestBid> {
    let (item_id, item) = item_spec(5, "Guitar 5 (too early)", "100.00", json!({}));
    let mut registered = item.clone();
    registered["endTime"] = json!(now_ms() + 420_000);
    b.world.standin.item(registered);
    let r = b.call(
        Some(sam),
        "POST",
        "/bids",
        Some(json!({"itemId": item_id, "maxAmount": usd("250.00")})),
        Expect::Ok(201),
    );
    let id = r.data()["bidId"].as_str()?.to_string();
    let bid = TestBid {
        label: "too early",
        input: json!({"userId": sam.sub, "bidId": id}),
        id,
        item_id,
        item,
        lead: 5,
        max: "250.00",
    };
    let tokens = b.world.standin.requests(Some("token")).len();
    let run = b.world.invoke(&bid.input);
    b.keep("too early (refused)", &run);
    check!(
        b,
        !run.ok && run.stderr.contains("invoked too early"),
        "a run 7 minutes before the bid moment fails (so it is retried) saying it came too \
         early: {}\n{}",
        run.stdout,
        tail(&run.stderr)
    );
    let view = b.bid_view(sam, &bid.id);
    check!(
        b,
        view["status"] == json!("SCHEDULED") && view.get("outcome").is_none(),
        "the bid invoked too early stays SCHEDULED: {view}"
    );
    check!(
        b,
        b.world.standin.requests(Some("token")).len() == tokens
            && b.requests_on("bid", &bid.item_id).is_empty()
            && b.emails_for(&bid.id).is_empty()
            && b.history_of(sam, &bid.id).is_empty(),
        "invoked too early: nothing asked of eBay, no e-mail, no history"
    );
    let r = b.call(
        Some(sam),
        "DELETE",
        &format!("/bids/{}", bid.id),
        None,
        Expect::Ok(200),
    );
    check!(
        b,
        r.data()["status"] == json!("CANCELLED"),
        "the bid invoked too early can still be cancelled: {}",
        r.data()
    );
    Some(bid)
}

/// A bid still scheduled when the account is unlinked fails at its moment,
/// saying why, and the user is told.
fn fired_after_unlinking(b: &Backend, sam: &User, bid: &TestBid) {
    let fired = b.fire(bid);
    check!(
        b,
        fired.run.ok && fired.run.result() == "FAILED",
        "a bid fired after unlinking: FAILED: {}\n{}",
        fired.run.stdout,
        tail(&fired.run.stderr)
    );
    check!(
        b,
        b.requests_on("bid", &bid.item_id).is_empty(),
        "without a linked account no bid is sent"
    );
    let (view, _) = b.recorded(sam, bid, "FAILED");
    check!(
        b,
        view["outcome"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("link")),
        "the reason says to link the account: {}",
        view["outcome"]
    );
    b.mailed(sam, bid, &view, "could not be placed");
}

/// `GET /bids` (all, by status, paged) and `GET /history`; another user
/// sees none of it.
fn listing(b: &Backend, sam: &User, nina: &User, all: &[&TestBid]) {
    let r = b.call(Some(sam), "GET", "/bids?limit=100", None, Expect::Ok(200));
    let ids: Vec<String> = r.data()["bids"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|b| b["bidId"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut expected: Vec<String> = all.iter().map(|t| t.id.clone()).collect();
    expected.sort();
    expected.reverse();
    check!(
        b,
        ids == expected,
        "GET /bids: every bid of sam's, newest first: {ids:?} vs {expected:?}"
    );
    let mut paged = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..10 {
        let path = match &next {
            Some(t) => format!("/bids?limit=3&nextToken={t}"),
            None => "/bids?limit=3".to_string(),
        };
        let r = b.call(Some(sam), "GET", &path, None, Expect::Ok(200));
        paged.extend(
            r.data()["bids"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|b| b["bidId"].as_str().map(String::from)),
        );
        next = r.data()["nextToken"].as_str().map(String::from);
        if next.is_none() {
            break;
        }
    }
    check!(
        b,
        paged == expected,
        "GET /bids three at a time gives the same list: {paged:?}"
    );
    for (status, wanted) in [
        ("SCHEDULED", 1usize),
        ("CANCELLED", 2),
        ("AUCTION_ENDED", 1),
        ("FAILED", 1),
        ("PLACED", 8),
        ("OUTBID", 2),
        ("REJECTED", 1),
        ("EXECUTING", 0),
    ] {
        let r = b.call(
            Some(sam),
            "GET",
            &format!("/bids?status={status}"),
            None,
            Expect::Ok(200),
        );
        let got = r.data()["bids"].as_array().cloned().unwrap_or_default();
        check!(
            b,
            got.len() == wanted && got.iter().all(|b| b["status"] == json!(status)),
            "GET /bids?status={status}: {wanted} bids: {}",
            got.len()
        );
        let ends: Vec<&str> = got
            .iter()
            .filter_map(|b| b["auctionEndsAt"].as_str())
            .collect();
        check!(
            b,
            ends.len() == got.len() && ends.windows(2).all(|w| w[0] <= w[1]),
            "GET /bids?status={status}: soonest ending first: {ends:?}"
        );
    }
    for query in [
        "status=WON",
        "limit=0",
        "limit=101",
        "nextToken=garbage",
        "colour=red",
    ] {
        b.call(
            Some(sam),
            "GET",
            &format!("/bids?{query}"),
            None,
            Expect::Error(400, "VALIDATION_ERROR"),
        );
    }
    let r = b.call(Some(sam), "GET", "/history", None, Expect::Ok(200));
    let entries = r.data()["entries"].as_array().cloned().unwrap_or_default();
    let stamps: Vec<i64> = entries
        .iter()
        .filter_map(|e| e["timestamp"].as_i64())
        .collect();
    check!(
        b,
        entries
            .iter()
            .all(|e| e.get("ttl").is_none() && e["at"].is_string() && e["title"].is_string()),
        "history entries: when (at), the item's title, no internals (ttl): {entries:?}"
    );
    check!(
        b,
        entries.len() == 13 && stamps.windows(2).all(|w| w[0] >= w[1]),
        "GET /history: the thirteen bids that ran, newest first: {} entries, {stamps:?}",
        entries.len()
    );
    b.call(
        Some(sam),
        "GET",
        "/history?bidId=nope",
        None,
        Expect::Error(400, "VALIDATION_ERROR"),
    );
    for path in ["/bids", "/history"] {
        let r = b.call(Some(nina), "GET", path, None, Expect::Ok(200));
        let key = if path == "/bids" { "bids" } else { "entries" };
        check!(
            b,
            r.data()[key].as_array().is_some_and(Vec::is_empty),
            "GET {path} as nina: nothing of sam's: {}",
            r.data()
        );
    }
}

/// `DELETE /ebay-account`: the token removed, scheduled bids counted.
async fn unlink(b: &Backend, sam: &User) {
    let r = b.call(Some(sam), "DELETE", "/ebay-account", None, Expect::Ok(200));
    check!(
        b,
        r.data() == &json!({"ebayLinked": false, "scheduledBids": 1}),
        "DELETE /ebay-account: unlinked, one bid still scheduled: {}",
        r.data()
    );
    let item = b.users_item(sam).await;
    check!(
        b,
        !item.contains_key("ebayToken") && !item.contains_key("ebayLinkedAt"),
        "the Users item keeps no token: {:?}",
        item.keys().collect::<Vec<_>>()
    );
    let r = b.call(Some(sam), "DELETE", "/ebay-account", None, Expect::Ok(200));
    check!(
        b,
        r.data()["ebayLinked"] == json!(false),
        "DELETE again: the same answer: {}",
        r.data()
    );
}

/// What `stackctl local` and each `local invoke` printed: no IAM denial,
/// no failing function.
fn printed(b: &Backend, session: &str) {
    let mut denials = iam_denials(session);
    let mut failures = function_failures(session);
    let runs = b.runs.lock().unwrap();
    for (label, run) in runs.iter() {
        denials.extend(
            iam_denials(&run.stderr)
                .into_iter()
                .map(|d| format!("{label}: {d}")),
        );
        if !label.contains("refused") {
            failures.extend(
                function_failures(&run.stderr)
                    .into_iter()
                    .map(|d| format!("{label}: {d}")),
            );
        }
        check!(
            b,
            !run.stderr.contains("not checked:"),
            "{label}: every AWS call of the executor was checked by the IAM proxy:\n{}",
            tail(&run.stderr)
        );
    }
    eprintln!("--- IAM denials ({}):", denials.len());
    for l in &denials {
        eprintln!("{l}");
    }
    let unchecked: Vec<&str> = session
        .lines()
        .filter(|l| l.contains("not checked:"))
        .collect();
    eprintln!("--- unchecked calls of the API ({}):", unchecked.len());
    for l in &unchecked {
        eprintln!("{l}");
    }
    let mut inside = false;
    for line in session.lines() {
        if line.contains("granted but never used") {
            inside = true;
            eprintln!("{line}");
        } else if inside && line.starts_with("  ") {
            eprintln!("{line}");
        } else {
            inside = false;
        }
    }
    check!(
        b,
        denials.is_empty(),
        "no AWS call of a function was denied by IAM: {denials:#?}"
    );
    check!(
        b,
        failures.is_empty(),
        "no function failed (init errors, timeouts, panics): {failures:#?}"
    );
}

fn figures(b: &Backend) {
    let stats = b.stats.lock().unwrap();
    eprintln!();
    eprintln!(
        "{:<28} {:>8} {:>8} {:>9} {:>9} {:>9}",
        "route", "requests", "failures", "min ms", "median ms", "max ms"
    );
    let mut total = 0;
    for (route, stat) in stats.iter() {
        let mut millis = stat.millis.clone();
        millis.sort_by(f64::total_cmp);
        total += millis.len();
        eprintln!(
            "{:<28} {:>8} {:>8} {:>9.1} {:>9.1} {:>9.1}",
            route,
            millis.len(),
            stat.failures,
            millis[0],
            millis[millis.len() / 2],
            millis[millis.len() - 1]
        );
    }
    eprintln!("{total} API requests in all");
    let runs = b.runs.lock().unwrap();
    let mut took: Vec<f64> = runs.iter().map(|(_, r)| r.took.as_secs_f64()).collect();
    took.sort_by(f64::total_cmp);
    if !took.is_empty() {
        eprintln!(
            "{} executor runs (stackctl local invoke, including the wait for the bid moment): \
             {:.1}-{:.1} s",
            took.len(),
            took[0],
            took[took.len() - 1]
        );
    }
    for (label, delay) in b.delays.lock().unwrap().iter() {
        eprintln!("first bid request of {label:<22} {delay:>5} ms after the bid moment");
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

/// `2026-12-03T07:01:34.512Z`.
fn rfc3339_millis(ms: u64) -> String {
    let seconds = rfc3339(ms / 1000);
    format!("{}.{:03}Z", seconds.trim_end_matches('Z'), ms % 1000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bid_sniper_honours_its_contract_through_stackctl_local() {
    let run = Instant::now();
    let world = World::deploy().await;
    eprintln!(
        "deployed in {:?}{}",
        world.deployed_in,
        if world.created_group {
            " (the schedule group was created by the test: the emulator did not)"
        } else {
            ""
        }
    );
    let sam = world.user("sam", "sam@example.com").await;
    let nina = world.user("nina", "nina@example.com").await;
    world.standin.post(
        "refresh_tokens",
        json!({"refreshToken": SAM_REFRESH, "userId": SAM_EBAY, "clientId": APP_ID}),
    );
    world.standin.post(
        "authorization_codes",
        json!({"code": SAM_CODE, "userId": SAM_EBAY, "clientId": APP_ID, "redirectUri": RU_NAME}),
    );

    let started = Instant::now();
    let local = world.local("sniper");
    eprintln!("stackctl local served in {:?}", started.elapsed());
    let sdk = world.sdk.clone();
    let mut b = Backend {
        world,
        local,
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        scheduler: aws_sdk_scheduler::Client::new(&sdk),
        kms: aws_sdk_kms::Client::new(&sdk),
        stats: Mutex::default(),
        problems: Mutex::default(),
        runs: Mutex::default(),
        delays: Mutex::default(),
    };

    let cases = Instant::now();
    refused_by_the_authorizer(&b);
    profile(&b, &sam);
    link(&b, &sam, &nina).await;
    if let Some(mut bids) = create_bids(&b, &sam).await {
        edits(&b, &sam, &mut bids.edited).await;
        bad_bids(&b, &sam, &nina, &bids.edited).await;
        fire_main(&b, &sam, &bids.main);
        fire_again_and_twice(&b, &sam, &bids.main, &bids.concurrent);
        cancel(&b, &sam, &bids.cancelled).await;
        failures(&b, &sam, &bids.failures);
        let early = too_early(&b, &sam).await;
        let mut all = vec![&bids.main, &bids.concurrent, &bids.cancelled, &bids.edited];
        all.extend(bids.failures.iter());
        all.extend(early.as_ref());
        listing(&b, &sam, &nina, &all);
        unlink(&b, &sam).await;
        fired_after_unlinking(&b, &sam, &bids.edited);
    } else {
        b.fail("the bids could not be created; the later steps were skipped".into());
    }
    let cases = cases.elapsed();

    let session = b.local.interrupt();
    printed(&b, &session);
    figures(&b);
    eprintln!(
        "deploy {:?}, cases {cases:?}, whole run {:?}",
        b.world.deployed_in,
        run.elapsed()
    );
    let problems = b.problems.lock().unwrap();
    assert!(
        problems.is_empty(),
        "{} check(s) failed:\n{}\n\n--- stackctl local printed (last lines):\n{}\n--- the stand-in printed:\n{}",
        problems.len(),
        problems.join("\n"),
        tail(&session),
        b.world.standin.output()
    );
}
