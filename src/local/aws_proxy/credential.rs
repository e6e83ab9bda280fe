//! Who signed a request: the access key id and credential scope of its
//! SigV4 signature, from the `Authorization` header or, for a presigned
//! URL, the `X-Amz-Credential` query parameter.

use crate::local::iam::classify::pairs;
use http::HeaderMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key_id: String,
    /// `None` for SigV4a, whose scope has no region.
    pub region: Option<String>,
    /// The signing name (`dynamodb`, `s3`, `execute-api`).
    pub service: String,
    /// Signed in the query string (a presigned URL).
    pub presigned: bool,
}

/// The request's credential, if it is signed.
pub fn credential(headers: &HeaderMap, query: &str) -> Option<Credential> {
    let header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Some(scope) = header
        .and_then(|h| h.split_once("Credential="))
        .map(|(_, rest)| rest)
    {
        let scope = scope.split([',', ' ']).next().unwrap_or_default();
        return parse_scope(scope, false);
    }
    let params = pairs(query);
    let scope = params
        .iter()
        .find(|(k, _)| k == "X-Amz-Credential")
        .map(|(_, v)| v.as_str())?;
    parse_scope(scope, true)
}

/// `AKID/20150830/us-east-1/service/aws4_request` (SigV4) or
/// `AKID/20150830/service/aws4_request` (SigV4a).
fn parse_scope(scope: &str, presigned: bool) -> Option<Credential> {
    let parts: Vec<&str> = scope.split('/').collect();
    let (access_key_id, region, service) = match parts.as_slice() {
        [key, _, region, service, "aws4_request"] => (key, Some(region.to_string()), service),
        [key, _, service, "aws4_request"] => (key, None, service),
        _ => return None,
    };
    Some(Credential {
        access_key_id: access_key_id.to_string(),
        region,
        service: service.to_string(),
        presigned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_header_names_key_region_and_service() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=ASIAFN/20250101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            credential(&headers, ""),
            Some(Credential {
                access_key_id: "ASIAFN".into(),
                region: Some("eu-west-1".into()),
                service: "dynamodb".into(),
                presigned: false
            })
        );
    }

    #[test]
    fn a_presigned_url_names_them_in_its_query() {
        let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAFN%2F20250101%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Signature=ab";
        let c = credential(&HeaderMap::new(), query).expect("signed");
        assert_eq!(
            (c.access_key_id.as_str(), c.service.as_str(), c.presigned),
            ("ASIAFN", "s3", true)
        );
    }

    #[test]
    fn sigv4a_has_no_region_and_an_unsigned_request_no_credential() {
        let query = "X-Amz-Credential=K%2F20250101%2Fs3%2Faws4_request";
        assert_eq!(
            credential(&HeaderMap::new(), query).expect("signed").region,
            None
        );
        assert_eq!(credential(&HeaderMap::new(), "a=b"), None);
    }
}
