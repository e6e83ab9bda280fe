//! A call allowed only on tagged resources, end to end: an EC2 client of
//! the fleet console's reboot function in, a fake upstream behind the
//! proxy that answers both the proxy's DescribeTags lookups and the
//! function's calls, and records them.

use super::resource_tags::{Ec2Resource, TagLookup};
use super::tests::{fake_upstream, Seen};
use super::*;
use crate::local::iam::fixtures::{self, ACCOUNT, REGION};
use crate::local::iam::role_policy;
use std::time::Duration;

impl Seen {
    fn is_lookup(&self) -> bool {
        self.body.starts_with(b"Action=DescribeTags&")
    }

    fn authorization(&self) -> &str {
        self.headers["authorization"].to_str().unwrap()
    }
}

const REBOOTED: &str = "<RebootInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r-1</requestId><return>true</return></RebootInstancesResponse>";
const NOT_AUTHORIZED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>r-2</RequestID></Response>";

fn tag_answer(items: &[(&str, &str, &str)], next_token: Option<&str>) -> String {
    let items: String = items
        .iter()
        .map(|(id, key, value)| format!("<item><resourceId>{id}</resourceId><resourceType>instance</resourceType><key>{key}</key><value>{value}</value></item>"))
        .collect();
    let next = next_token
        .map(|t| format!("<nextToken>{t}</nextToken>"))
        .unwrap_or_default();
    format!("<DescribeTagsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r-3</requestId><tagSet>{items}</tagSet>{next}</DescribeTagsResponse>")
}

/// EC2 as the fake upstream plays it: `i-tagged` is managed by the
/// console, `i-untagged` is not, `i-paged` tells it on a second page, and
/// for `i-refused` the developer may not describe tags.
fn answer(seen: &Seen) -> (u16, String) {
    if !seen.is_lookup() {
        return (200, REBOOTED.into());
    }
    let body = seen.text();
    let id = body
        .split('&')
        .find_map(|p| p.strip_prefix("Filter.1.Value.1="))
        .unwrap_or_default();
    let managed = ("fleet-console", "managed");
    match (id, body.contains("NextToken=")) {
        ("i-refused", _) => (403, NOT_AUTHORIZED.into()),
        ("i-paged", false) => (200, tag_answer(&[(id, "Name", "web")], Some("page-2"))),
        ("i-untagged", _) => (
            200,
            tag_answer(
                &[(id, "Name", "web"), ("i-tagged", managed.0, managed.1)],
                None,
            ),
        ),
        _ => (200, tag_answer(&[(id, managed.0, managed.1)], None)),
    }
}

/// EC2 behind the proxy, answering as [`answer`] plays it.
async fn fake_ec2() -> (String, Arc<Mutex<Vec<Seen>>>) {
    fake_upstream(answer).await
}

fn developer() -> Credentials {
    Credentials::new("AKIADEV", "dev-secret", None, None, "test")
}

struct Setup {
    proxy: AwsProxy,
    seen: Arc<Mutex<Vec<Seen>>>,
    role: String,
}

impl Setup {
    fn lookups(&self) -> Vec<Seen> {
        lock(&self.seen)
            .iter()
            .filter(|s| s.is_lookup())
            .cloned()
            .collect()
    }

    fn reboots(&self) -> Vec<Seen> {
        lock(&self.seen)
            .iter()
            .filter(|s| !s.is_lookup())
            .cloned()
            .collect()
    }

    fn ec2(&self) -> aws_sdk_ec2::Client {
        let config = aws_sdk_ec2::Config::builder()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .endpoint_url(self.proxy.endpoint())
            .region(aws_sdk_ec2::config::Region::new(REGION))
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                "ASIAREBOOT",
                "reboot-secret",
                Some("reboot-token".into()),
                None,
                "test",
            ))
            .retry_config(aws_sdk_ec2::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_ec2::Client::from_conf(config)
    }

    /// RebootInstances of `id` by the reboot function: `Err` is the code
    /// and message of the error it got.
    async fn reboot(&self, id: &str) -> Result<(), (String, String)> {
        use aws_smithy_types::error::metadata::ProvideErrorMetadata;
        match self.ec2().reboot_instances().instance_ids(id).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = e.into_service_error();
                let text = |t: Option<&str>| t.unwrap_or_default().to_string();
                Err((text(e.code()), text(e.message())))
            }
        }
    }
}

async fn setup_with(
    upstream: impl FnOnce(String) -> Upstream,
    lookup: Option<Credentials>,
) -> Setup {
    let fixture = fixtures::stack("fleet-console");
    let (base, seen) = fake_ec2().await;
    let caller = Caller {
        function: "instances-reboot".into(),
        access_key_id: "ASIAREBOOT".into(),
        secret_access_key: "reboot-secret".into(),
        session_token: Some("reboot-token".into()),
        session_name: "stackctl-local-reboot".into(),
        policy: role_policy(
            &fixture.template,
            &fixture.resolver(),
            &fixture.function("instances-reboot"),
        )
        .unwrap(),
    };
    let role = caller
        .policy
        .role_arn
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let stack = StackContext::new(&fixture.def, &fixture.template, &fixture.deployed);
    let proxy = AwsProxy::start_with_lookups(upstream(base), vec![caller], stack, lookup)
        .await
        .unwrap();
    Setup { proxy, seen, role }
}

async fn setup() -> Setup {
    setup_with(Upstream::Emulator, Some(developer())).await
}

fn instance(id: &str) -> String {
    format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id}")
}

