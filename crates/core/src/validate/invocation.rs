//! How functions are invoked beyond the API: function URLs (auth, the
//! public acknowledgement, CORS as Lambda accepts it, response streaming),
//! asynchronous invocation settings and their destinations, the warning for
//! an asynchronously invoked function whose failures would be dropped, and
//! a fixed schedule's retry policy and dead-letter queue.

use super::{p, Checker};
use crate::diagnostic::Diagnostic;
use crate::model::{
    AsyncDestination, AsyncInvocation, AsyncTarget, ExternalKind, Function, FunctionUrl,
    InvokeMode, ScheduleRetry, StackDef, UrlAuth, UrlCors,
};
use crate::plan::RUST_RUNTIME;
use crate::reference::{self, Piece, Section};
use crate::source::Path;

/// A place in the stack that invokes a function asynchronously.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AsyncSource<'d> {
    /// The function invoked.
    pub function: &'d str,
    /// Where the stack file says so (a notification's `function`, a schedule's).
    pub at: Path,
}

/// Every place that invokes a function asynchronously (Lambda's list of
/// services that invoke with the `Event` type): S3 notifications, fixed
/// schedules and the targets of schedule groups, SNS subscriptions,
/// EventBridge rule targets and CloudWatch Logs subscriptions. The
/// failure-destination warning reads this list.
pub(crate) fn async_sources(def: &StackDef) -> Vec<AsyncSource<'_>> {
    let mut out = Vec::new();
    for (name, b) in &def.buckets {
        for (i, n) in b.notifications.iter().enumerate() {
            out.push(AsyncSource {
                function: &n.function,
                at: p("buckets")
                    .key(name)
                    .key("notifications")
                    .index(i)
                    .key("function"),
            });
        }
    }
    for (name, s) in &def.schedules {
        out.push(AsyncSource {
            function: &s.function,
            at: p("schedules").key(name).key("function"),
        });
    }
    for (name, g) in &def.schedule_groups {
        for (i, t) in g.targets.iter().enumerate() {
            out.push(AsyncSource {
                function: t,
                at: p("schedule_groups").key(name).key("targets").index(i),
            });
        }
    }
    for (name, t) in &def.topics {
        for (i, s) in t.subscriptions.iter().enumerate() {
            if let Some(function) = &s.function {
                out.push(AsyncSource {
                    function,
                    at: p("topics")
                        .key(name)
                        .key("subscriptions")
                        .index(i)
                        .key("function"),
                });
            }
        }
    }
    for (name, e) in &def.external {
        for (i, s) in e.subscriptions.iter().enumerate() {
            if let Some(function) = &s.function {
                out.push(AsyncSource {
                    function,
                    at: p("external")
                        .key(name)
                        .key("subscriptions")
                        .index(i)
                        .key("function"),
                });
            }
        }
    }
    for (name, r) in &def.rules {
        for (i, t) in r.targets.iter().enumerate() {
            if let Some(function) = &t.function {
                out.push(AsyncSource {
                    function,
                    at: p("rules").key(name).key("targets").index(i).key("function"),
                });
            }
        }
    }
    for (name, f) in &def.functions {
        for i in 0..f.log_subscriptions.len() {
            out.push(AsyncSource {
                function: name,
                at: p("functions").key(name).key("log_subscriptions").index(i),
            });
        }
    }
    out
}

pub(super) fn check(c: &mut Checker) {
    let def = c.def;
    for (name, f) in &def.functions {
        let at = p("functions").key(name);
        if let Some(u) = &f.url {
            url(c, name, f, &at.key("url"), u);
        }
        if let Some(a) = &f.async_invocation {
            async_invocation(c, name, &at.key("async"), a);
        }
        own_url_in_environment(c, name, f);
    }
    unhandled_async_failures(c);
    schedules(c);
}

