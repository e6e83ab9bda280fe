//! JSON Web Tokens checked the way API Gateway's two token authorizers check
//! them, without I/O: the caller fetches the issuers' key sets and passes the
//! time.
//!
//! **HTTP API JWT authorizer** ([`check_jwt`]), from the developer guide's
//! "Control access to HTTP APIs with JWT authorizers in API Gateway"
//! (`http-api-jwt-authorizer`):
//!
//! 1. the token is the identity source, alone or after `Bearer `;
//! 2. the token is decoded; its algorithm and signature are checked with the
//!    key of the issuer's `jwks_uri` that its header's `kid` names ("only
//!    RSA-based algorithms": RS256 here, the one Cognito signs with);
//! 3. `iss` must equal the authorizer's issuer; `aud` must be one of its
//!    audiences, or, only when there is no `aud`, `client_id` must be
//!    ("Troubleshooting issues with HTTP API JWT authorizers":
//!    "API Gateway validates `client_id` only if `aud` is not present");
//!    `exp` must be after now, `nbf` and `iat` not after now;
//! 4. on a route with authorization scopes, the token's `scope` or `scp` must
//!    hold at least one of them.
//!
//! A refusal is `401 {"message":"Unauthorized"}` (the troubleshooting page's
//! example answer, whatever the reason: it names the reason only in its
//! `www-authenticate` header, which is not reproduced here). Missing scopes
//! are `403 {"message":"Forbidden"}`: the HTTP API guide does not say so; the
//! REST API guide's "Attach a JWT authorizer to methods and require scopes"
//! gives 403 Forbidden for the same check, and the floci emulator's authors
//! measured 403 `{"message":"Forbidden"}` on an HTTP API.
//!
//! The function then sees `requestContext.authorizer.jwt` with every claim as
//! a string and `scopes` the token's scopes on a scoped route, else `null`
//! (see [`check_jwt`] for how values are written and where that was seen).
//!
//! **REST API Cognito user pool authorizer** ([`check_cognito`]), from
//! "Integrate a REST API with an Amazon Cognito user pool"
//! (`apigateway-enable-cognito-user-pool`): without OAuth scopes on the
//! method "API Gateway treats the supplied token as an identity token";
//! with them, as an access token whose scopes must include one of the
//! method's, "otherwise, the call fails with a `401 Unauthorized`
//! response". "Gateway response types" gives `UNAUTHORIZED` (401) for a
//! Cognito authorizer that "failed to authenticate the caller". The issuer
//! must be one of the authorizer's user pools
//! (`https://cognito-idp.{region}.amazonaws.com/{poolId}`).

use aws_lc_rs::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// An issuer's signing keys (its JWKS document), by key id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jwks {
    keys: BTreeMap<String, RsaKey>,
}

/// An RSA public key: big-endian modulus and exponent without leading zeros.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RsaKey {
    n: Vec<u8>,
    e: Vec<u8>,
}

impl Jwks {
    /// Reads a JWKS document (`{"keys": [...]}`). Keys a JWT authorizer
    /// could not use are left out: not RSA, without a `kid`, for `use`
    /// other than `sig`, or for an `alg` other than RS256. An RSA key whose
    /// `n` or `e` is not base64url is an error.
    pub fn parse(json: &[u8]) -> Result<Jwks, String> {
        let document: Value =
            serde_json::from_slice(json).map_err(|e| format!("the key set is not JSON: {e}"))?;
        let Some(entries) = document.get("keys").and_then(Value::as_array) else {
            return Err("the key set has no `keys` list".into());
        };
        let mut keys = BTreeMap::new();
        for entry in entries {
            let text = |name: &str| entry.get(name).and_then(Value::as_str);
            let usable = text("kty") == Some("RSA")
                && text("use").is_none_or(|u| u == "sig")
                && text("alg").is_none_or(|a| a == "RS256");
            let (true, Some(kid)) = (usable, text("kid")) else {
                continue;
            };
            let component = |name: &str| {
                text(name)
                    .and_then(base64url)
                    .map(|bytes| without_leading_zeros(&bytes).to_vec())
                    .filter(|bytes| !bytes.is_empty())
                    .ok_or_else(|| format!("key `{kid}` has no usable `{name}`"))
            };
            let key = RsaKey {
                n: component("n")?,
                e: component("e")?,
            };
            keys.insert(kid.to_string(), key);
        }
        Ok(Jwks { keys })
    }

    /// Whether the set holds no key at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

/// An HTTP API authorizer of type `JWT` (its `JwtConfiguration`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtAuthorizer {
    pub issuer: String,
    pub audience: Vec<String>,
}

/// A REST API authorizer of type `COGNITO_USER_POOLS`: the issuers of its
/// user pools (`ProviderARNs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CognitoAuthorizer {
    pub issuers: Vec<String>,
}

