//! Route selection as API Gateway's HTTP APIs do it, documented in
//! "Routing API requests" (developer guide, `http-api-develop-routes`):
//!
//! 1. a full match of route and method, where a path variable `{id}` matches
//!    one segment;
//! 2. else a match with a greedy path variable (`{proxy+}`, one or more
//!    segments);
//! 3. else the `$default` route;
//! 4. else `404 {"message":"Not Found"}`.
//!
//! Within a tier the most specific route wins: the guide's example has
//! `GET /pets/dog/1` beat `GET /pets/dog/{id}`, and `GET /pets/{proxy+}`
//! beat `ANY /{proxy+}`. Here that is: segment by segment, a literal beats a
//! variable; a longer path before the greedy variable beats a shorter one;
//! and a route for the request's method beats `ANY` ("`ANY` matches all
//! methods that you haven't defined for a route"). The guide does not say
//! whether path or method decides first between `GET /pets/{id}` and
//! `ANY /pets/1`; the path does here.
//!
//! Path variables arrive URL-decoded, as API Gateway passes them. Empty
//! segments (`//`, a trailing `/`) are skipped; the guide does not say how
//! API Gateway treats them, and this has not been measured against AWS.

use percent_encoding::percent_decode_str;
use std::collections::BTreeMap;

/// One segment of a route's path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Variable(String),
    Greedy(String),
}

/// A route key: `METHOD /path` or `$default`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteKey {
    /// `None` for `ANY`.
    method: Option<String>,
    /// `None` for `$default`.
    segments: Option<Vec<Segment>>,
    text: String,
}

impl RouteKey {
    /// Reads a route key; the stack file's validation has already held its
    /// routes to API Gateway's rules, so this only refuses what it cannot read.
    pub fn parse(key: &str) -> Result<RouteKey, String> {
        if key == "$default" {
            return Ok(RouteKey {
                method: None,
                segments: None,
                text: key.to_string(),
            });
        }
        let (method, path) = stackctl_core::validate::parse_route_key(key)?;
        let segments = split_path(path)
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => match name.strip_suffix('+') {
                        Some(greedy) => Segment::Greedy(greedy.to_string()),
                        None => Segment::Variable(name.to_string()),
                    },
                    None => Segment::Literal(segment.to_string()),
                },
            )
            .collect();
        Ok(RouteKey {
            method: (method != "ANY").then(|| method.to_string()),
            segments: Some(segments),
            text: key.to_string(),
        })
    }

    /// The key as written (`GET /pets/{id}`), which payload 2.0 sends as `routeKey`.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// The non-empty segments of a path (`/` has none).
fn split_path(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// The route a request goes to, with its path variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected<'r, T> {
    pub key: &'r RouteKey,
    pub target: &'r T,
    /// Variable name to decoded value (`proxy` holds the rest of the path).
    pub path_parameters: BTreeMap<String, String>,
}

/// An API's routes, each with what it leads to (an integration).
#[derive(Debug, Clone)]
pub struct RouteTable<T> {
    routes: Vec<(RouteKey, T)>,
}

/// How well a route matches: lower is more specific.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    /// 0 full match, 1 greedy, 2 `$default`.
    tier: u8,
    /// For greedy routes: fewer segments before the greedy one rank lower.
    segments_before_greedy: std::cmp::Reverse<usize>,
    /// Per segment, literal (0) before variable (1).
    shape: Vec<u8>,
    /// The request's own method (0) before `ANY` (1).
    any_method: bool,
}

impl<T> RouteTable<T> {
    pub fn new(routes: Vec<(RouteKey, T)>) -> RouteTable<T> {
        RouteTable { routes }
    }

    /// The route for `method` and `path` (the path without its query), or
    /// `None`, which API Gateway answers with 404 `{"message":"Not Found"}`.
    pub fn select(&self, method: &str, path: &str) -> Option<Selected<'_, T>> {
        let request: Vec<&str> = split_path(path).collect();
        self.routes
            .iter()
            .filter_map(|(key, target)| {
                let (rank, path_parameters) = matches(key, method, &request)?;
                Some((rank, key, target, path_parameters))
            })
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, key, target, path_parameters)| Selected {
                key,
                target,
                path_parameters,
            })
    }
}

/// Whether `key` matches the request, how well, and the path variables.
fn matches(
    key: &RouteKey,
    method: &str,
    request: &[&str],
) -> Option<(Rank, BTreeMap<String, String>)> {
    let Some(segments) = &key.segments else {
        let rank = Rank {
            tier: 2,
            segments_before_greedy: std::cmp::Reverse(0),
            shape: Vec::new(),
            any_method: true,
        };
        return Some((rank, BTreeMap::new()));
    };
    if key.method.as_deref().is_some_and(|m| m != method) {
        return None;
    }
    let mut parameters = BTreeMap::new();
    let mut shape = Vec::new();
    let mut greedy_at = None;
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            Segment::Greedy(name) => {
                // One or more segments: `/pets/{proxy+}` does not match `/pets`.
                let rest = request.get(i..).filter(|rest| !rest.is_empty())?;
                parameters.insert(name.clone(), decode(&rest.join("/")));
                greedy_at = Some(i);
                break;
            }
            Segment::Literal(literal) => {
                if decode(request.get(i)?) != *literal {
                    return None;
                }
                shape.push(0);
            }
            Segment::Variable(name) => {
                parameters.insert(name.clone(), decode(request.get(i)?));
                shape.push(1);
            }
        }
    }
    if greedy_at.is_none() && request.len() != segments.len() {
        return None;
    }
    let rank = Rank {
        tier: if greedy_at.is_some() { 1 } else { 0 },
        segments_before_greedy: std::cmp::Reverse(greedy_at.unwrap_or(0)),
        shape,
        any_method: key.method.is_none(),
    };
    Some((rank, parameters))
}

