//! The tags of an EC2 resource, for a condition on `aws:ResourceTag/K`
//! (or `ec2:ResourceTag/K`): a request does not carry them, so the proxy
//! asks EC2 itself with `DescribeTags`. That is the proxy's own call, not
//! the function's: it is signed with the developer's credentials (a
//! function's role is not granted `ec2:DescribeTags`, nor should it need
//! to be), sent straight upstream, and never classified, counted or
//! reported as the function's.

mod describe_tags;
mod xml;

use super::upstream::{self, ForwardError, Target, Upstream};
use crate::local::http_client::HttpClient;
use aws_credential_types::Credentials;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How long looked-up tags are used. Short: tags can change during a
/// session (someone tags an instance to let the console act on it), but
/// long enough that a burst of calls on one resource asks once.
pub const CACHE_TIME: Duration = Duration::from_secs(5);
/// How long one page may take to come.
const TIMEOUT: Duration = Duration::from_secs(10);
/// A resource has at most 50 user tags: this many pages means the
/// service keeps answering with a next page.
const MAX_PAGES: usize = 20;
/// The most of one answer read.
const ANSWER_LIMIT: usize = 1024 * 1024;

/// A resource's tags: key and value, as the service spells them.
pub type Tags = Vec<(String, String)>;

/// An EC2 resource ARN: `arn:PARTITION:ec2:REGION:ACCOUNT:TYPE/ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ec2Resource {
    pub arn: String,
    pub region: String,
    /// `instance`, `volume`.
    pub kind: String,
    /// `i-0abc`, `vol-0abc`.
    pub id: String,
}

impl Ec2Resource {
    /// `None` for any other ARN, and for one naming no single resource.
    pub fn parse(arn: &str) -> Option<Ec2Resource> {
        let mut fields = arn.splitn(6, ':');
        let (_arn, _partition, service, region, _account, resource) = (
            fields.next().filter(|f| *f == "arn")?,
            fields.next().filter(|f| !f.is_empty())?,
            fields.next()?,
            fields.next().filter(|f| !f.is_empty())?,
            fields.next().filter(|f| !f.is_empty())?,
            fields.next()?,
        );
        let (kind, id) = resource.split_once('/')?;
        let single = !kind.is_empty() && !id.is_empty() && !id.contains(['*', '?', '/']);
        (service == "ec2" && single).then(|| Ec2Resource {
            arn: arn.to_string(),
            region: region.to_string(),
            kind: kind.to_string(),
            id: id.to_string(),
        })
    }

    /// `instance/i-0abc`, as a reason names it.
    pub fn name(&self) -> String {
        format!("{}/{}", self.kind, self.id)
    }
}

/// Why a resource's tags are not known.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("`stackctl local` has no credentials of yours to ask EC2 with")]
    NoCredentials,
    #[error(transparent)]
    Request(#[from] ForwardError),
    #[error("EC2 did not answer: {0}")]
    Unreachable(String),
    #[error("EC2 did not answer within {} s", TIMEOUT.as_secs())]
    Timeout,
    /// EC2's error: `UnauthorizedOperation: …`, `ExpiredToken: …`.
    #[error("{0}")]
    Refused(String),
    #[error("EC2 answered HTTP {0}")]
    Status(u16),
    #[error("EC2's answer could not be read: {0}")]
    Unreadable(String),
    #[error("EC2 still had a next page after {MAX_PAGES} pages")]
    EndlessPages,
}

type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

struct Cached {
    at: Instant,
    tags: Arc<Tags>,
}

/// Looks up resources' tags upstream, and keeps them for a short time.
pub struct TagLookup {
    upstream: Upstream,
    client: HttpClient,
    credentials: Option<Credentials>,
    pub(super) cache_time: Duration,
    cache: Mutex<HashMap<String, Slot>>,
}

impl TagLookup {
    /// `credentials`: the developer's; `None` makes every lookup fail, saying so.
    pub fn new(upstream: Upstream, client: HttpClient, credentials: Option<Credentials>) -> Self {
        TagLookup {
            upstream,
            client,
            credentials,
            cache_time: CACHE_TIME,
            cache: Mutex::default(),
        }
    }