impl CognitoAuthorizer {
    /// The authorizer of the user pools `arns` name
    /// (`arn:aws:cognito-idp:{region}:{account}:userpool/{poolId}`).
    pub fn from_provider_arns<S: AsRef<str>>(arns: &[S]) -> Result<CognitoAuthorizer, String> {
        let issuers = arns
            .iter()
            .map(|arn| {
                let arn = arn.as_ref();
                let parts: Vec<&str> = arn.split(':').collect();
                match parts.as_slice() {
                    ["arn", _, "cognito-idp", region, _, resource] => resource
                        .strip_prefix("userpool/")
                        .filter(|pool| !pool.is_empty() && !region.is_empty())
                        .map(|pool| cognito_issuer(region, pool)),
                    _ => None,
                }
                .ok_or_else(|| format!("`{arn}` is not the ARN of a Cognito user pool"))
            })
            .collect::<Result<_, _>>()?;
        Ok(CognitoAuthorizer { issuers })
    }
}

/// The `iss` of the tokens a user pool signs.
pub fn cognito_issuer(region: &str, pool_id: &str) -> String {
    format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}")
}

/// Why a token was refused, for the terminal log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The request has no token.
    Missing,
    /// The token is not three base64url parts of JSON objects, or a claim
    /// that must be there is absent or of the wrong type.
    Malformed(&'static str),
    /// The header's `alg` is not RS256.
    Algorithm(String),
    /// The issuer's key set has no key with the header's `kid`.
    UnknownKey(String),
    /// The signature is not the key's.
    Signature,
    /// `iss` is not an issuer the authorizer trusts.
    Issuer(String),
    /// Neither `aud` nor (without `aud`) `client_id` is an audience.
    Audience(String),
    /// `exp` is not after now.
    Expired { exp: u64, now: u64 },
    /// `nbf` or `iat` is after now.
    NotYetValid {
        claim: &'static str,
        at: u64,
        now: u64,
    },
    /// A Cognito token of the wrong kind for the method (`token_use`).
    TokenUse { wanted: &'static str, found: String },
    /// The token holds none of the route's or method's scopes.
    Scope {
        wanted: Vec<String>,
        found: Vec<String>,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Missing => write!(f, "no token in the Authorization header"),
            Reason::Malformed(what) => write!(f, "malformed token: {what}"),
            Reason::Algorithm(alg) => write!(f, "algorithm `{alg}` is not RS256"),
            Reason::UnknownKey(kid) => write!(f, "the issuer has no key `{kid}`"),
            Reason::Signature => write!(f, "the signature does not verify"),
            Reason::Issuer(iss) => write!(f, "issuer `{iss}` is not trusted"),
            Reason::Audience(aud) => write!(f, "audience `{aud}` is not accepted"),
            Reason::Expired { exp, now } => write!(f, "expired at {exp} (now {now})"),
            Reason::NotYetValid { claim, at, now } => {
                write!(f, "`{claim}` {at} is in the future (now {now})")
            }
            Reason::TokenUse { wanted, found } => {
                write!(f, "an {wanted} token is needed, not `{found}`")
            }
            Reason::Scope { wanted, found } => write!(
                f,
                "none of the scopes [{}] in the token's [{}]",
                wanted.join(" "),
                found.join(" ")
            ),
        }
    }
}

/// A refused request: why, and what API Gateway answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    reason: Reason,
    status: u16,
    message: &'static str,
}

impl Refusal {
    pub fn reason(&self) -> &Reason {
        &self.reason
    }

    /// The status API Gateway answers with.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The `message` of API Gateway's `{"message": …}` body.
    pub fn message(&self) -> &'static str {
        self.message
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.reason.fmt(f)
    }
}

/// What an HTTP API answers: 403 Forbidden for missing scopes, else 401.
fn http_refusal(reason: Reason) -> Refusal {
    let (status, message) = match reason {
        Reason::Scope { .. } => (403, "Forbidden"),
        _ => (401, "Unauthorized"),
    };
    Refusal {
        reason,
        status,
        message,
    }
}

/// What a REST API's Cognito authorizer answers: always 401; an expired
/// token's message is "The incoming token has expired". That message is not
/// in AWS's documentation; it is the body clients of such APIs test for
/// (for example `if (statusCode === 401 && message === "The incoming token
/// has expired")` in several public projects).
fn rest_refusal(reason: Reason) -> Refusal {
    let message = match reason {
        Reason::Expired { .. } => "The incoming token has expired",
        _ => "Unauthorized",
    };
    Refusal {
        reason,
        status: 401,
        message,
    }
}

