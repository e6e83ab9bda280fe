//! Contract test of the fleet console backend (seed 001) through the path a
//! user's request takes (tier `tier-emulator`): the `fleet-console` stack
//! deployed to the emulator (moto: DynamoDB, Cognito, EC2, CloudWatch) with
//! its five real handler packages, served by `stackctl local` (the REST
//! API's routing and request models, the Cognito authorizer checking real
//! ID tokens of the deployed pool, each function a `bootstrap` process
//! under its own role, its AWS calls checked by the IAM proxy) and called
//! over HTTP.
//!
//! The test sets the world up against the emulator directly: three users in
//! the deployed pool (an admin, a read-only user, one without a role),
//! three instances (two tagged `fleet-console=managed`, one of them
//! stopped, and one without the tag) and CPU and network data points of a
//! managed instance. Then, one `stackctl local` session:
//!
//! - requests without a token are refused by the authorizer;
//! - `GET /instances` (filters by state and tag, bad filters), `GET
//!   /instances/{id}` (found, unknown, malformed);
//! - `POST /instances/{id}/reboot` by each role, on a managed, an unmanaged,
//!   an unknown and a malformed id, and the audit entries each leaves (or
//!   does not leave);
//! - `GET /instances/{id}/metrics`: the data points put, and the windows
//!   CloudWatch cannot answer;
//! - `GET /audit` by user, action, resource and `since`, paged two at a
//!   time; tokens of another query and two keys refused; `POST /audit`
//!   with who-did-it taken from the token, forged identities and the
//!   console's own actions refused;
//! - `POST /auth/refresh` (public): a real refresh token, garbage, a body
//!   the REST API's model refuses;
//! - the audit table read back directly: append-only (every entry written
//!   is there once, nothing was replaced);
//! - what `stackctl local` printed at exit: no AWS call denied by IAM.
//!
//! Every check that fails is recorded and the test carries on, so one run
//! (a deploy and a session take minutes) reports every misbehaviour; it
//! fails at the end with the list. Per route it prints the number of
//! requests, unexpected statuses and latency.

mod support;

use aws_sdk_cloudwatch::primitives::{DateTime, DateTimeFormat};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::local::{output, Answer, Local, Project, PASSWORD};
use support::moto::Moto;

const STACK: &str = "fleet-console";
const USER_AGENT: &str = "fleet-backend-test/1.0 (contract)";
/// The dev environment's CORS origin.
const ORIGIN: &str = "http://localhost:3000";
const UNKNOWN_ID: &str = "i-0aaaaaaaaaaaaaaaa";
const MANAGED_TAG: (&str, &str) = ("fleet-console", "managed");
/// CPU values put for the first managed instance, minutes ago.
const CPU: [(u64, f64); 3] = [(50, 12.5), (30, 47.0), (10, 88.25)];
const NETWORK_IN: (u64, f64) = (30, 1024.0);

/// A user of the deployed pool, signed in.
struct User {
    email: String,
    sub: String,
    id_token: String,
    refresh_token: String,
}

/// The instances the test launched.
struct Fleet {
    /// Managed, running, with metrics.
    web1: String,
    /// Managed, stopped.
    web2: String,
    /// Running, without the managed tag.
    legacy: String,
}

#[derive(Default)]
struct Stat {
    millis: Vec<f64>,
    failures: usize,
}

/// The deployed backend, served by one `stackctl local`, and what the run
/// found.
struct Backend {
    local: Local,
    table: String,
    dynamodb: aws_sdk_dynamodb::Client,
    stats: Mutex<BTreeMap<String, Stat>>,
    problems: Mutex<Vec<String>>,
    /// Audit entries the API answered as written (`201`, `audited: true`).
    written: Mutex<usize>,
    /// Refusals that must have left an `ACCESS_DENIED` entry.
    refusals: Mutex<usize>,
}

/// Records a failed check (with its line) and carries on.
macro_rules! check {
    ($b:expr, $cond:expr, $($message:tt)+) => {
        if !$cond {
            $b.fail(format!("line {}: {}", line!(), format!($($message)+)));
        }
    };
}

/// What a request is expected to get.
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

    fn wrote(&self, entries: usize) {
        *self.written.lock().unwrap() += entries;
    }

    fn refused(&self, entries: usize) {
        *self.refusals.lock().unwrap() += entries;
    }

    /// A request as the console's browser sends it: the ID token as is in
    /// `Authorization` (the Cognito authorizer's identity source), a user
    /// agent, the dev origin; timed, counted and checked against `expect`.
    fn call(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
        expect: Expect<'_>,
    ) -> Answer {
        let mut headers = vec![
            ("user-agent".to_string(), USER_AGENT.to_string()),
            ("origin".to_string(), ORIGIN.to_string()),
        ];
        if body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        if let Some(token) = token {
            headers.push(("authorization".into(), token.to_string()));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
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
            Expect::Ok(_) => {
                check!(
                    self,
                    r.header("content-type") == Some("application/json")
                        && r.body["success"] == json!(true)
                        && r.body.get("data").is_some(),
                    "{request}: not a success envelope: {shown}"
                );
            }
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
            Expect::Gateway(_, message) => {
                check!(
                    self,
                    r.body == json!({ "message": message }),
                    "{request}: expected API Gateway's {{\"message\": {message:?}}}, got {shown}"
                );
            }
        }
        r
    }

    /// Every entry of a `GET /audit` query, following `nextToken`.
    fn audit_entries(&self, token: &str, query: &str) -> Vec<Value> {
        let mut entries = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..20 {
            let mut path = format!("/audit?{query}");
            if let Some(t) = &next {
                path.push_str(&format!("&nextToken={t}"));
            }
            let r = self.call(Some(token), "GET", &path, None, Expect::Ok(200));
            entries.extend(r.data()["entries"].as_array().cloned().unwrap_or_default());
            next = r.data()["nextToken"].as_str().map(String::from);
            if next.is_none() {
                return entries;
            }
        }
        self.fail(format!("GET /audit?{query}: more than 20 pages"));
        entries
    }
}