    /// The resource's tags, from the cache when they are recent.
    pub async fn tags(&self, resource: &Ec2Resource) -> Result<Arc<Tags>, LookupError> {
        let slot = self.slot(&resource.arn);
        // One lookup per resource at a time: calls arriving together wait
        // for the first one's answer instead of each asking.
        let mut cached = slot.lock().await;
        if let Some(hit) = cached.as_ref().filter(|c| c.at.elapsed() < self.cache_time) {
            return Ok(hit.tags.clone());
        }
        // A failure is not kept: the next call asks again (the developer
        // may have fixed their credentials meanwhile).
        let tags = Arc::new(self.ask(resource).await?);
        *cached = Some(Cached {
            at: Instant::now(),
            tags: tags.clone(),
        });
        Ok(tags)
    }

    fn slot(&self, arn: &str) -> Slot {
        super::lock(&self.cache)
            .entry(arn.to_string())
            .or_default()
            .clone()
    }

    /// Every page of the resource's tags.
    async fn ask(&self, resource: &Ec2Resource) -> Result<Tags, LookupError> {
        let credentials = self
            .credentials
            .as_ref()
            .ok_or(LookupError::NoCredentials)?;
        let mut tags = Tags::new();
        let mut token = None;
        for _ in 0..MAX_PAGES {
            let page = self.page(resource, credentials, token.as_deref()).await?;
            tags.extend(page.tags);
            match page.next_token {
                Some(next) => token = Some(next),
                None => return Ok(tags),
            }
        }
        Err(LookupError::EndlessPages)
    }

    async fn page(
        &self,
        resource: &Ec2Resource,
        credentials: &Credentials,
        token: Option<&str>,
    ) -> Result<describe_tags::Page, LookupError> {
        let request = self.request(resource, credentials, token)?;
        let (status, body) = tokio::time::timeout(TIMEOUT, self.send(request))
            .await
            .map_err(|_| LookupError::Timeout)??;
        let text = String::from_utf8_lossy(&body);
        if !status.is_success() {
            return Err(describe_tags::error(&text)
                .map_or(LookupError::Status(status.as_u16()), LookupError::Refused));
        }
        describe_tags::page(&text, &resource.id).map_err(LookupError::Unreadable)
    }

    /// The DescribeTags request, signed for `ec2` in the resource's region
    /// (an emulator picks the service by the signature's scope too).
    fn request(
        &self,
        resource: &Ec2Resource,
        credentials: &Credentials,
        token: Option<&str>,
    ) -> Result<http::Request<Full<Bytes>>, ForwardError> {
        let (parts, ()) = http::Request::post("/")
            .header(http::header::CONTENT_TYPE, describe_tags::CONTENT_TYPE)
            .body(())?
            .into_parts();
        let endpoint = match &self.upstream {
            Upstream::Emulator(base) => base.trim_end_matches('/'),
            Upstream::Aws { endpoint } => endpoint,
        };
        let target = Target {
            endpoint,
            service: "ec2",
            region: &resource.region,
            credentials: credentials.clone(),
            time: SystemTime::now(),
        };
        let form = describe_tags::form(&resource.id, token);
        upstream::to_aws(&target, &parts, Bytes::from(form))
    }

    async fn send(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<(http::StatusCode, Bytes), LookupError> {
        let unreachable = |e: &dyn std::fmt::Display| LookupError::Unreachable(e.to_string());
        let response = self
            .client
            .send(request)
            .await
            .map_err(|e| unreachable(&e))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), ANSWER_LIMIT)
            .collect()
            .await
            .map_err(|e| unreachable(&e))?;
        Ok((status, body.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ec2_resource_arn_names_its_region_kind_and_id() {
        let r = Ec2Resource::parse("arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc").unwrap();
        assert_eq!(
            (r.region.as_str(), r.kind.as_str(), r.id.as_str()),
            ("eu-west-1", "instance", "i-0abc")
        );
        assert_eq!(r.name(), "instance/i-0abc");
        let v = Ec2Resource::parse("arn:aws-cn:ec2:cn-north-1:1:volume/vol-1").unwrap();
        assert_eq!(v.name(), "volume/vol-1");
    }

    #[test]
    fn other_arns_and_patterns_are_no_ec2_resource() {
        for arn in [
            "*",
            "arn:aws:s3:::bucket/key",
            "arn:aws:dynamodb:eu-west-1:1:table/t",
            "arn:aws:ec2:eu-west-1:1:instance/*",
            "arn:aws:ec2:eu-west-1:1:instance/",
            "arn:aws:ec2:eu-west-1:1:instance",
            "arn:aws:ec2::1:instance/i-1",
            "arn:aws:ec2:eu-west-1::instance/i-1",
        ] {
            assert_eq!(Ec2Resource::parse(arn), None, "{arn}");
        }
    }
}