/// Checks the identity source `header` (the `Authorization` header's value)
/// for the HTTP API `authorizer` on a route with `route_scopes`; `keys` is
/// the issuer's key set. On success, `requestContext.authorizer` of the
/// payload 2.0 event:
///
/// ```json
/// {"jwt": {"claims": {"sub": "…", "exp": "1787996002", "cognito:groups": "[admin users]"},
///          "scopes": null}}
/// ```
///
/// Claims are strings as API Gateway sends them: strings as they are,
/// numbers and booleans written out, arrays as `[a b]` (elements joined by
/// spaces in brackets, not JSON; reported by users whose functions read
/// `cognito:groups`, e.g. aws-solutions-library-samples'
/// guidance-for-claude-code-with-amazon-bedrock issue 802), `null` claims
/// left out, and objects as JSON text (not confirmed). `scopes` is the
/// token's scopes when the route has authorization scopes, else `null`
/// (AWS sends `"scopes": null`: aws-lambda-go issue 317, DefinitelyTyped
/// pull request 75458, whose event also shows numbers as strings).
pub fn check_jwt(
    authorizer: &JwtAuthorizer,
    route_scopes: &[String],
    header: Option<&str>,
    keys: &Jwks,
    now_epoch_s: u64,
) -> Result<Value, Refusal> {
    let token = Token::decode(header).map_err(http_refusal)?;
    token.verify(keys).map_err(http_refusal)?;
    let claims = &token.claims;
    let iss = string_claim(claims, "iss").unwrap_or_default();
    if iss != authorizer.issuer {
        return Err(http_refusal(Reason::Issuer(iss.to_string())));
    }
    // `aud` when there is one, else `client_id`.
    let presented: Vec<&str> = match claims.get("aud") {
        Some(aud) => strings(aud),
        None => string_claim(claims, "client_id").into_iter().collect(),
    };
    if !presented
        .iter()
        .any(|aud| authorizer.audience.iter().any(|a| a == aud))
    {
        return Err(http_refusal(Reason::Audience(presented.join(" "))));
    }
    check_times(claims, now_epoch_s, &["nbf", "iat"]).map_err(http_refusal)?;
    let scopes = if route_scopes.is_empty() {
        Value::Null
    } else {
        let found = token_scopes(claims);
        if !found.iter().any(|s| route_scopes.contains(s)) {
            return Err(http_refusal(Reason::Scope {
                wanted: route_scopes.to_vec(),
                found,
            }));
        }
        json!(found)
    };
    let claims: Map<String, Value> = claims
        .iter()
        .filter_map(|(name, value)| Some((name.clone(), Value::String(http_claim(value)?))))
        .collect();
    Ok(json!({ "jwt": { "claims": claims, "scopes": scopes } }))
}

/// Checks the `Authorization` header for the REST API Cognito `authorizer`
/// on a method with OAuth `method_scopes`; `keys` holds the key set of each
/// user pool by issuer (a pool missing from it has its tokens refused). On
/// success, `requestContext.authorizer` of the payload 1.0 event:
/// `{"claims": {…}}`.
///
/// The token may follow `Bearer `: AWS does not document it either way, and
/// users report that `Bearer <ID token>` works (aws-amplify/docs issue 959).
/// `nbf` and `iat` are not checked: the guide does not list the claims this
/// authorizer checks, and Cognito never issues a token valid later.
///
/// Claims are strings as the REST API writes them, which differs from HTTP
/// APIs: `exp` and `iat` as dates (`Fri Jul 29 18:52:53 UTC 2016`, seen in
/// amazon-cognito-identity-js issue 92 and a 2023 re:Post question), other
/// numbers and booleans written out (`"auth_time": "1469814773"`,
/// `"email_verified": "true"`), arrays joined with commas (one group is just
/// its name; commas for several are reported by a third-party article only),
/// `null` claims left out, objects as JSON text (not confirmed).
pub fn check_cognito(
    authorizer: &CognitoAuthorizer,
    method_scopes: &[String],
    header: Option<&str>,
    keys: &BTreeMap<String, Jwks>,
    now_epoch_s: u64,
) -> Result<Value, Refusal> {
    let token = Token::decode(header).map_err(rest_refusal)?;
    let iss = string_claim(&token.claims, "iss").unwrap_or_default();
    if !authorizer.issuers.iter().any(|i| i == iss) {
        return Err(rest_refusal(Reason::Issuer(iss.to_string())));
    }
    let no_keys = Jwks::default();
    token
        .verify(keys.get(iss).unwrap_or(&no_keys))
        .map_err(rest_refusal)?;
    let claims = &token.claims;
    check_times(claims, now_epoch_s, &[]).map_err(rest_refusal)?;
    let wanted = if method_scopes.is_empty() {
        "id"
    } else {
        "access"
    };
    let token_use = string_claim(claims, "token_use").unwrap_or_default();
    if token_use != wanted {
        return Err(rest_refusal(Reason::TokenUse {
            wanted,
            found: token_use.to_string(),
        }));
    }
    if !method_scopes.is_empty() {
        let found = token_scopes(claims);
        if !found.iter().any(|s| method_scopes.contains(s)) {
            return Err(rest_refusal(Reason::Scope {
                wanted: method_scopes.to_vec(),
                found,
            }));
        }
    }
    let claims: Map<String, Value> = claims
        .iter()
        .filter_map(|(name, value)| Some((name.clone(), Value::String(rest_claim(name, value)?))))
        .collect();
    Ok(json!({ "claims": claims }))
}

/// A decoded, not yet verified, token.
struct Token<'a> {
    /// `header.payload` as sent: what the signature signs.
    signed: &'a str,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    signature: Vec<u8>,
}

impl<'a> Token<'a> {
    fn decode(header: Option<&'a str>) -> Result<Token<'a>, Reason> {
        let value = header.map(str::trim).filter(|v| !v.is_empty());
        let token = value.ok_or(Reason::Missing)?;
        let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
        let (signed, signature) = token
            .rsplit_once('.')
            .ok_or(Reason::Malformed("not three dot-separated parts"))?;
        let (head, payload) = signed
            .split_once('.')
            .filter(|(_, payload)| !payload.contains('.'))
            .ok_or(Reason::Malformed("not three dot-separated parts"))?;
        let object = |part: &str, what: &'static str| {
            base64url(part)
                .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
                .ok_or(Reason::Malformed(what))
        };
        Ok(Token {
            signed,
            header: object(head, "the header is not a base64url JSON object")?,
            claims: object(payload, "the payload is not a base64url JSON object")?,
            signature: base64url(signature)
                .ok_or(Reason::Malformed("the signature is not base64url"))?,
        })
    }