/// The route (API Gateway's resource) a request goes to.
fn route_of(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let route = match parts.as_slice() {
        ["instances", _] => "/instances/{instanceId}".to_string(),
        ["instances", _, action] => format!("/instances/{{instanceId}}/{action}"),
        _ => path.to_string(),
    };
    format!("{method} {route}")
}

fn function_of(route: &str) -> &'static str {
    match route {
        r if r.ends_with("/reboot") => "instances-reboot",
        r if r.ends_with("/metrics") => "instances-metrics",
        r if r.contains("/instances") => "instances-read",
        r if r.contains("/audit") => "audit",
        r if r.contains("/auth/refresh") => "refresh",
        _ => "-",
    }
}

fn describe(r: &Answer) -> String {
    let mut text = r.text.clone();
    if text.len() > 700 {
        text.truncate(700);
        text.push('…');
    }
    format!("{} {text}", r.status)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// RFC 3339 in UTC, to the second (`2026-12-03T07:01:34Z`).
fn rfc3339(secs: u64) -> String {
    DateTime::from_secs(secs as i64)
        .fmt(DateTimeFormat::DateTime)
        .unwrap()
}

// ---------------------------------------------------------------- set-up

/// An admin-created user with a permanent password, signed in with
/// ADMIN_USER_PASSWORD_AUTH; `custom:role` set when `role` is.
async fn user(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
    client: &str,
    email: &str,
    role: Option<&str>,
) -> User {
    use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, MessageActionType};
    let attribute = |name: &str, value: &str| {
        AttributeType::builder()
            .name(name)
            .value(value)
            .build()
            .unwrap()
    };
    let mut attributes = vec![attribute("email", email)];
    if let Some(role) = role {
        attributes.push(attribute("custom:role", role));
    }
    cognito
        .admin_create_user()
        .user_pool_id(pool)
        .username(email)
        .set_user_attributes(Some(attributes))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap_or_else(|e| panic!("AdminCreateUser {email}: {e:?}"));
    cognito
        .admin_set_user_password()
        .user_pool_id(pool)
        .username(email)
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("AdminSetUserPassword {email}: {e:?}"));
    let signed_in = cognito
        .admin_initiate_auth()
        .user_pool_id(pool)
        .client_id(client)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", email)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap_or_else(|e| panic!("AdminInitiateAuth {email}: {e:?}"));
    let tokens = signed_in
        .authentication_result()
        .unwrap_or_else(|| panic!("{email}: a challenge instead of tokens: {signed_in:?}"));
    let got = cognito
        .admin_get_user()
        .user_pool_id(pool)
        .username(email)
        .send()
        .await
        .unwrap();
    let sub = got
        .user_attributes()
        .iter()
        .find(|a| a.name() == "sub")
        .and_then(|a| a.value())
        .expect("a sub")
        .to_string();
    User {
        email: email.to_string(),
        sub,
        id_token: tokens.id_token().expect("an ID token").to_string(),
        refresh_token: tokens.refresh_token().expect("a refresh token").to_string(),
    }
}

/// Three instances: two managed (the second stopped), one not.
async fn launch(ec2: &aws_sdk_ec2::Client) -> Fleet {
    use aws_sdk_ec2::types::{InstanceType, ResourceType, Tag, TagSpecification};
    let images = ec2.describe_images().send().await.expect("DescribeImages");
    let image = images
        .images()
        .first()
        .and_then(|i| i.image_id())
        .expect("the emulator has images")
        .to_string();
    let mut ids = Vec::new();
    for (name, managed) in [("web-1", true), ("web-2", true), ("legacy-db", false)] {
        let mut tags = TagSpecification::builder()
            .resource_type(ResourceType::Instance)
            .tags(Tag::builder().key("Name").value(name).build());
        if managed {
            tags = tags.tags(
                Tag::builder()
                    .key(MANAGED_TAG.0)
                    .value(MANAGED_TAG.1)
                    .build(),
            );
        }
        let out = ec2
            .run_instances()
            .image_id(&image)
            .instance_type(InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .tag_specifications(tags.build())
            .send()
            .await
            .unwrap_or_else(|e| panic!("RunInstances {name}: {e:?}"));
        ids.push(out.instances()[0].instance_id().unwrap().to_string());
    }
    ec2.stop_instances()
        .instance_ids(&ids[1])
        .send()
        .await
        .expect("StopInstances");
    Fleet {
        web1: ids[0].clone(),
        web2: ids[1].clone(),
        legacy: ids[2].clone(),
    }
}

/// CPU and network data points of `instance` (minute-aligned, within the
/// last hour); the minute the window ends at.
async fn put_metrics(cloudwatch: &aws_sdk_cloudwatch::Client, instance: &str) -> u64 {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    let minute = now_secs() / 60 * 60;
    let datum = |name: &str, minutes_ago: u64, value: f64, unit: StandardUnit| {
        MetricDatum::builder()
            .metric_name(name)
            .dimensions(
                Dimension::builder()
                    .name("InstanceId")
                    .value(instance)
                    .build(),
            )
            .timestamp(DateTime::from_secs((minute - minutes_ago * 60) as i64))
            .value(value)
            .unit(unit)
            .build()
    };
    let mut data: Vec<MetricDatum> = CPU
        .iter()
        .map(|(ago, v)| datum("CPUUtilization", *ago, *v, StandardUnit::Percent))
        .collect();
    data.push(datum(
        "NetworkIn",
        NETWORK_IN.0,
        NETWORK_IN.1,
        StandardUnit::Bytes,
    ));
    cloudwatch
        .put_metric_data()
        .namespace("AWS/EC2")
        .set_metric_data(Some(data))
        .send()
        .await
        .expect("PutMetricData");
    minute
}

// ---------------------------------------------------------------- cases

/// No token, or not a token: API Gateway's 401 before any function.
/// Whether the answer carries CORS headers depends on the REST API's
/// gateway responses being applied by `stackctl local`.
fn refused_by_the_authorizer(b: &Backend) {
    for token in [None, Some("garbage")] {
        for (method, path, body) in [
            ("GET", "/instances", None),
            ("GET", "/instances/i-0123456789abcdef0", None),
            ("POST", "/instances/i-0123456789abcdef0/reboot", None),
            (
                "GET",
                "/instances/i-0123456789abcdef0/metrics?period=60",
                None,
            ),
            ("GET", "/audit", None),
            (
                "POST",
                "/audit",
                Some(
                    json!({"action": "VIEW_INSTANCE", "resourceType": "EC2_INSTANCE", "resourceId": "x"}),
                ),
            ),
        ] {
            let r = b.call(
                token,
                method,
                path,
                body,
                Expect::Gateway(401, "Unauthorized"),
            );
            let allow = r.header("access-control-allow-origin").map(String::from);
            check!(
                b,
                allow.as_deref() == Some(ORIGIN),
                "{method} {path} refused with {token:?}: the REST API's gateway responses give CORS headers, \
                 but Access-Control-Allow-Origin is {allow:?}: {r:?}"
            );
        }
    }
}

fn instance_in<'a>(listed: &'a Value, id: &str) -> Option<&'a Value> {
    listed["instances"]
        .as_array()?
        .iter()
        .find(|i| i["instanceId"] == json!(id))
}