/// A function URL: `auth: none` only when acknowledged, CORS as Lambda
/// takes it, and what streaming needs.
fn url(c: &mut Checker, name: &str, f: &Function, at: &Path, u: &FunctionUrl) {
    let public = u.allow_public == Some(true);
    match u.auth() {
        UrlAuth::None if !public => c.error(
            at.key("auth"),
            format!("the URL of function `{name}` has `auth: none` without `allow_public: true`"),
            "with `auth: none` anyone on the internet may invoke the function through its URL; add `allow_public: true` to say that is meant, or use `auth: aws_iam` (callers sign their requests with SigV4)",
        ),
        UrlAuth::AwsIam if public => c.warning(
            at.key("allow_public"),
            "`allow_public` has no effect with `auth: aws_iam`",
            "only signed requests of principals allowed to invoke the function reach it; remove `allow_public`, or set `auth: none` for a public URL",
        ),
        _ => {}
    }
    if u.auth() == UrlAuth::None && public && c.env == "prod" && f.reserved_concurrency.is_none() {
        c.warning(
            at.key("allow_public"),
            format!("function `{name}` has a public URL in `prod` and no concurrency limit"),
            "anyone may call a public URL as often as they like, and each call runs (and bills) the function; set `reserved_concurrency` to cap it, or serve it through an API with throttling",
        );
    }
    if let Some(cors) = &u.cors {
        url_cors(c, &at.key("cors"), cors);
    }
    if u.invoke_mode() == InvokeMode::ResponseStream && runs_on_os_only_runtime(f) {
        c.warning(
            at.key("invoke_mode"),
            format!("function `{name}` streams its response on `{RUST_RUNTIME}`"),
            "Lambda streams a response on an OS-only runtime only when the handler writes it as a stream: build it with lambda_runtime's streaming support (`lambda_http::run_with_streaming_response`, or a `lambda_runtime::streaming::Response`); a buffering handler's response is cut off at 6 MB as with `invoke_mode: buffered`",
        );
    }
}

/// A Rust function (built from a crate) or a package on an OS-only runtime.
fn runs_on_os_only_runtime(f: &Function) -> bool {
    match &f.zip {
        None => f.crate_name.is_some(),
        Some(z) => z
            .runtime
            .as_deref()
            .unwrap_or(RUST_RUNTIME)
            .starts_with("provided"),
    }
}

/// Methods a function URL's CORS accepts (Lambda API Reference, `Cors`;
/// the pinned `AWS::Lambda::Url` schema's `AllowMethods` enum).
const URL_CORS_METHODS: [&str; 7] = ["GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"];

/// Lambda's `Cors` limits (Lambda API Reference, API_Cors.html): at most 6
/// methods, 100 origins of 1-253 characters, 100 headers of at most 1024
/// characters each way, a preflight cache of 0-86400 seconds.
fn url_cors(c: &mut Checker, at: &Path, cors: &UrlCors) {
    let methods = at.key("allow_methods");
    if cors.allow_methods.len() > 6 {
        c.error(
            methods.clone(),
            format!("{} methods listed", cors.allow_methods.len()),
            "a function URL's CORS takes at most 6 methods; list `*` for any",
        );
    }
    for (i, m) in cors.allow_methods.iter().enumerate() {
        if !URL_CORS_METHODS.contains(&m.as_str()) {
            let hint = match URL_CORS_METHODS.iter().find(|k| k.eq_ignore_ascii_case(m)) {
                Some(upper) => format!("write it as `{upper}`"),
                None if m.eq_ignore_ascii_case("OPTIONS") => {
                    "Lambda answers the browser's OPTIONS preflight itself; remove it".into()
                }
                None => "use GET, PUT, HEAD, POST, PATCH, DELETE, or `*` for any".into(),
            };
            c.error(
                methods.index(i),
                format!("`{m}` is not a method a function URL's CORS accepts"),
                hint,
            );
        }
    }
    let origins = at.key("allow_origins");
    if cors.allow_origins.len() > 100 {
        c.error(
            origins.clone(),
            format!("{} origins listed", cors.allow_origins.len()),
            "a function URL's CORS takes at most 100 origins; list `*` for any",
        );
    }
    for (i, o) in cors.allow_origins.iter().enumerate() {
        let literal = matches!(reference::parse(o).as_deref(), Ok([Piece::Text(_)]));
        if o.is_empty() || (literal && o.len() > 253) {
            c.error(
                origins.index(i),
                format!("an origin of {} characters", o.len()),
                "a function URL's CORS origins are 1 to 253 characters, such as `https://www.example.com`",
            );
        }
    }
    for (key, headers) in [
        ("allow_headers", &cors.allow_headers),
        ("expose_headers", &cors.expose_headers),
    ] {
        if headers.len() > 100 {
            c.error(
                at.key(key),
                format!("{} headers listed", headers.len()),
                "a function URL's CORS takes at most 100 headers each way",
            );
        }
        for (i, h) in headers.iter().enumerate() {
            if h.is_empty() || h.len() > 1024 {
                c.error(
                    at.key(key).index(i),
                    format!("a header name of {} characters", h.len()),
                    "header names are 1 to 1024 characters",
                );
            }
        }
    }
    if cors.allow_credentials == Some(true) && cors.allow_origins.iter().any(|o| o == "*") {
        c.error(
            at.key("allow_credentials"),
            "`allow_credentials: true` with the `*` origin",
            "browsers refuse credentialed responses that allow any origin (the CORS standard forbids `Access-Control-Allow-Origin: *` with credentials); list the origins that may send cookies",
        );
    }
    if let Some(age) = cors.max_age_seconds {
        c.in_range(
            at.key("max_age_seconds"),
            "preflight cache age",
            age.into(),
            0..=86_400,
            "a function URL caches preflight answers for",
        );
    }
}