    /// Checks the algorithm and the signature with the key `kid` names.
    fn verify(&self, keys: &Jwks) -> Result<(), Reason> {
        match self.header.get("alg") {
            Some(Value::String(alg)) if alg == "RS256" => {}
            Some(Value::String(alg)) => return Err(Reason::Algorithm(alg.clone())),
            _ => return Err(Reason::Algorithm("(none)".into())),
        }
        let kid = self.header.get("kid").and_then(Value::as_str);
        let key = kid
            .and_then(|kid| keys.keys.get(kid))
            .ok_or_else(|| Reason::UnknownKey(kid.unwrap_or("(none)").to_string()))?;
        RsaPublicKeyComponents {
            n: key.n.as_slice(),
            e: key.e.as_slice(),
        }
        .verify(
            &RSA_PKCS1_2048_8192_SHA256,
            self.signed.as_bytes(),
            &self.signature,
        )
        .map_err(|_| Reason::Signature)
    }
}

/// `exp` must be after now; each of `not_after_now` (`nbf`, `iat`), when
/// present, not after now.
fn check_times(
    claims: &Map<String, Value>,
    now: u64,
    not_after_now: &[&'static str],
) -> Result<(), Reason> {
    let time = |name: &str| claims.get(name).map(|v| v.as_f64().ok_or(()));
    let exp = match time("exp") {
        Some(Ok(exp)) => exp,
        _ => return Err(Reason::Malformed("`exp` is missing or not a number")),
    };
    if exp <= now as f64 {
        return Err(Reason::Expired {
            exp: exp as u64,
            now,
        });
    }
    for &claim in not_after_now {
        match time(claim) {
            None => {}
            Some(Err(())) => return Err(Reason::Malformed("`nbf` or `iat` is not a number")),
            Some(Ok(at)) if at > now as f64 => {
                return Err(Reason::NotYetValid {
                    claim,
                    at: at as u64,
                    now,
                })
            }
            Some(Ok(_)) => {}
        }
    }
    Ok(())
}

fn string_claim<'c>(claims: &'c Map<String, Value>, name: &str) -> Option<&'c str> {
    claims.get(name).and_then(Value::as_str)
}

/// The strings of a claim that is a string or a list of strings.
fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The token's scopes: `scope` (space-separated, as Cognito writes it), or
/// when it has none `scp` (space-separated or a list).
fn token_scopes(claims: &Map<String, Value>) -> Vec<String> {
    let claim = claims.get("scope").or_else(|| claims.get("scp"));
    claim
        .map(strings)
        .unwrap_or_default()
        .into_iter()
        .flat_map(str::split_whitespace)
        .map(str::to_string)
        .collect()
}

/// A claim as payload 2.0 carries it; `None` for a `null` claim.
fn http_claim(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(plain).collect();
            Some(format!("[{}]", items.join(" ")))
        }
        _ => Some(plain(value)),
    }
}

/// A claim as a REST API's Cognito authorizer passes it; `None` for `null`.
fn rest_claim(name: &str, value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Number(n) if name == "exp" || name == "iat" => {
            Some(n.as_u64().map_or_else(|| n.to_string(), java_date))
        }
        Value::Array(items) => Some(items.iter().map(plain).collect::<Vec<_>>().join(",")),
        _ => Some(plain(value)),
    }
}

/// A string as it is, anything else as JSON text.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        _ => value.to_string(),
    }
}

/// Seconds since the epoch as Java's `Date.toString()` writes them in UTC:
/// `Fri Jul 29 18:52:53 UTC 2016`.
fn java_date(epoch_s: u64) -> String {
    let t = super::utc::Utc::from_epoch_s(epoch_s);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        t.weekday_name(),
        t.month_name(),
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.year
    )
}

/// Decodes unpadded base64url (RFC 7515's encoding of each part); `None`
/// for any other character, `=` included, or an impossible length.
fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let sextet = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // One leftover character (6 bits) cannot encode a byte.
    (bits < 6).then_some(out)
}

/// Two user pools that sign tokens, for the tests here and the gateway's.
#[cfg(test)]
pub(crate) mod test_pools {
    use super::*;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
    use aws_smithy_types::base64;
    use std::sync::OnceLock;

    /// A user pool that signs tokens.
    pub(crate) struct Pool {
        pub key: KeyPair,
        pub kid: String,
        pub issuer: String,
    }