fn ids_in(listed: &Value) -> HashSet<String> {
    listed["instances"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["instanceId"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /instances` and `GET /instances/{id}`.
fn reads(b: &Backend, fleet: &Fleet, admin: &User, readonly: &User, norole: &User) {
    let all: HashSet<String> = [&fleet.web1, &fleet.web2, &fleet.legacy]
        .into_iter()
        .cloned()
        .collect();
    for user in [admin, readonly] {
        let r = b.call(
            Some(&user.id_token),
            "GET",
            "/instances",
            None,
            Expect::Ok(200),
        );
        let data = r.data();
        check!(
            b,
            ids_in(data) == all && data["count"] == json!(3),
            "GET /instances as {}: every instance, count 3: {}",
            user.email,
            data
        );
        for (id, name, state, managed) in [
            (&fleet.web1, "web-1", "running", true),
            (&fleet.web2, "web-2", "stopped", true),
            (&fleet.legacy, "legacy-db", "running", false),
        ] {
            let Some(i) = instance_in(data, id) else {
                continue;
            };
            let text = |k: &str| i[k].as_str().is_some_and(|s| !s.is_empty());
            check!(
                b,
                i["name"] == json!(name)
                    && i["instanceType"] == json!("t3.micro")
                    && i["state"] == json!(state)
                    && i["managed"] == json!(managed)
                    && text("availabilityZone")
                    && text("privateIpAddress")
                    && text("launchTime")
                    && i["launchTime"]
                        .as_str()
                        .is_some_and(|t| handler_support::clock::parse_rfc3339(t).is_some())
                    && i["tags"]["Name"] == json!(name),
                "GET /instances: {name} ({id}) as launched: {i}"
            );
            if state == "running" {
                check!(
                    b,
                    text("publicIpAddress"),
                    "GET /instances: running {name} has a public address: {i}"
                );
                check!(
                    b,
                    i["statusChecks"]["system"] == json!("ok")
                        && i["statusChecks"]["instance"] == json!("ok"),
                    "GET /instances: {name}'s status checks: {}",
                    i["statusChecks"]
                );
            } else {
                check!(
                    b,
                    i["statusChecks"].is_object(),
                    "GET /instances: stopped {name} has status checks (include_all_instances): {}",
                    i["statusChecks"]
                );
            }
        }
    }
    let token = Some(readonly.id_token.as_str());
    for (query, expected) in [
        ("state=stopped", vec![&fleet.web2]),
        ("state=running", vec![&fleet.web1, &fleet.legacy]),
        (
            "state=running,stopped",
            vec![&fleet.web1, &fleet.web2, &fleet.legacy],
        ),
        ("tag=Name=web-1", vec![&fleet.web1]),
        ("tag=fleet-console", vec![&fleet.web1, &fleet.web2]),
        ("tag=fleet-console=managed", vec![&fleet.web1, &fleet.web2]),
        ("tag=fleet-console&state=running", vec![&fleet.web1]),
        ("tag=Owner", vec![]),
    ] {
        let r = b.call(
            token,
            "GET",
            &format!("/instances?{query}"),
            None,
            Expect::Ok(200),
        );
        let want: HashSet<String> = expected.into_iter().cloned().collect();
        check!(
            b,
            ids_in(r.data()) == want && r.data()["count"] == json!(want.len()),
            "GET /instances?{query}: expected {want:?}, got {}",
            r.data()
        );
    }
    for query in ["state=sleeping", "tag==x", "colour=red"] {
        b.call(
            token,
            "GET",
            &format!("/instances?{query}"),
            None,
            Expect::Error(400, "VALIDATION_ERROR"),
        );
    }
    // A caller without a role reads nothing, and is audited.
    b.call(
        Some(&norole.id_token),
        "GET",
        "/instances",
        None,
        Expect::Error(403, "FORBIDDEN"),
    );
    b.refused(1);

    let r = b.call(
        token,
        "GET",
        &format!("/instances/{}", fleet.web1),
        None,
        Expect::Ok(200),
    );
    let i = &r.data()["instance"];
    check!(
        b,
        i["instanceId"] == json!(fleet.web1)
            && i["name"] == json!("web-1")
            && i["state"] == json!("running")
            && i["managed"] == json!(true)
            && i["statusChecks"]["system"] == json!("ok"),
        "GET /instances/{{web-1}}: {}",
        r.data()
    );
    let r = b.call(
        token,
        "GET",
        &format!("/instances/{}", fleet.legacy),
        None,
        Expect::Ok(200),
    );
    check!(
        b,
        r.data()["instance"]["managed"] == json!(false),
        "GET /instances/{{legacy}}: not managed: {}",
        r.data()
    );
    b.call(
        token,
        "GET",
        &format!("/instances/{UNKNOWN_ID}"),
        None,
        Expect::Error(404, "NOT_FOUND"),
    );
    b.call(
        token,
        "GET",
        "/instances/web-1",
        None,
        Expect::Error(400, "VALIDATION_ERROR"),
    );
}

/// Whether `entries` hold one of `action` on `resource` by `user`.
fn find_entry<'a>(
    entries: &'a [Value],
    action: &str,
    resource: &str,
    user: &User,
) -> Option<&'a Value> {
    entries.iter().find(|e| {
        e["action"] == json!(action)
            && e["resourceId"] == json!(resource)
            && e["userId"] == json!(user.sub)
    })
}

/// `POST /instances/{id}/reboot` by each role, and the audit trail.
fn reboots(b: &Backend, fleet: &Fleet, admin: &User, readonly: &User, norole: &User) {
    let reboot = |user: &User, id: &str, expect: Expect<'_>| {
        b.call(
            Some(&user.id_token),
            "POST",
            &format!("/instances/{id}/reboot"),
            None,
            expect,
        )
    };
    let r = reboot(admin, &fleet.web1, Expect::Ok(200));
    check!(
        b,
        r.data()["audited"] == json!(true) && r.data()["instanceId"] == json!(fleet.web1),
        "admin reboots web-1: {}",
        r.body
    );
    b.wrote(1);
    let entries = b.audit_entries(&admin.id_token, "action=REBOOT_INSTANCE");
    match find_entry(&entries, "REBOOT_INSTANCE", &fleet.web1, admin) {
        Some(e) => check!(
            b,
            e["userEmail"] == json!(admin.email)
                && e["resourceType"] == json!("EC2_INSTANCE")
                && e["ipAddress"].as_str().is_some_and(|s| !s.is_empty())
                && e["userAgent"] == json!(USER_AGENT)
                && e["auditId"].is_string()
                && e["details"]["name"] == json!("web-1"),
            "the REBOOT_INSTANCE entry: who, from where, with which agent: {e}"
        ),
        None => b.fail(format!(
            "no REBOOT_INSTANCE entry for web-1 by the admin: {entries:?}"
        )),
    }

    // Read-only: refused, audited as theirs.
    reboot(readonly, &fleet.web1, Expect::Error(403, "FORBIDDEN"));
    b.refused(1);
    let own = b.audit_entries(&readonly.id_token, "");
    match find_entry(&own, "ACCESS_DENIED", &fleet.web1, readonly) {
        Some(e) => check!(
            b,
            e["userEmail"] == json!(readonly.email)
                && e["details"]["requiredRole"] == json!("admin")
                && e["details"]["role"] == json!("readonly")
                && e["userAgent"] == json!(USER_AGENT),
            "the read-only user's ACCESS_DENIED entry: {e}"
        ),
        None => b.fail(format!(
            "no ACCESS_DENIED entry of the read-only user in their own entries: {own:?}"
        )),
    }
    let on_web1 = b.audit_entries(&readonly.id_token, &format!("resourceId={}", fleet.web1));
    check!(
        b,
        find_entry(&on_web1, "ACCESS_DENIED", &fleet.web1, readonly).is_some(),
        "the read-only user's refusal found by resource: {on_web1:?}"
    );

    // No role: refused, audited.
    reboot(norole, &fleet.web1, Expect::Error(403, "FORBIDDEN"));
    b.refused(1);
    let theirs = b.audit_entries(&admin.id_token, &format!("userId={}", norole.sub));
    check!(
        b,
        find_entry(&theirs, "ACCESS_DENIED", &fleet.web1, norole)
            .is_some_and(|e| e["details"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("No role"))),
        "the no-role user's refusal, read by the admin: {theirs:?}"
    );

    // Unmanaged: refused before EC2's reboot is called, saying which tag.
    let r = reboot(
        admin,
        &fleet.legacy,
        Expect::Error(403, "INSTANCE_NOT_MANAGED"),
    );
    let tag = format!("{}={}", MANAGED_TAG.0, MANAGED_TAG.1);
    check!(
        b,
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&tag) && m.contains(&fleet.legacy)),
        "INSTANCE_NOT_MANAGED names the instance and the missing tag {tag}: {}",
        r.body
    );
    b.refused(1);
    let on_legacy = b.audit_entries(&admin.id_token, &format!("resourceId={}", fleet.legacy));
    check!(
        b,
        find_entry(&on_legacy, "ACCESS_DENIED", &fleet.legacy, admin).is_some(),
        "the unmanaged-instance refusal is audited: {on_legacy:?}"
    );

    // Unknown and malformed ids: nothing written.
    let before = b.audit_entries(&admin.id_token, "").len();
    reboot(admin, UNKNOWN_ID, Expect::Error(404, "NOT_FOUND"));
    reboot(admin, "web-1", Expect::Error(400, "VALIDATION_ERROR"));
    reboot(readonly, "web-1", Expect::Error(400, "VALIDATION_ERROR"));
    let after = b.audit_entries(&admin.id_token, "").len();
    check!(
        b,
        before == after,
        "unknown and malformed ids leave no audit entry: {before} entries before, {after} after"
    );
    let on_malformed = b.audit_entries(&admin.id_token, "resourceId=web-1");
    check!(
        b,
        on_malformed.is_empty(),
        "nothing written about the malformed id, whoever asked: {on_malformed:?}"
    );
}

/// `GET /instances/{id}/metrics`: the points put, then the windows
/// CloudWatch cannot answer.
fn metrics(b: &Backend, fleet: &Fleet, readonly: &User, norole: &User, minute: u64) {
    let token = Some(readonly.id_token.as_str());
    // A caller without a role reads no metrics, and is audited.
    b.call(
        Some(&norole.id_token),
        "GET",
        &format!("/instances/{}/metrics?period=300", fleet.web1),
        None,
        Expect::Error(403, "FORBIDDEN"),
    );
    b.refused(1);
    let start = rfc3339(minute - 3600);
    let path = format!("/instances/{}/metrics?period=60&start={start}", fleet.web1);
    let r = b.call(token, "GET", &path, None, Expect::Ok(200));
    let data = r.data();
    let cpu = &data["metrics"]["cpuUtilization"];
    let points: Vec<(String, f64)> = cpu["datapoints"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p["timestamp"].as_str()?.to_string(), p["value"].as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    let want: Vec<(String, f64)> = CPU
        .iter()
        .map(|(ago, v)| (rfc3339(minute - ago * 60), *v))
        .collect();
    check!(
        b,
        points == want,
        "CPU points come back as put, oldest first: want {want:?}, got {cpu}"
    );
    check!(
        b,
        cpu["metric"] == json!("CPUUtilization")
            && cpu["stat"] == json!("Average")
            && cpu["unit"] == json!("Percent")
            && data["period"] == json!(60)
            && data["instanceId"] == json!(fleet.web1)
            && data["start"] == json!(start),
        "the metrics answer's frame: {}",
        json!({"period": data["period"], "start": data["start"], "end": data["end"], "cpu": cpu})
    );
    let network = &data["metrics"]["networkIn"]["datapoints"];
    check!(
        b,
        *network
            == json!([{"timestamp": rfc3339(minute - NETWORK_IN.0 * 60), "value": NETWORK_IN.1}]),
        "NetworkIn (Sum) comes back as put: {network}"
    );
    check!(
        b,
        data["metrics"]["diskReadBytes"]["datapoints"] == json!([]),
        "a series without data is empty: {}",
        data["metrics"]["diskReadBytes"]
    );

    let now = now_secs();
    let on = |query: String| format!("/instances/{}/metrics?{query}", fleet.web1);
    b.call(
        token,
        "GET",
        &on(format!("period=90&start={start}")),
        None,
        Expect::Error(400, "VALIDATION_ERROR"),
    );
    let r = b.call(
        token,
        "GET",
        &on(format!("period=60&start={}", rfc3339(now - 8 * 86_400))),
        None,
        Expect::Error(400, "VALIDATION_ERROR"),
    );
    check!(
        b,
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("at least 120 seconds")),
        "8 days at 60 s: the message names the smallest period that fits (120 s): {}",
        r.body
    );
    let r = b.call(
        token,
        "GET",
        &on(format!("period=60&start={}", rfc3339(now - 20 * 86_400))),
        None,
        Expect::Error(400, "VALIDATION_ERROR"),
    );
    check!(
        b,
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("multiple of 300")),
        "20 days ago at 60 s: data that old is kept at 5 minutes: {}",
        r.body
    );
    b.call(
        token,
        "GET",
        &format!("/instances/{UNKNOWN_ID}/metrics?period=60"),
        None,
        Expect::Error(404, "NOT_FOUND"),
    );
    // `period` is a required query parameter of the REST API (`validate:
    // parameters`): API Gateway refuses the request before the function
    // (which would refuse it too).
    let r = b.local.request(
        "GET",
        &format!("/instances/{}/metrics", fleet.web1),
        &[("authorization".into(), readonly.id_token.clone())],
        b"",
    );
    check!(
        b,
        r.status == 400
            && r.body == json!({"message": "Missing required request parameters: [period]"}),
        "metrics without period: API Gateway's request-parameter validation refuses it: {}",
        describe(&r)
    );
}

/// `POST /audit` and every way of reading `GET /audit`.
fn audit(b: &Backend, fleet: &Fleet, admin: &User, readonly: &User, norole: &User) {
    let token = Some(readonly.id_token.as_str());
    let view = |resource: &str, page: &str| json!({"action": "VIEW_INSTANCE", "resourceType": "EC2_INSTANCE", "resourceId": resource, "details": {"page": page}});
    let own_before = b.audit_entries(&readonly.id_token, "").len();
    let mut first_timestamp = None;
    for page in ["overview", "metrics", "status"] {
        let r = b.call(
            token,
            "POST",
            "/audit",
            Some(view(&fleet.web1, page)),
            Expect::Ok(201),
        );
        b.wrote(1);
        let d = r.data();
        check!(
            b,
            d["userId"] == json!(readonly.sub)
                && d["userEmail"] == json!(readonly.email)
                && d["action"] == json!("VIEW_INSTANCE")
                && d["resourceType"] == json!("EC2_INSTANCE")
                && d["resourceId"] == json!(fleet.web1)
                && d["details"] == json!({"page": page})
                && d["userAgent"] == json!(USER_AGENT)
                && d["auditId"].is_string()
                && d["timestamp"].is_string(),
            "POST /audit: who and when come from the token and the clock: {d}"
        );
        first_timestamp = first_timestamp.or_else(|| d["timestamp"].as_str().map(String::from));
    }

    // Refused: who or where in the body, the console's own actions, an
    // action not in UPPER_SNAKE, no body at all; none writes.
    let on_web1 = |fields: Value| {
        let mut body = json!({"action": "VIEW_INSTANCE", "resourceType": "EC2_INSTANCE", "resourceId": fleet.web1});
        body.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        Some(body)
    };
    for (body, expect) in [
        (
            on_web1(json!({"userId": admin.sub})),
            Expect::Error(400, "VALIDATION_ERROR"),
        ),
        (
            on_web1(json!({"userEmail": "admin@example.com", "ipAddress": "10.0.0.1"})),
            Expect::Error(400, "VALIDATION_ERROR"),
        ),
        (
            on_web1(json!({"action": "REBOOT_INSTANCE"})),
            Expect::Error(403, "FORBIDDEN"),
        ),
        (
            on_web1(json!({"action": "ACCESS_DENIED"})),
            Expect::Error(403, "FORBIDDEN"),
        ),
        (
            on_web1(json!({"action": "view"})),
            Expect::Error(400, "VALIDATION_ERROR"),
        ),
        (None, Expect::Error(400, "VALIDATION_ERROR")),
    ] {
        b.call(token, "POST", "/audit", body, expect);
    }
    let own = b.audit_entries(&readonly.id_token, "");
    check!(
        b,
        own.len() == own_before + 3,
        "refused writes wrote nothing: {own_before} entries before, 3 written, {} now",
        own.len()
    );
    // No role: refused, audited.
    b.call(
        Some(&norole.id_token),
        "POST",
        "/audit",
        Some(view(&fleet.web1, "overview")),
        Expect::Error(403, "FORBIDDEN"),
    );
    b.call(
        Some(&norole.id_token),
        "GET",
        "/audit",
        None,
        Expect::Error(403, "FORBIDDEN"),
    );
    b.refused(2);

    // `since`: a second batch written after a whole second.
    let boundary = now_secs() + 1;
    while now_secs() < boundary {
        std::thread::sleep(Duration::from_millis(20));
    }
    for page in ["logs", "tags"] {
        b.call(
            token,
            "POST",
            "/audit",
            Some(view(&fleet.web2, page)),
            Expect::Ok(201),
        );
        b.wrote(1);
    }

    // By user (own, the default), by action, by resource.
    let own = b.audit_entries(&readonly.id_token, "");
    check!(
        b,
        !own.is_empty() && own.iter().all(|e| e["userId"] == json!(readonly.sub)),
        "GET /audit: the caller's own entries only: {own:?}"
    );
    check!(
        b,
        own.len() == own_before + 5,
        "GET /audit: own entries: {own_before} before, 5 written since, {} listed",
        own.len()
    );
    let as_admin = b.audit_entries(&admin.id_token, &format!("userId={}", readonly.sub));
    check!(
        b,
        as_admin.len() == own.len(),
        "GET /audit?userId=: the same entries when the admin asks: {} vs {}",
        as_admin.len(),
        own.len()
    );
    let views = b.audit_entries(&admin.id_token, "action=VIEW_INSTANCE");
    check!(
        b,
        views.len() == 5 && views.iter().all(|e| e["action"] == json!("VIEW_INSTANCE")),
        "GET /audit?action=VIEW_INSTANCE: the 5 views: {views:?}"
    );
    let on_web2 = b.audit_entries(&admin.id_token, &format!("resourceId={}", fleet.web2));
    check!(
        b,
        on_web2.len() == 2 && on_web2.iter().all(|e| e["resourceId"] == json!(fleet.web2)),
        "GET /audit?resourceId=web-2: the 2 views of web-2: {on_web2:?}"
    );
    let on_web1 = b.audit_entries(&admin.id_token, &format!("resourceId={}", fleet.web1));
    let mut actions: Vec<&str> = on_web1
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    actions.sort_unstable();
    check!(
        b,
        actions
            == [
                "ACCESS_DENIED",
                "ACCESS_DENIED",
                "ACCESS_DENIED",
                "ACCESS_DENIED",
                "REBOOT_INSTANCE",
                "VIEW_INSTANCE",
                "VIEW_INSTANCE",
                "VIEW_INSTANCE"
            ],
        "GET /audit?resourceId=web-1: the reboot, four refusals (read-only and no role on reboot, \
         no role on metrics and on POST /audit) and three views: {actions:?}"
    );

    // `since`: a time, a date, tomorrow.
    let since = b.audit_entries(&readonly.id_token, &format!("since={}", rfc3339(boundary)));
    check!(
        b,
        since.len() == 2 && since.iter().all(|e| e["resourceId"] == json!(fleet.web2)),
        "GET /audit?since={}: the 2 entries written after it: {since:?}",
        rfc3339(boundary)
    );
    if let Some(first) = &first_timestamp {
        let day = &first[..10];
        let since_day = b.audit_entries(&readonly.id_token, &format!("since={day}"));
        check!(
            b,
            since_day.len() >= 5,
            "GET /audit?since={day}: every entry of the run: {}",
            since_day.len()
        );
    }
    let tomorrow = &rfc3339(now_secs() + 86_400)[..10];
    let none = b.audit_entries(&readonly.id_token, &format!("since={tomorrow}"));
    check!(
        b,
        none.is_empty(),
        "GET /audit?since={tomorrow}: nothing: {none:?}"
    );
    b.call(
        token,
        "GET",
        "/audit?since=yesterday",
        None,
        Expect::Error(400, "VALIDATION_ERROR"),
    );

    // Paging two at a time: newest first, nothing twice, nothing missed.
    let whole = b.call(token, "GET", "/audit?limit=50", None, Expect::Ok(200));
    let whole: Vec<String> = whole.data()["entries"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["auditId"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut paged: Vec<Value> = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &next {
            Some(t) => format!("/audit?limit=2&nextToken={t}"),
            None => "/audit?limit=2".to_string(),
        };
        let r = b.call(token, "GET", &path, None, Expect::Ok(200));
        pages += 1;
        let entries = r.data()["entries"].as_array().cloned().unwrap_or_default();
        check!(
            b,
            entries.len() <= 2,
            "limit=2: {} entries on a page",
            entries.len()
        );
        paged.extend(entries);
        next = r.data()["nextToken"].as_str().map(String::from);
        if next.is_none() || pages > 20 || r.status != 200 {
            break;
        }
    }
    let ids: Vec<String> = paged
        .iter()
        .filter_map(|e| e["auditId"].as_str().map(String::from))
        .collect();
    let distinct: HashSet<&String> = ids.iter().collect();
    let stamps: Vec<&str> = paged
        .iter()
        .filter_map(|e| e["timestamp"].as_str())
        .collect();
    check!(
        b,
        distinct.len() == ids.len(),
        "paging repeats no entry: {ids:?}"
    );
    check!(
        b,
        stamps.windows(2).all(|w| w[0] >= w[1]),
        "paging: newest first across pages: {stamps:?}"
    );
    check!(
        b,
        ids == whole && pages >= ids.len().div_ceil(2),
        "paging two at a time ({pages} pages) gives what one page of 50 gives: {ids:?} vs {whole:?}"
    );

    // A token is bound to its query; one key at a time.
    let r = b.call(
        token,
        "GET",
        "/audit?action=VIEW_INSTANCE&limit=1",
        None,
        Expect::Ok(200),
    );
    match r.data()["nextToken"].as_str() {
        Some(other) => {
            b.call(
                token,
                "GET",
                &format!("/audit?nextToken={other}"),
                None,
                Expect::Error(400, "VALIDATION_ERROR"),
            );
            b.call(
                token,
                "GET",
                &format!("/audit?action=ACCESS_DENIED&nextToken={other}"),
                None,
                Expect::Error(400, "VALIDATION_ERROR"),
            );
        }
        None => b.fail(format!(
            "GET /audit?action=VIEW_INSTANCE&limit=1 gave no nextToken with 5 entries: {}",
            r.body
        )),
    }
    b.call(
        token,
        "GET",
        "/audit?nextToken=bm90IGEgdG9rZW4",
        None,
        Expect::Error(400, "VALIDATION_ERROR"),
    );
    b.call(
        token,
        "GET",
        &format!("/audit?action=VIEW_INSTANCE&resourceId={}", fleet.web1),
        None,
        Expect::Error(400, "VALIDATION_ERROR"),
    );
    b.call(
        token,
        "GET",
        "/audit?limit=0",
        None,
        Expect::Error(400, "VALIDATION_ERROR"),
    );
    b.call(
        token,
        "GET",
        "/audit?limit=51",
        None,
        Expect::Error(400, "VALIDATION_ERROR"),
    );
    b.call(
        token,
        "GET",
        "/audit?action=view",
        None,
        Expect::Error(400, "VALIDATION_ERROR"),
    );
}

/// `POST /auth/refresh`: public, real tokens in and out.
fn refresh(b: &Backend, admin: &User) {
    let r = b.call(
        None,
        "POST",
        "/auth/refresh",
        Some(json!({"refreshToken": admin.refresh_token})),
        Expect::Ok(200),
    );
    match r.data()["idToken"].as_str() {
        Some(id_token) => {
            check!(
                b,
                r.data()["accessToken"].is_string(),
                "a refresh gives an access token too: {}",
                r.data()
            );
            let r = b.call(Some(id_token), "GET", "/instances", None, Expect::Ok(200));
            check!(
                b,
                r.data()["count"] == json!(3),
                "the refreshed ID token works: {}",
                r.data()
            );
        }
        None => b.fail(format!("POST /auth/refresh: no idToken: {}", r.body)),
    }
    b.call(
        None,
        "POST",
        "/auth/refresh",
        Some(json!({"refreshToken": "garbage"})),
        Expect::Error(401, "UNAUTHORIZED"),
    );
    // The REST API's body model refuses these before the function runs.
    for body in [
        json!({}),
        json!({"refreshToken": ""}),
        json!({"refreshToken": admin.refresh_token, "extra": 1}),
    ] {
        b.call(
            None,
            "POST",
            "/auth/refresh",
            Some(body),
            Expect::Gateway(400, "Invalid request body"),
        );
    }
}

/// The audit table read directly: every entry once, as many as the API
/// said it wrote plus the refusals it recorded.
async fn append_only(b: &Backend) {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = b
            .dynamodb
            .scan()
            .table_name(&b.table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("Scan the audit table");
        items.extend(page.items().iter().cloned());
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    let text =
        |item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
         key: &str| {
            item.get(key)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
    let audit_ids: Vec<String> = items.iter().map(|i| text(i, "auditId")).collect();
    let distinct: HashSet<&String> = audit_ids.iter().collect();
    check!(
        b,
        distinct.len() == audit_ids.len() && !audit_ids.iter().any(String::is_empty),
        "every auditId is there and distinct: {audit_ids:?}"
    );
    let written = *b.written.lock().unwrap();
    let refusals = *b.refusals.lock().unwrap();
    let denied = items
        .iter()
        .filter(|i| text(i, "action") == "ACCESS_DENIED")
        .count();
    check!(
        b,
        items.len() == written + refusals && denied == refusals,
        "the table holds {} items ({denied} ACCESS_DENIED): the API wrote {written} and refused {refusals}",
        items.len()
    );
    check!(
        b,
        items.iter().all(|i| i.contains_key("ttl")),
        "every item expires (ttl)"
    );
    eprintln!(
        "audit table: {} items ({written} written through the API, {refusals} refusals), all auditIds distinct: {}",
        items.len(),
        distinct.len() == audit_ids.len()
    );
}

/// What `stackctl local` printed: denials (as they happened and the
/// summary at exit), unchecked calls and unused grants, shown; no call may
/// have been denied.
fn session_output(b: &Backend, printed: &str) {
    let denials: Vec<&str> = printed
        .lines()
        .filter(|l| {
            l.contains("denied by the functions' roles")
                || (l.contains("called ") && l.contains("of its role"))
        })
        .collect();
    let unchecked: Vec<&str> = printed
        .lines()
        .filter(|l| l.contains("not checked:"))
        .collect();
    let unused: Vec<&str> = {
        let mut out = Vec::new();
        let mut inside = false;
        for line in printed.lines() {
            if line.contains("granted but never used") {
                inside = true;
                out.push(line);
            } else if inside && line.starts_with("  ") {
                out.push(line);
            } else {
                inside = false;
            }
        }
        out
    };
    let failures: Vec<&str> = printed
        .lines()
        .filter(|l| {
            l.contains("Runtime.") || l.contains("Task timed out") || l.contains(" panicked")
        })
        .collect();
    eprintln!("--- stackctl local: IAM denials ({}):", denials.len());
    for l in &denials {
        eprintln!("{l}");
    }
    eprintln!("--- stackctl local: unchecked calls ({}):", unchecked.len());
    for l in &unchecked {
        eprintln!("{l}");
    }
    eprintln!("--- stackctl local: unused grants:");
    for l in &unused {
        eprintln!("{l}");
    }
    check!(
        b,
        denials.is_empty(),
        "no AWS call of a function was denied by IAM (the unmanaged instance is refused before EC2's reboot): {denials:#?}"
    );
    check!(
        b,
        failures.is_empty(),
        "no function failed (init errors, timeouts, panics): {failures:#?}"
    );
    // Refused by API Gateway (authorizer, body model): no function ran.
    let served: Vec<&str> = printed
        .lines()
        .filter(|l| l.starts_with("ConsoleApi ") && l.contains(" → "))
        .collect();
    let gateway_refused = served
        .iter()
        .filter(|l| l.contains("refused") || l.contains("request validation"))
        .count();
    let starts = printed.matches("START RequestId").count();
    check!(
        b,
        starts + gateway_refused == served.len(),
        "every request API Gateway let through ran a function once: {} served, {gateway_refused} refused by \
         the gateway, {starts} START lines",
        served.len()
    );
}

fn figures(b: &Backend) {
    let stats = b.stats.lock().unwrap();
    eprintln!();
    eprintln!(
        "{:<44} {:<18} {:>8} {:>8} {:>9} {:>9} {:>9}",
        "route", "function", "requests", "failures", "min ms", "median ms", "max ms"
    );
    let mut total = 0;
    for (route, stat) in stats.iter() {
        let mut millis = stat.millis.clone();
        millis.sort_by(f64::total_cmp);
        let median = if millis.len() % 2 == 1 {
            millis[millis.len() / 2]
        } else {
            (millis[millis.len() / 2 - 1] + millis[millis.len() / 2]) / 2.0
        };
        total += millis.len();
        eprintln!(
            "{:<44} {:<18} {:>8} {:>8} {:>9.1} {:>9.1} {:>9.1}",
            route,
            function_of(route),
            millis.len(),
            stat.failures,
            millis[0],
            median,
            millis[millis.len() - 1]
        );
    }
    eprintln!("{total} requests in all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_console_honours_its_contract_through_stackctl_local() {
    let run = Instant::now();
    let moto = Moto::start();
    let project = Project::of(STACK);
    project.deploy(&moto);
    let deployed = run.elapsed();
    eprintln!("deployed in {deployed:?}");
    let outputs = project.outputs(&moto);
    let pool = output(&outputs, "UserPoolId");
    let client = output(&outputs, "WebUserPoolClientId");
    let table = output(&outputs, "AuditLogsTableName");

    let sdk = moto.sdk_config().await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let admin = user(&cognito, &pool, &client, "ada@example.com", Some("admin")).await;
    let readonly = user(
        &cognito,
        &pool,
        &client,
        "rob@example.com",
        Some("readonly"),
    )
    .await;
    let norole = user(&cognito, &pool, &client, "nora@example.com", None).await;
    let fleet = launch(&aws_sdk_ec2::Client::new(&sdk)).await;
    let minute = put_metrics(&aws_sdk_cloudwatch::Client::new(&sdk), &fleet.web1).await;

    let started = Instant::now();
    let mut b = Backend {
        local: Local::start(&project, &moto, "fleet"),
        table,
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        stats: Mutex::default(),
        problems: Mutex::default(),
        written: Mutex::default(),
        refusals: Mutex::default(),
    };
    eprintln!("stackctl local served in {:?}", started.elapsed());

    let cases = Instant::now();
    refused_by_the_authorizer(&b);
    reads(&b, &fleet, &admin, &readonly, &norole);
    reboots(&b, &fleet, &admin, &readonly, &norole);
    metrics(&b, &fleet, &readonly, &norole, minute);
    audit(&b, &fleet, &admin, &readonly, &norole);
    refresh(&b, &admin);
    append_only(&b).await;
    let cases = cases.elapsed();

    let printed = b.local.interrupt();
    session_output(&b, &printed);
    figures(&b);
    eprintln!(
        "deploy {deployed:?}, cases {cases:?}, whole run {:?}",
        run.elapsed()
    );
    let problems = b.problems.lock().unwrap();
    assert!(
        problems.is_empty(),
        "{} check(s) failed:\n{}\n\n--- stackctl local printed:\n{printed}",
        problems.len(),
        problems.join("\n")
    );
}