/// The settings' ranges (`AWS::Lambda::EventInvokeConfig`) and destinations.
fn async_invocation(c: &mut Checker, name: &str, at: &Path, a: &AsyncInvocation) {
    if let Some(retries) = a.max_retries {
        c.in_range(
            at.key("max_retries"),
            "retries",
            retries.into(),
            0..=AsyncInvocation::MAX_RETRIES.into(),
            "Lambda retries an asynchronous invocation",
        );
    }
    if let Some(age) = a.max_event_age_seconds {
        let range = AsyncInvocation::EVENT_AGE_SECONDS;
        c.in_range(
            at.key("max_event_age_seconds"),
            "event age",
            age.into(),
            u64::from(*range.start())..=u64::from(*range.end()),
            "Lambda keeps an asynchronous event, in seconds",
        );
    }
    for (key, destination) in [("on_success", &a.on_success), ("on_failure", &a.on_failure)] {
        if let Some(d) = destination {
            async_destination(c, name, &at.key(key), d);
        }
    }
}

fn async_destination(c: &mut Checker, name: &str, at: &Path, d: &AsyncDestination) {
    let def = c.def;
    let Some(target) = d.target() else {
        c.error(
            at.clone(),
            "name exactly one destination",
            "write `{queue: NAME}`, `{topic: NAME}`, `{function: NAME}` or `{event_bus: NAME}`, naming a queue, topic, function or event bus of this stack, or `{external: NAME}` for one of `external:`",
        );
        return;
    };
    match target {
        AsyncTarget::Queue(q) => {
            if c.expect_known(at.key("queue"), "queue", q, def.queues.keys())
                && def.queues.get(q).is_some_and(|queue| queue.is_fifo())
            {
                c.error(
                    at.key("queue"),
                    format!("queue `{q}` is a FIFO queue"),
                    // "an unsupported destination type, such as an Amazon SQS
                    // FIFO queue" (AWS Lambda Developer Guide,
                    // invocation-async-retain-records.html).
                    "Lambda sends invocation records only to standard queues (to a FIFO queue every delivery fails); name a standard queue",
                );
            }
        }
        AsyncTarget::Topic(t) => {
            c.expect_known(at.key("topic"), "topic", t, def.topics.keys());
        }
        AsyncTarget::External(e) => {
            let known = c.expect_known(
                at.key("external"),
                "external resource",
                e,
                def.external.keys(),
            );
            let kind = def.external.get(e).map(|x| x.kind);
            if known
                && !matches!(
                    kind,
                    Some(
                        ExternalKind::Queue
                            | ExternalKind::Topic
                            | ExternalKind::Function
                            | ExternalKind::EventBus
                    )
                )
            {
                c.error(
                    at.key("external"),
                    format!("external `{e}` is a {}; Lambda sends invocation records to a queue, topic, function or event bus", kind.map_or("", |k| k.word())),
                    "name an external queue, topic, function or event bus",
                );
            }
        }
        AsyncTarget::EventBus(b) => {
            c.expect_known(at.key("event_bus"), "event bus", b, def.event_buses.keys());
        }
        AsyncTarget::Function(f) => {
            if f == name {
                c.error(
                    at.key("function"),
                    format!("function `{name}` is its own destination"),
                    "each record would invoke the function again, asynchronously, and make another record: a loop. Send records to a queue or topic, or to another function",
                );
            } else {
                c.expect_known(at.key("function"), "function", f, def.functions.keys());
            }
        }
    }
}