    /// Two pools, made once: RSA key generation is slow.
    pub(crate) fn pools() -> &'static [Pool; 2] {
        static POOLS: OnceLock<[Pool; 2]> = OnceLock::new();
        POOLS.get_or_init(|| {
            let pool = |id: &str| Pool {
                key: KeyPair::generate(KeySize::Rsa2048).unwrap(),
                kid: format!("kid-{id}"),
                issuer: cognito_issuer("us-east-1", id),
            };
            [pool("us-east-1_AAAA"), pool("us-east-1_BBBB")]
        })
    }

    pub(crate) fn b64(bytes: &[u8]) -> String {
        base64::encode(bytes)
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_")
    }

    /// The INTEGERs of a DER `SEQUENCE` (a PKCS#1 `RSAPublicKey`: n, e).
    pub(crate) fn der_integers(der: &[u8]) -> Vec<Vec<u8>> {
        fn read(der: &[u8], at: &mut usize) -> (u8, Vec<u8>) {
            let tag = der[*at];
            let mut len = der[*at + 1] as usize;
            *at += 2;
            if len & 0x80 != 0 {
                let count = len & 0x7f;
                len = der[*at..*at + count]
                    .iter()
                    .fold(0, |acc, &b| acc << 8 | b as usize);
                *at += count;
            }
            let value = der[*at..*at + len].to_vec();
            *at += len;
            (tag, value)
        }
        let (tag, body) = read(der, &mut 0);
        assert_eq!(tag, 0x30);
        let mut at = 0;
        let mut integers = Vec::new();
        while at < body.len() {
            let (tag, value) = read(&body, &mut at);
            assert_eq!(tag, 0x02);
            integers.push(value);
        }
        integers
    }

    /// The JWKS document of `pool`, `n` with the DER's leading zero.
    pub(crate) fn jwks_json(pool: &Pool) -> String {
        let integers = der_integers(pool.key.public_key().as_ref());
        json!({"keys": [
            {"kty": "EC", "kid": "not-rsa", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": pool.kid, "alg": "RS256", "use": "sig",
             "n": b64(&integers[0]), "e": b64(&integers[1])}
        ]})
        .to_string()
    }

    pub(crate) fn jwks(pool: &Pool) -> Jwks {
        Jwks::parse(jwks_json(pool).as_bytes()).unwrap()
    }

    /// A token of `header` and `claims`, signed by `pool`'s key.
    pub(crate) fn sign(pool: &Pool, header: Value, claims: Value) -> String {
        let signed = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut signature = vec![0; pool.key.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        pool.key
            .sign(&RSA_PKCS1_SHA256, &rng, signed.as_bytes(), &mut signature)
            .unwrap();
        format!("{signed}.{}", b64(&signature))
    }
}

#[cfg(test)]
mod tests {
    use super::test_pools::*;
    use super::*;
    use aws_lambda_events::apigw::ApiGatewayRequestAuthorizer;

    const NOW: u64 = 1_764_700_000;
    const CLIENT: &str = "5kek0i61pgkokoob4fsm9fo9it";

    fn header(pool: &Pool) -> Value {
        json!({"kid": pool.kid, "alg": "RS256"})
    }

    /// A Cognito ID token of `pool`.
    fn id_claims(pool: &Pool) -> Value {
        json!({
            "sub": "6418b458-d091-705e-122e-04bf2945fcdf",
            "cognito:groups": ["admin", "users"],
            "email_verified": true,
            "iss": pool.issuer,
            "cognito:username": "janedoe",
            "aud": CLIENT,
            "token_use": "id",
            "auth_time": NOW - 60,
            "exp": NOW + 3600,
            "iat": NOW - 60,
            "email": "jane@example.com",
        })
    }

    /// A Cognito access token of `pool` (no `aud`, a `client_id`).
    fn access_claims(pool: &Pool, scope: &str) -> Value {
        json!({
            "sub": "6418b458-d091-705e-122e-04bf2945fcdf",
            "iss": pool.issuer,
            "client_id": CLIENT,
            "token_use": "access",
            "scope": scope,
            "auth_time": NOW - 60,
            "exp": NOW + 3600,
            "iat": NOW - 60,
            "username": "janedoe",
        })
    }

    fn with(mut claims: Value, name: &str, value: Value) -> Value {
        claims[name] = value;
        claims
    }

    fn http_authorizer() -> JwtAuthorizer {
        JwtAuthorizer {
            issuer: pools()[0].issuer.clone(),
            audience: vec!["someone-else".into(), CLIENT.into()],
        }
    }

    fn http(scopes: &[&str], token: &str) -> Result<Value, Refusal> {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        check_jwt(
            &http_authorizer(),
            &scopes,
            Some(token),
            &jwks(&pools()[0]),
            NOW,
        )
    }

    fn rest(scopes: &[&str], token: &str) -> Result<Value, Refusal> {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let [a, b] = pools();
        let authorizer = CognitoAuthorizer {
            issuers: vec![a.issuer.clone()],
        };
        let keys = BTreeMap::from([(a.issuer.clone(), jwks(a)), (b.issuer.clone(), jwks(b))]);
        check_cognito(&authorizer, &scopes, Some(token), &keys, NOW)
    }

    /// Asserts a 401 `Unauthorized` refusal and gives its reason.
    fn unauthorized(result: Result<Value, Refusal>) -> Reason {
        let refusal = result.expect_err("the token was let in");
        assert_eq!(
            (refusal.status(), refusal.message()),
            (401, "Unauthorized"),
            "{refusal}"
        );
        refusal.reason().clone()
    }

