//! A REST method's required request parameters, as API Gateway's request
//! validator checks them: each must be in the request and not blank (it
//! checks neither type nor format). A missing one is answered
//! `400 {"message": "Missing required request parameters: [a, b]"}`.

use crate::local::payload::{query_parameters, Request};
use crate::local::template::{ParameterLocation, RequiredParameter};
use std::collections::BTreeMap;

/// The names of `required` the request lacks or leaves blank, in order.
pub fn missing(
    request: &Request,
    path_parameters: &BTreeMap<String, String>,
    required: &[RequiredParameter],
) -> Vec<String> {
    if required.is_empty() {
        return Vec::new();
    }
    let query = query_parameters(&request.raw_query);
    let present = |p: &RequiredParameter| {
        let value = match p.location {
            ParameterLocation::Query => query.get(&p.name).map(String::as_str),
            ParameterLocation::Path => path_parameters.get(&p.name).map(String::as_str),
            ParameterLocation::Header => request
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&p.name))
                .map(|(_, v)| v.as_str()),
        };
        value.is_some_and(|v| !v.trim().is_empty())
    };
    required
        .iter()
        .filter(|p| !present(p))
        .map(|p| p.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            raw_path: "/instances/i-1/metrics".into(),
            raw_query: query.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
            source_ip: "127.0.0.1".into(),
        }
    }

    fn required(expressions: &[&str]) -> Vec<RequiredParameter> {
        expressions
            .iter()
            .map(|e| RequiredParameter::parse(e).unwrap())
            .collect()
    }

    #[test]
    fn a_parameter_absent_or_blank_is_missing_and_its_format_is_not_checked() {
        let period = required(&["method.request.querystring.period"]);
        let none = BTreeMap::new();
        assert_eq!(missing(&request("", &[]), &none, &period), ["period"]);
        assert_eq!(
            missing(&request("period=", &[]), &none, &period),
            ["period"]
        );
        assert_eq!(
            missing(&request("period=%20", &[]), &none, &period),
            ["period"]
        );
        assert!(missing(&request("period=abc", &[]), &none, &period).is_empty());
        assert!(missing(&request("x=1&period=60", &[]), &none, &period).is_empty());
    }

    #[test]
    fn headers_compare_without_case_and_every_missing_one_is_named() {
        let both = required(&[
            "method.request.header.X-Tenant",
            "method.request.querystring.period",
            "method.request.path.instanceId",
        ]);
        let path = BTreeMap::from([("instanceId".to_string(), "i-1".to_string())]);
        assert_eq!(
            missing(&request("", &[]), &path, &both),
            ["X-Tenant", "period"]
        );
        assert!(missing(&request("period=60", &[("x-tenant", "a")]), &path, &both).is_empty());
    }

    #[test]
    fn only_method_request_expressions_are_read() {
        assert_eq!(
            RequiredParameter::parse("method.request.querystring."),
            None
        );
        assert_eq!(
            RequiredParameter::parse("integration.request.header.X"),
            None
        );
        assert_eq!(RequiredParameter::parse("method.request.body.x"), None);
    }
}