/// A function whose environment names its own URL: the URL needs the
/// function first, and AWS chooses its address, so it cannot be known.
fn own_url_in_environment(c: &mut Checker, name: &str, f: &Function) {
    let def = c.def;
    let places = [
        (p("functions").key(name).key("environment"), &f.environment),
        (
            p("function_defaults.environment"),
            &def.function_defaults.environment,
        ),
    ];
    for (at, vars) in places {
        for (key, value) in vars {
            let Ok(pieces) = reference::parse(value) else {
                continue;
            };
            let own = pieces.iter().any(|piece| {
                matches!(piece, Piece::Ref(r) if r.section == Section::Kind(&crate::kinds::FUNCTION)
                    && r.attr == "url"
                    && r.name == name)
            });
            if own {
                c.error(
                    at.key(key),
                    format!("function `{name}` is told its own URL"),
                    "the URL is made after the function (AWS picks its address), so the function cannot be given it: a dependency cycle. Read the host from each request's `Host` header instead",
                );
            }
        }
    }
}

/// Warns for each function invoked asynchronously that would drop an
/// event whose retries are spent, once per function at its first source.
fn unhandled_async_failures(c: &mut Checker) {
    let def = c.def;
    let mut warned: Vec<&str> = Vec::new();
    for source in async_sources(def) {
        let Some(f) = def.functions.get(source.function) else {
            continue;
        };
        let handled = f
            .async_invocation
            .as_ref()
            .is_some_and(|a| a.on_failure.is_some());
        if handled || warned.contains(&source.function) {
            continue;
        }
        warned.push(source.function);
        c.out.push(
            Diagnostic::warning(format!(
                "function `{}` is invoked asynchronously (by `{}`) and has no failure destination",
                source.function, source.at
            ))
            .at_key(p("functions").key(source.function))
            .hint("an event that still fails after Lambda's retries, or waits too long, is dropped without a trace; add `async: {on_failure: {queue: NAME}}` (a queue, topic or function of this stack) to keep a record of it"),
        );
    }
}