    #[test]
    fn an_id_token_with_a_listed_audience_is_let_in_with_its_claims_as_strings() {
        let pool = &pools()[0];
        let context = http(&[], &sign(pool, header(pool), id_claims(pool))).unwrap();
        let claims = &context["jwt"]["claims"];
        assert_eq!(claims["sub"], "6418b458-d091-705e-122e-04bf2945fcdf");
        assert_eq!(claims["cognito:groups"], "[admin users]");
        assert_eq!(claims["email_verified"], "true");
        assert_eq!(claims["exp"], (NOW + 3600).to_string());
        assert_eq!(claims["token_use"], "id");
        assert_eq!(context["jwt"]["scopes"], Value::Null);
        // The Lambda event types read it: every claim a string.
        let typed: ApiGatewayRequestAuthorizer = serde_json::from_value(context).unwrap();
        let jwt = typed.jwt.unwrap();
        assert_eq!(jwt.claims["auth_time"], (NOW - 60).to_string());
        assert_eq!(jwt.scopes, None);
    }

    #[test]
    fn an_access_token_is_matched_by_client_id_and_bearer_is_optional() {
        let pool = &pools()[0];
        let token = sign(pool, header(pool), access_claims(pool, "openid"));
        for value in [token.clone(), format!("Bearer {token}")] {
            let context = http(&[], &value).unwrap();
            assert_eq!(context["jwt"]["claims"]["client_id"], CLIENT);
        }
        let wrong_client = with(access_claims(pool, "openid"), "client_id", json!("other"));
        assert!(matches!(
            unauthorized(http(&[], &sign(pool, header(pool), wrong_client))),
            Reason::Audience(aud) if aud == "other"
        ));
    }

    #[test]
    fn aud_is_checked_instead_of_client_id_when_both_are_there() {
        let pool = &pools()[0];
        let claims = with(id_claims(pool), "aud", json!("not-listed"));
        let claims = with(claims, "client_id", json!(CLIENT));
        assert!(matches!(
            unauthorized(http(&[], &sign(pool, header(pool), claims))),
            Reason::Audience(_)
        ));
        // A list for `aud` passes when one of its entries is an audience.
        let claims = with(id_claims(pool), "aud", json!(["x", CLIENT]));
        assert!(http(&[], &sign(pool, header(pool), claims)).is_ok());
    }

    #[test]
    fn a_token_of_another_pool_is_refused() {
        let [a, b] = pools();
        // Its own key and issuer: the issuer is not the authorizer's.
        let other = sign(b, header(b), id_claims(b));
        assert!(matches!(
            unauthorized(http(&[], &other)),
            Reason::UnknownKey(_)
        ));
        let mut keys = jwks(a);
        keys.keys.extend(jwks(b).keys);
        let result = check_jwt(&http_authorizer(), &[], Some(&other), &keys, NOW);
        assert!(matches!(unauthorized(result), Reason::Issuer(iss) if iss == b.issuer));
        // Claiming this pool's issuer and key id, signed with the other key.
        let forged = sign(b, header(a), id_claims(a));
        assert_eq!(unauthorized(http(&[], &forged)), Reason::Signature);
    }

    #[test]
    fn expiry_is_exclusive_and_nbf_or_iat_in_the_future_are_refused() {
        let pool = &pools()[0];
        let token = |name: &str, value: u64| {
            sign(
                pool,
                header(pool),
                with(id_claims(pool), name, json!(value)),
            )
        };
        assert!(matches!(
            unauthorized(http(&[], &token("exp", NOW))),
            Reason::Expired { exp: NOW, now: NOW }
        ));
        assert!(http(&[], &token("exp", NOW + 1)).is_ok());
        assert!(matches!(
            unauthorized(http(&[], &token("nbf", NOW + 30))),
            Reason::NotYetValid { claim: "nbf", .. }
        ));
        assert!(http(&[], &token("nbf", NOW)).is_ok());
        assert!(matches!(
            unauthorized(http(&[], &token("iat", NOW + 30))),
            Reason::NotYetValid { claim: "iat", .. }
        ));
        let no_exp = id_claims(pool).as_object().cloned().map(|mut c| {
            c.remove("exp");
            Value::Object(c)
        });
        let no_exp = sign(pool, header(pool), no_exp.unwrap());
        assert!(matches!(
            unauthorized(http(&[], &no_exp)),
            Reason::Malformed(_)
        ));
    }

    #[test]
    fn an_unknown_key_id_and_a_missing_one_are_refused() {
        let pool = &pools()[0];
        let unknown = sign(
            pool,
            json!({"kid": "rotated", "alg": "RS256"}),
            id_claims(pool),
        );
        assert_eq!(
            unauthorized(http(&[], &unknown)),
            Reason::UnknownKey("rotated".into())
        );
        let none = sign(pool, json!({"alg": "RS256"}), id_claims(pool));
        assert_eq!(
            unauthorized(http(&[], &none)),
            Reason::UnknownKey("(none)".into())
        );
    }