/// A URL-decoded path segment; text that is not valid UTF-8 once decoded
/// stays as it was sent.
fn decode(segment: &str) -> String {
    percent_decode_str(segment)
        .decode_utf8()
        .map_or_else(|_| segment.to_string(), |text| text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(keys: &[&str]) -> RouteTable<usize> {
        RouteTable::new(
            keys.iter()
                .enumerate()
                .map(|(i, k)| (RouteKey::parse(k).unwrap(), i))
                .collect(),
        )
    }

    fn route<'t>(t: &'t RouteTable<usize>, method: &str, path: &str) -> Option<&'t str> {
        t.select(method, path).map(|s| s.key.as_str())
    }

    /// The developer guide's own example, request by request.
    #[test]
    fn the_guides_example_routes_as_the_guide_says() {
        let t = table(&[
            "GET /pets/dog/1",
            "GET /pets/dog/{id}",
            "GET /pets/{proxy+}",
            "ANY /{proxy+}",
            "$default",
        ]);
        assert_eq!(route(&t, "GET", "/pets/dog/1"), Some("GET /pets/dog/1"));
        assert_eq!(route(&t, "GET", "/pets/dog/2"), Some("GET /pets/dog/{id}"));
        assert_eq!(route(&t, "GET", "/pets/cat/1"), Some("GET /pets/{proxy+}"));
        assert_eq!(route(&t, "POST", "/test/5"), Some("ANY /{proxy+}"));
        // Nothing but `$default` matches the root.
        assert_eq!(route(&t, "GET", "/"), Some("$default"));
    }

    #[test]
    fn without_default_an_unmatched_request_finds_no_route() {
        let t = table(&["GET /pets", "POST /pets/{id}"]);
        assert_eq!(route(&t, "DELETE", "/pets"), None);
        assert_eq!(route(&t, "GET", "/pets/1"), None);
        assert_eq!(
            route(&t, "POST", "/pets"),
            None,
            "a variable needs a segment"
        );
        assert_eq!(route(&t, "POST", "/pets/1/extra"), None);
    }

    #[test]
    fn a_greedy_variable_takes_one_or_more_segments_never_none() {
        let t = table(&["GET /files/{proxy+}"]);
        assert_eq!(route(&t, "GET", "/files"), None);
        let s = t.select("GET", "/files/a/b%20c/d.txt").unwrap();
        assert_eq!(s.path_parameters["proxy"], "a/b c/d.txt");
    }

    #[test]
    fn a_route_for_the_method_beats_any_and_a_literal_beats_a_variable() {
        let t = table(&["ANY /items/{id}", "GET /items/{id}", "GET /items/new"]);
        assert_eq!(route(&t, "GET", "/items/7"), Some("GET /items/{id}"));
        assert_eq!(route(&t, "PUT", "/items/7"), Some("ANY /items/{id}"));
        assert_eq!(route(&t, "GET", "/items/new"), Some("GET /items/new"));
        // The first differing segment decides.
        let t = table(&["GET /{a}/b/{c}", "GET /x/{b}/{c}"]);
        assert_eq!(route(&t, "GET", "/x/b/1"), Some("GET /x/{b}/{c}"));
    }

    #[test]
    fn a_longer_path_before_the_greedy_variable_wins() {
        let t = table(&["ANY /{proxy+}", "ANY /api/{proxy+}", "ANY /api/v1/{proxy+}"]);
        assert_eq!(route(&t, "GET", "/api/v1/x"), Some("ANY /api/v1/{proxy+}"));
        assert_eq!(route(&t, "GET", "/api/v2/x"), Some("ANY /api/{proxy+}"));
        assert_eq!(route(&t, "GET", "/other"), Some("ANY /{proxy+}"));
        // A full match beats any greedy one.
        let t = table(&["GET /{proxy+}", "GET /{a}/{b}"]);
        assert_eq!(route(&t, "GET", "/x/y"), Some("GET /{a}/{b}"));
    }

    #[test]
    fn path_variables_arrive_decoded() {
        let t = table(&["GET /users/{id}/orders/{order}"]);
        let s = t.select("GET", "/users/a%40b.com/orders/42").unwrap();
        assert_eq!(s.path_parameters["id"], "a@b.com");
        assert_eq!(s.path_parameters["order"], "42");
        // A literal compares with the decoded segment; bad UTF-8 stays as sent.
        let t = table(&["GET /a-b", "GET /{x}"]);
        assert_eq!(route(&t, "GET", "/a%2Db"), Some("GET /a-b"));
        let s = t.select("GET", "/%FF").unwrap();
        assert_eq!(s.path_parameters["x"], "%FF");
    }
}