/// A fixed schedule's retry policy and dead-letter queue.
fn schedules(c: &mut Checker) {
    let def = c.def;
    for (name, s) in &def.schedules {
        let at = p("schedules").key(name);
        if let Some(r) = &s.retry {
            if let Some(n) = r.max_attempts {
                c.in_range(
                    at.key("retry").key("max_attempts"),
                    "retry attempts",
                    n.into(),
                    0..=ScheduleRetry::MAX_ATTEMPTS.into(),
                    "EventBridge Scheduler retries a target",
                );
            }
            if let Some(age) = r.max_event_age_seconds {
                let range = ScheduleRetry::EVENT_AGE_SECONDS;
                c.in_range(
                    at.key("retry").key("max_event_age_seconds"),
                    "event age",
                    age.into(),
                    u64::from(*range.start())..=u64::from(*range.end()),
                    "EventBridge Scheduler keeps trying an event, in seconds",
                );
            }
        }
        if let Some(q) = &s.dead_letter {
            if c.expect_known(at.key("dead_letter"), "queue", q, def.queues.keys())
                && def.queues.get(q).is_some_and(|queue| queue.is_fifo())
            {
                c.error(
                    at.key("dead_letter"),
                    format!("queue `{q}` is a FIFO queue"),
                    // "EventBridge Scheduler does not support using a FIFO
                    // queue as your schedule's DLQ" (EventBridge Scheduler
                    // User Guide, configuring-schedule-dlq.html).
                    "EventBridge Scheduler does not support a FIFO queue as a schedule's dead-letter queue; name a standard queue",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::load::resolve_text;

    /// The errors and the warnings `yaml` gets in `env`, each as
    /// `message @ line:column`.
    fn findings(yaml: &str, env: &str) -> (Vec<String>, Vec<String>) {
        let (_, resolved) = resolve_text("test.yaml", yaml, env);
        let shown = |d: &crate::diagnostic::Diagnostic| match d.loc() {
            Some(loc) => format!("{} @ {}:{}", d.message, loc.line, loc.col),
            None => format!("{} @ -", d.message),
        };
        let (errors, warnings): (Vec<_>, Vec<_>) =
            resolved.diagnostics.iter().partition(|d| d.is_error());
        (
            errors.into_iter().map(shown).collect(),
            warnings.into_iter().map(shown).collect(),
        )
    }

    const ASYNC: &str = r#"name: shop
queues:
  failed: {}
buckets:
  uploads:
    notifications:
      - function: thumbs
      - {function: thumbs, prefix: raw/, events: [object_removed]}
functions:
  thumbs: {crate: thumbs}
  report: {crate: report}
  ok:
    crate: ok
    async: {on_failure: {queue: failed}}
  alerts: {crate: alerts}
  router: {crate: router}
  reader: {crate: reader, log_subscriptions: [{function: ok}]}
schedules:
  nightly: {function: report, expression: rate(1 day)}
  other: {function: ok, expression: rate(1 day)}
schedule_groups:
  bids: {targets: [report, ok]}
topics:
  alarms:
    subscriptions: [{function: alerts}, {function: ok}]
rules:
  placed:
    pattern: {source: [shop.checkout]}
    targets: [{function: router}]
"#;

    #[test]
    fn each_asynchronously_invoked_function_without_failure_destination_is_warned_of_once() {
        let (errors, warnings) = findings(ASYNC, "dev");
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(
            warnings,
            vec![
                "function `thumbs` is invoked asynchronously (by `buckets.uploads.notifications[0].function`) and has no failure destination @ 10:3",
                "function `report` is invoked asynchronously (by `schedules.nightly.function`) and has no failure destination @ 11:3",
                "function `alerts` is invoked asynchronously (by `topics.alarms.subscriptions[0].function`) and has no failure destination @ 15:3",
                "function `router` is invoked asynchronously (by `rules.placed.targets[0].function`) and has no failure destination @ 16:3",
                "function `reader` is invoked asynchronously (by `functions.reader.log_subscriptions[0]`) and has no failure destination @ 17:3",
            ]
        );
        // A success destination alone does not keep failures.
        let only_success = ASYNC.replace(
            "thumbs: {crate: thumbs}",
            "thumbs: {crate: thumbs, async: {on_success: {queue: failed}}}",
        );
        let (_, warnings) = findings(&only_success, "dev");
        assert_eq!(warnings.len(), 5, "{warnings:#?}");
    }

    #[test]
    fn the_sources_are_listed_where_the_stack_file_names_them() {
        let (_, resolved) = resolve_text("test.yaml", ASYNC, "dev");
        let def = resolved.def().unwrap();
        let sources: Vec<(String, String)> = super::async_sources(def)
            .into_iter()
            .map(|s| (s.function.to_string(), s.at.to_string()))
            .collect();
        let expected = [
            ("thumbs", "buckets.uploads.notifications[0].function"),
            ("thumbs", "buckets.uploads.notifications[1].function"),
            ("report", "schedules.nightly.function"),
            ("ok", "schedules.other.function"),
            ("report", "schedule_groups.bids.targets[0]"),
            ("ok", "schedule_groups.bids.targets[1]"),
            ("alerts", "topics.alarms.subscriptions[0].function"),
            ("ok", "topics.alarms.subscriptions[1].function"),
            ("router", "rules.placed.targets[0].function"),
            ("reader", "functions.reader.log_subscriptions[0]"),
        ];
        assert_eq!(
            sources,
            expected
                .iter()
                .map(|(f, at)| (f.to_string(), at.to_string()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_public_url_is_acknowledged_and_capped_in_prod() {
        let public = "name: shop\nfunctions:\n  hook:\n    crate: hook\n    url: {auth: none, allow_public: true}\n";
        assert_eq!(findings(public, "dev"), (vec![], vec![]));
        let (errors, warnings) = findings(public, "prod");
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(
            warnings,
            vec!["function `hook` has a public URL in `prod` and no concurrency limit @ 5:37"]
        );
        let capped = public.replace("crate: hook", "crate: hook\n    reserved_concurrency: 5");
        assert_eq!(findings(&capped, "prod"), (vec![], vec![]));
        let iam =
            "name: shop\nfunctions:\n  hook:\n    crate: hook\n    url: {allow_public: true}\n";
        assert_eq!(
            findings(iam, "dev").1,
            vec!["`allow_public` has no effect with `auth: aws_iam` @ 5:25"]
        );
    }

    #[test]
    fn streaming_is_warned_of_on_an_os_only_runtime_only() {
        let rust = "name: shop\nfunctions:\n  hook:\n    crate: hook\n    url: {invoke_mode: response_stream}\n";
        assert_eq!(
            findings(rust, "dev").1,
            vec!["function `hook` streams its response on `provided.al2023` @ 5:24"]
        );
        let node = "name: shop\nfunctions:\n  hook:\n    zip: {path: hook.zip, runtime: nodejs22.x, handler: index.handler}\n    url: {invoke_mode: response_stream}\n";
        assert_eq!(findings(node, "dev"), (vec![], vec![]));
    }
}