    #[test]
    fn only_rs256_is_accepted() {
        let pool = &pools()[0];
        let claims = b64(id_claims(pool).to_string().as_bytes());
        let unsigned = format!("{}.{claims}.", b64(br#"{"alg":"none"}"#));
        assert_eq!(
            unauthorized(http(&[], &unsigned)),
            Reason::Algorithm("none".into())
        );
        // HS256, the algorithm of the key-confusion attack, whatever it signs.
        let hs = sign(
            pool,
            json!({"kid": pool.kid, "alg": "HS256"}),
            id_claims(pool),
        );
        assert_eq!(
            unauthorized(http(&[], &hs)),
            Reason::Algorithm("HS256".into())
        );
        let no_alg = sign(pool, json!({"kid": pool.kid}), id_claims(pool));
        assert_eq!(
            unauthorized(http(&[], &no_alg)),
            Reason::Algorithm("(none)".into())
        );
    }

    #[test]
    fn a_tampered_payload_fails_the_signature() {
        let pool = &pools()[0];
        let token = sign(pool, header(pool), id_claims(pool));
        let parts: Vec<&str> = token.split('.').collect();
        let admin = with(id_claims(pool), "cognito:groups", json!(["root"]));
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            b64(admin.to_string().as_bytes()),
            parts[2]
        );
        assert_eq!(unauthorized(http(&[], &tampered)), Reason::Signature);
        // A signature of the right length but other bytes fails too.
        let mut signature = base64url(parts[2]).unwrap();
        signature[0] ^= 1;
        let flipped = format!("{}.{}.{}", parts[0], parts[1], b64(&signature));
        assert_eq!(unauthorized(http(&[], &flipped)), Reason::Signature);
    }

    #[test]
    fn malformed_tokens_are_refused_without_panicking() {
        let pool = &pools()[0];
        let head = b64(header(pool).to_string().as_bytes());
        let body = b64(id_claims(pool).to_string().as_bytes());
        for token in [
            "Bearer".to_string(),
            "x".into(),
            "a.b".into(),
            "a.b.c.d".into(),
            "..".into(),
            format!("{head}.{body}.!!!"),
            format!("{head}.{body}.A"),
            format!("{head}=.{body}.AAAA"),
            format!("{head}.e30x.AAAA"),
            format!("{}.{body}.AAAA", b64(b"[1,2]")),
            format!("{head}.{}.AAAA", b64(b"not json")),
            format!("{head}.{}.AAAA", b64(&[0xff, 0xfe, 0x00])),
            "é.é.é".into(),
            format!("{head}.{body}.{}", "A".repeat(10_000)),
        ] {
            let reason = unauthorized(http(&[], &token));
            assert!(
                matches!(reason, Reason::Malformed(_) | Reason::Signature),
                "{token}: {reason}"
            );
        }
        assert_eq!(
            unauthorized(check_jwt(&http_authorizer(), &[], None, &jwks(pool), NOW)),
            Reason::Missing
        );
        assert_eq!(unauthorized(http(&[], "  ")), Reason::Missing);
    }

    #[test]
    fn route_scopes_need_one_of_them_in_the_token_else_403() {
        let pool = &pools()[0];
        let token = sign(
            pool,
            header(pool),
            access_claims(pool, "guitars/read guitars/write"),
        );
        let context = http(&["guitars/admin", "guitars/write"], &token).unwrap();
        assert_eq!(
            context["jwt"]["scopes"],
            json!(["guitars/read", "guitars/write"]),
            "all of the token's scopes"
        );
        let refusal = http(&["guitars/admin"], &token).unwrap_err();
        assert_eq!((refusal.status(), refusal.message()), (403, "Forbidden"));
        assert!(matches!(refusal.reason(), Reason::Scope { found, .. } if found.len() == 2));
        // `scp` as a list counts; an ID token without scopes is forbidden.
        let scp = with(id_claims(pool), "scp", json!(["guitars/admin"]));
        assert!(http(&["guitars/admin"], &sign(pool, header(pool), scp)).is_ok());
        let refusal = http(
            &["guitars/admin"],
            &sign(pool, header(pool), id_claims(pool)),
        );
        assert_eq!(refusal.unwrap_err().status(), 403);
    }

    #[test]
    fn claims_are_written_as_an_http_api_writes_them() {
        let claims = json!({
            "s": "text", "n": 42, "f": 1.5, "b": false, "none": null,
            "list": ["a", 1, true], "empty": [], "object": {"k": "v"}
        });
        let written: BTreeMap<String, Option<String>> = claims
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), http_claim(v)))
            .collect();
        let expected = [
            ("s", Some("text")),
            ("n", Some("42")),
            ("f", Some("1.5")),
            ("b", Some("false")),
            ("none", None),
            ("list", Some("[a 1 true]")),
            ("empty", Some("[]")),
            ("object", Some(r#"{"k":"v"}"#)),
        ];
        for (name, value) in expected {
            assert_eq!(written[name].as_deref(), value, "{name}");
        }
    }

    #[test]
    fn a_rest_api_lets_an_id_token_in_without_scopes_with_its_claims_as_strings() {
        let pool = &pools()[0];
        let token = sign(pool, header(pool), id_claims(pool));
        for value in [token.clone(), format!("Bearer {token}")] {
            let context = rest(&[], &value).unwrap();
            let claims = &context["claims"];
            assert_eq!(claims["cognito:groups"], "admin,users");
            assert_eq!(claims["email_verified"], "true");
            assert_eq!(claims["auth_time"], (NOW - 60).to_string());
            assert_eq!(claims["exp"], java_date(NOW + 3600));
            assert_eq!(claims["iat"], "Tue Dec 02 18:25:40 UTC 2025");
            assert_eq!(claims["iss"], pool.issuer);
        }
    }

    #[test]
    fn a_rest_api_wants_an_access_token_exactly_when_the_method_has_scopes() {
        let pool = &pools()[0];
        let access = sign(pool, header(pool), access_claims(pool, "guitars/read"));
        let id = sign(pool, header(pool), id_claims(pool));
        assert!(matches!(
            unauthorized(rest(&[], &access)),
            Reason::TokenUse { wanted: "id", .. }
        ));
        assert!(matches!(
            unauthorized(rest(&["guitars/read"], &id)),
            Reason::TokenUse {
                wanted: "access",
                ..
            }
        ));
        let context = rest(&["guitars/write", "guitars/read"], &access).unwrap();
        assert_eq!(context["claims"]["scope"], "guitars/read");
        // Missing scopes are a 401 here, not a 403.
        assert!(matches!(
            unauthorized(rest(&["guitars/write"], &access)),
            Reason::Scope { .. }
        ));
    }

    #[test]
    fn a_rest_api_says_an_expired_token_has_expired() {
        let pool = &pools()[0];
        let claims = with(id_claims(pool), "exp", json!(NOW - 1));
        let refusal = rest(&[], &sign(pool, header(pool), claims)).unwrap_err();
        assert_eq!(
            (refusal.status(), refusal.message()),
            (401, "The incoming token has expired")
        );
        assert!(matches!(refusal.reason(), Reason::Expired { .. }));
    }

    #[test]
    fn a_rest_api_refuses_pools_it_does_not_name_and_pools_without_keys() {
        let [a, b] = pools();
        let other = sign(b, header(b), id_claims(b));
        assert!(matches!(unauthorized(rest(&[], &other)), Reason::Issuer(_)));
        let authorizer = CognitoAuthorizer {
            issuers: vec![a.issuer.clone()],
        };
        let token = sign(a, header(a), id_claims(a));
        let result = check_cognito(&authorizer, &[], Some(&token), &BTreeMap::new(), NOW);
        assert!(matches!(unauthorized(result), Reason::UnknownKey(_)));
        // Another pool's key under this pool's key id and issuer.
        let forged = sign(b, header(a), id_claims(a));
        assert_eq!(unauthorized(rest(&[], &forged)), Reason::Signature);
        assert_eq!(
            unauthorized(check_cognito(&authorizer, &[], None, &BTreeMap::new(), NOW)),
            Reason::Missing
        );
    }

    #[test]
    fn a_key_set_keeps_its_usable_rsa_keys_and_refuses_broken_ones() {
        let pool = &pools()[0];
        let keys = jwks(pool);
        assert_eq!(keys.keys.len(), 1, "the EC key is left out");
        let n = &keys.keys[&pool.kid].n;
        assert_ne!(n[0], 0, "the leading zero is stripped");
        assert_eq!(n.len(), 256);
        let skipped = br#"{"keys":[
            {"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","kid":"ps","alg":"PS256","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#;
        assert!(Jwks::parse(skipped).unwrap().is_empty());
        for broken in [
            &b"not json"[..],
            br#"{"no":"keys"}"#,
            br#"{"keys":[{"kty":"RSA","kid":"k","n":"%%","e":"AQAB"}]}"#,
            br#"{"keys":[{"kty":"RSA","kid":"k","n":"AQAB"}]}"#,
            br#"{"keys":[{"kty":"RSA","kid":"k","n":"AAAA","e":"AQAB"}]}"#,
        ] {
            assert!(
                Jwks::parse(broken).is_err(),
                "{}",
                String::from_utf8_lossy(broken)
            );
        }
    }

    #[test]
    fn provider_arns_name_their_pools_issuers() {
        let authorizer = CognitoAuthorizer::from_provider_arns(&[
            "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc",
        ])
        .unwrap();
        assert_eq!(
            authorizer.issuers,
            ["https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"]
        );
        for arn in [
            "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/",
            "arn:aws:s3:::bucket",
            "eu-west-1_abc",
        ] {
            assert!(
                CognitoAuthorizer::from_provider_arns(&[arn]).is_err(),
                "{arn}"
            );
        }
    }

    #[test]
    fn dates_are_written_as_java_writes_them() {
        // Both seen in REST API events: 1469818373 and 1680633579.
        assert_eq!(java_date(1_469_818_373), "Fri Jul 29 18:52:53 UTC 2016");
        assert_eq!(java_date(1_680_633_579), "Tue Apr 04 18:39:39 UTC 2023");
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(951_782_400), "Tue Feb 29 00:00:00 UTC 2000");
    }

    #[test]
    fn base64url_decodes_only_unpadded_base64url() {
        assert_eq!(base64url("").unwrap(), b"");
        assert_eq!(base64url("aGk").unwrap(), b"hi");
        assert_eq!(base64url("-_8").unwrap(), [0xfb, 0xff]);
        for bad in ["aGk=", "a+b/", "A", "AAAAA", "a b"] {
            assert_eq!(base64url(bad), None, "{bad}");
        }
    }
}