#[tokio::test]
async fn a_tagged_instance_is_rebooted_after_a_lookup_signed_with_the_developers_credentials() {
    let s = setup().await;
    let mut events = s.proxy.events().unwrap();
    s.reboot("i-tagged").await.expect("the instance is managed");
    let lookups = s.lookups();
    assert_eq!(lookups.len(), 1);
    assert_eq!(
        lookups[0].text(),
        "Action=DescribeTags&Version=2016-11-15&Filter.1.Name=resource-id&Filter.1.Value.1=i-tagged"
    );
    assert_eq!(
        lookups[0].headers["content-type"],
        "application/x-www-form-urlencoded; charset=utf-8"
    );
    let authorization = lookups[0].authorization();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIADEV/")
            && authorization.contains(&format!("/{REGION}/ec2/aws4_request")),
        "{authorization}"
    );
    let reboots = s.reboots();
    assert_eq!(reboots.len(), 1, "the function's call reached the upstream");
    assert!(reboots[0].text().contains("InstanceId.1=i-tagged"));
    assert!(reboots[0]
        .authorization()
        .contains("Credential=ASIAREBOOT/"));
    // The lookup is the proxy's own: no finding, no unchecked call.
    assert!(events.try_recv().is_err());
    let report = s.proxy.report();
    assert!(report.denied.is_empty() && report.unchecked.is_empty());
    let (_, unused) = &report.unused[0];
    assert!(
        unused.iter().all(|u| u.action != "ec2:RebootInstances"),
        "the reboot grant was used: {unused:?}"
    );
}

#[tokio::test]
async fn an_untagged_instance_is_denied_with_aws_words_and_never_reaches_the_upstream() {
    let s = setup().await;
    let (code, message) = s.reboot("i-untagged").await.expect_err("not managed");
    assert_eq!(code, "UnauthorizedOperation");
    assert_eq!(
        message,
        format!(
            "User: arn:aws:sts::{ACCOUNT}:assumed-role/{}/stackctl-local-reboot is not authorized to perform: ec2:RebootInstances on resource: {} because no identity-based policy allows the ec2:RebootInstances action",
            s.role,
            instance("i-untagged")
        )
    );
    assert!(s.reboots().is_empty());
    let finding = &s.proxy.report().denied[0];
    assert_eq!(finding.resource, instance("i-untagged"));
    assert!(
        finding.undecided.is_empty(),
        "the tags are known, so the condition is decided: {finding}"
    );
}

#[tokio::test]
async fn a_refused_lookup_leaves_the_call_denied_and_the_reason_says_what_the_lookup_got() {
    let s = setup().await;
    let (code, _) = s
        .reboot("i-refused")
        .await
        .expect_err("never a silent allow");
    assert_eq!(code, "UnauthorizedOperation");
    assert!(s.reboots().is_empty());
    let finding = &s.proxy.report().denied[0];
    assert_eq!(
        finding.undecided,
        vec![(
            "ActOnInstances".to_string(),
            "condition key aws:ResourceTag/fleet-console is not known: the tags of instance/i-refused could not be looked up: UnauthorizedOperation: You are not authorized to perform this operation.".to_string()
        )]
    );
    assert!(
        finding.to_string().contains("ActOnInstances might allow it, but its condition key aws:ResourceTag/fleet-console is not known: the tags of instance/i-refused could not be looked up"),
        "{finding}"
    );
}

#[tokio::test]
async fn two_calls_within_the_cache_time_look_up_once() {
    let s = setup().await;
    s.reboot("i-tagged").await.unwrap();
    s.reboot("i-tagged").await.unwrap();
    assert_eq!((s.lookups().len(), s.reboots().len()), (1, 2));
}

#[tokio::test]
async fn tags_on_a_second_page_are_found() {
    let s = setup().await;
    s.reboot("i-paged").await.expect("the tag is on page 2");
    let lookups = s.lookups();
    assert_eq!(lookups.len(), 2);
    assert!(
        lookups[1].text().ends_with("&NextToken=page-2"),
        "{}",
        lookups[1].text()
    );
}

#[tokio::test]
async fn without_credentials_of_the_developer_nothing_is_asked_and_the_reason_says_so() {
    let s = setup_with(Upstream::Emulator, None).await;
    s.reboot("i-tagged").await.expect_err("undecided");
    assert!(s.lookups().is_empty());
    let finding = &s.proxy.report().denied[0];
    assert!(
        finding.undecided[0].1.ends_with(
            "could not be looked up: `stackctl local` has no credentials of yours to ask EC2 with"
        ),
        "{finding}"
    );
}

#[tokio::test]
async fn towards_aws_the_lookup_goes_to_the_ec2_endpoint_of_the_region() {
    let s = setup_with(
        |base| Upstream::Aws {
            endpoint: format!("{base}/{{service}}.{{region}}"),
        },
        Some(developer()),
    )
    .await;
    s.reboot("i-tagged").await.unwrap();
    let lookups = s.lookups();
    assert_eq!(lookups[0].uri, format!("/ec2.{REGION}/"));
    assert!(lookups[0].authorization().contains("Credential=AKIADEV/"));
}

#[tokio::test]
async fn looked_up_tags_are_kept_for_the_cache_time_only() {
    let (base, seen) = fake_ec2().await;
    let resource = Ec2Resource::parse(&instance("i-tagged")).unwrap();
    let mut lookup = TagLookup::new(
        Upstream::Emulator(base),
        HttpClient::plain(),
        Some(developer()),
    );
    let tags = lookup.tags(&resource).await.unwrap();
    assert_eq!(*tags, vec![("fleet-console".into(), "managed".into())]);
    lookup.tags(&resource).await.unwrap();
    assert_eq!(lock(&seen).len(), 1);
    lookup.cache_time = Duration::ZERO;
    lookup.tags(&resource).await.unwrap();
    assert_eq!(lock(&seen).len(), 2, "expired, so asked again");
}
