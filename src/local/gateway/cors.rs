//! An HTTP API's CORS, as "Configuring CORS for an HTTP API" describes it:
//! with CORS configured, API Gateway answers every preflight `OPTIONS`
//! request itself (even without an `OPTIONS` route) and writes the CORS
//! headers of every other answer, ignoring any the integration returned.
//! An origin, method or header that is not allowed gets an answer without
//! CORS headers, which the browser then refuses.

use crate::local::payload::Response;
use crate::local::template::Cors;

/// Whether `headers` make a preflight request: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`.
pub fn is_preflight(method: &str, headers: &[(String, String)]) -> bool {
    method == "OPTIONS"
        && header(headers, "origin").is_some()
        && header(headers, "access-control-request-method").is_some()
}

/// API Gateway's `204` answer to a preflight request.
pub fn preflight(cors: &Cors, headers: &[(String, String)]) -> Response {
    let mut answer = Response {
        status: 204,
        headers: Vec::new(),
        body: Vec::new(),
    };
    let Some(origin) = allowed_origin(cors, header(headers, "origin")) else {
        return answer;
    };
    let method = header(headers, "access-control-request-method").unwrap_or_default();
    if !listed(&cors.allow_methods, method, false) {
        return answer;
    }
    let requested: Vec<&str> = header(headers, "access-control-request-headers")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    if !requested
        .iter()
        .all(|h| listed(&cors.allow_headers, h, true))
    {
        return answer;
    }
    let out = &mut answer.headers;
    out.push(("access-control-allow-origin".into(), origin));
    out.push((
        "access-control-allow-methods".into(),
        cors.allow_methods.join(","),
    ));
    if !requested.is_empty() {
        let allowed = if cors.allow_headers.iter().any(|h| h == "*") {
            requested.join(",")
        } else {
            cors.allow_headers.join(",").to_ascii_lowercase()
        };
        out.push(("access-control-allow-headers".into(), allowed));
    }
    if let Some(age) = cors.max_age {
        out.push(("access-control-max-age".into(), age.to_string()));
    }
    credentials(cors, out);
    answer
}

/// Writes the CORS headers of an answer to a request from `origin`, in
/// place of any the integration sent.
pub fn decorate(cors: &Cors, origin: Option<&str>, answer: &mut Response) {
    answer
        .headers
        .retain(|(name, _)| !name.to_ascii_lowercase().starts_with("access-control-"));
    let Some(origin) = allowed_origin(cors, origin) else {
        return;
    };
    let out = &mut answer.headers;
    out.push(("access-control-allow-origin".into(), origin));
    if !cors.expose_headers.is_empty() {
        out.push((
            "access-control-expose-headers".into(),
            cors.expose_headers.join(","),
        ));
    }
    credentials(cors, out);
}

fn credentials(cors: &Cors, out: &mut Vec<(String, String)>) {
    if cors.allow_credentials {
        out.push(("access-control-allow-credentials".into(), "true".into()));
    }
}

/// The `Access-Control-Allow-Origin` value for `origin`: `*` when any
/// origin is allowed, else the origin itself when it is listed.
fn allowed_origin(cors: &Cors, origin: Option<&str>) -> Option<String> {
    let origin = origin?;
    if cors.allow_origins.iter().any(|o| o == "*") {
        return Some("*".into());
    }
    cors.allow_origins
        .iter()
        .any(|o| o == origin)
        .then(|| origin.to_string())
}

/// Whether `value` is in `list` or the list holds `*`; header names are
/// compared without regard to case, methods exactly.
fn listed(list: &[String], value: &str, ignore_case: bool) -> bool {
    list.iter().any(|item| {
        item == "*" || item == value || (ignore_case && item.eq_ignore_ascii_case(value))
    })
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors() -> Cors {
        Cors {
            allow_origins: vec!["https://app.example.com".into()],
            allow_methods: vec!["GET".into(), "POST".into()],
            allow_headers: vec!["Content-Type".into(), "Authorization".into()],
            expose_headers: vec!["x-total".into()],
            max_age: Some(600),
            allow_credentials: false,
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn value<'r>(answer: &'r Response, name: &str) -> Option<&'r str> {
        header(&answer.headers, name)
    }

    #[test]
    fn an_allowed_preflight_gets_the_configured_headers() {
        let request = headers(&[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "content-type, authorization",
            ),
        ]);
        assert!(is_preflight("OPTIONS", &request));
        let answer = preflight(&cors(), &request);
        assert_eq!(answer.status, 204);
        assert_eq!(
            value(&answer, "access-control-allow-origin"),
            Some("https://app.example.com")
        );
        assert_eq!(
            value(&answer, "access-control-allow-methods"),
            Some("GET,POST")
        );
        assert_eq!(
            value(&answer, "access-control-allow-headers"),
            Some("content-type,authorization")
        );
        assert_eq!(value(&answer, "access-control-max-age"), Some("600"));
    }

    #[test]
    fn a_foreign_origin_method_or_header_gets_no_cors_headers() {
        for request in [
            headers(&[
                ("Origin", "https://evil.example"),
                ("Access-Control-Request-Method", "GET"),
            ]),
            headers(&[
                ("Origin", "https://app.example.com"),
                ("Access-Control-Request-Method", "DELETE"),
            ]),
            headers(&[
                ("Origin", "https://app.example.com"),
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "x-secret"),
            ]),
        ] {
            let answer = preflight(&cors(), &request);
            assert_eq!(answer.status, 204);
            assert!(
                answer.headers.is_empty(),
                "{request:?} got {:?}",
                answer.headers
            );
        }
        assert!(!is_preflight("OPTIONS", &headers(&[("Origin", "x")])));
    }

    #[test]
    fn answers_carry_the_apis_cors_headers_not_the_integrations() {
        let mut answer = Response {
            status: 200,
            headers: headers(&[
                ("access-control-allow-origin", "*"),
                ("content-type", "application/json"),
            ]),
            body: Vec::new(),
        };
        decorate(&cors(), Some("https://app.example.com"), &mut answer);
        assert_eq!(
            value(&answer, "access-control-allow-origin"),
            Some("https://app.example.com")
        );
        assert_eq!(
            value(&answer, "access-control-expose-headers"),
            Some("x-total")
        );
        assert_eq!(value(&answer, "content-type"), Some("application/json"));

        let mut foreign = answer.clone();
        decorate(&cors(), Some("https://evil.example"), &mut foreign);
        assert_eq!(value(&foreign, "access-control-allow-origin"), None);
    }

    #[test]
    fn a_wildcard_origin_answers_star_and_credentials_are_announced() {
        let mut open = cors();
        open.allow_origins = vec!["*".into()];
        open.allow_credentials = true;
        let mut answer = Response::gateway(200, "ok");
        decorate(&open, Some("https://anyone.example"), &mut answer);
        assert_eq!(value(&answer, "access-control-allow-origin"), Some("*"));
        assert_eq!(
            value(&answer, "access-control-allow-credentials"),
            Some("true")
        );
    }
}
