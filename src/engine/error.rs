//! One error for every AWS call, typed from the SDK's error metadata (the
//! service's error code, the HTTP status, the SDK's own failure variants and
//! the credential chain's typed errors), never from message text. Each
//! reads as one sentence with a hint; the SDK's full report is kept for
//! `--verbose`.

use aws_credential_types::provider::error::{CredentialsError, TokenError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::error::Error as StdError;
use std::fmt;

/// What went wrong, as far as what to do about it differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The thing asked about does not exist (a stack, a key, a change set).
    NotFound,
    /// AWS asked us to slow down.
    Throttled,
    /// The credentials are valid but lack a permission.
    AccessDenied,
    /// No credentials anywhere in the chain.
    MissingCredentials,
    /// Credentials were found but AWS (or their provider) refused them:
    /// expired, revoked, an SSO session that ended, a profile that is wrong.
    ExpiredCredentials,
    /// There is nothing to change (CloudFormation's "no updates").
    NoChanges,
    /// The request was refused as invalid.
    ValidationFailed,
    /// Any other error the service answered with a code.
    Service,
    /// AWS answered something stackctl cannot read.
    UnexpectedAnswer,
    /// The configuration is incomplete (no region).
    Configuration,
    /// No answer in time (the SDK's timeouts, or a deadline of stackctl's).
    Timeout,
    /// AWS could not be reached (DNS, connection, TLS).
    Transport,
}

/// A failed AWS call: what was being done, why it failed, what to do.
#[derive(Debug, Clone)]
pub struct AwsError {
    pub kind: ErrorKind,
    /// What stackctl was doing, as a phrase after "cannot": `describe stack shop-prod`.
    pub operation: String,
    /// The service's error code, when it gave one.
    pub code: Option<String>,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// The service's message (or the one line that says what failed).
    pub message: String,
    /// A hint particular to the call, replacing the kind's general one.
    pub hint: Option<String>,
    /// The SDK's full report, shown with `--verbose`.
    pub detail: String,
}

impl AwsError {
    pub fn new(kind: ErrorKind, operation: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        AwsError {
            kind,
            operation: operation.into(),
            code: None,
            status: None,
            detail: message.clone(),
            message,
            hint: None,
        }
    }

    /// Classifies an SDK error of any service.
    pub fn from_sdk<E>(operation: impl Into<String>, error: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let detail = format!("{:#?}", error);
        let mut e = match &error {
            SdkError::ServiceError(context) => {
                let status = context.raw().status().as_u16();
                let service = context.err();
                let code = service.code().map(String::from);
                let kind = kind_of_service_error(code.as_deref(), status);
                let message = service
                    .message()
                    .map(String::from)
                    .unwrap_or_else(|| match &code {
                        Some(code) => code.clone(),
                        None => format!("HTTP {status}"),
                    });
                AwsError {
                    code,
                    status: Some(status),
                    ..AwsError::new(kind, "", message)
                }
            }
            SdkError::ResponseError(context) => {
                let raw = context.raw();
                let body = raw
                    .body()
                    .bytes()
                    .map(|b| {
                        String::from_utf8_lossy(&b[..b.len().min(300)])
                            .trim()
                            .to_string()
                    })
                    .unwrap_or_default();
                let status = raw.status().as_u16();
                AwsError {
                    status: Some(status),
                    ..AwsError::new(
                        kind_of_status(status).unwrap_or(ErrorKind::UnexpectedAnswer),
                        "",
                        format!("AWS answered HTTP {status} with an unreadable body: {body}"),
                    )
                }
            }
            SdkError::TimeoutError(_) => {
                AwsError::new(ErrorKind::Timeout, "", "AWS did not answer in time")
            }
            SdkError::DispatchFailure(failure) => match credential_problem(&error) {
                Some(problem) => problem,
                None if failure.is_timeout() => {
                    AwsError::new(ErrorKind::Timeout, "", "AWS did not answer in time")
                }
                None => AwsError::new(
                    ErrorKind::Transport,
                    "",
                    format!("AWS could not be reached ({})", innermost(&error)),
                ),
            },
            _ => credential_problem(&error)
                .unwrap_or_else(|| AwsError::new(ErrorKind::Transport, "", innermost(&error))),
        };
        e.operation = operation.into();
        e.detail = detail;
        e
    }

    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Worth asking again after a pause: throttling, timeouts, a failed
    /// connection, a server error.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Throttled | ErrorKind::Timeout | ErrorKind::Transport
        ) || (self.kind == ErrorKind::Service && self.status.is_some_and(|s| s >= 500))
    }

    /// AWS refused the call for its rate: it was not carried out.
    pub fn is_throttling(&self) -> bool {
        self.kind == ErrorKind::Throttled
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        if let Some(hint) = &self.hint {
            return Some(hint.clone());
        }
        let general = match self.kind {
            ErrorKind::MissingCredentials => "set AWS_PROFILE or pass --profile (and run `aws sso login` for SSO), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; stackctl looked in the environment, the AWS profiles, web identity, container and instance metadata",
            ErrorKind::ExpiredCredentials => "renew the credentials (`aws sso login` for SSO, or new keys), or choose others with --profile; `aws sts get-caller-identity` shows whether they work",
            ErrorKind::AccessDenied => "the identity in use lacks this permission: grant it (see the deployer's IAM in the README), or use another identity with --profile",
            ErrorKind::Throttled => "AWS kept throttling after stackctl's retries; wait a minute and run it again, or deploy fewer stacks at once (--concurrency)",
            ErrorKind::Timeout | ErrorKind::Transport => "check the network and the endpoint (AWS_ENDPOINT_URL, a proxy); --verbose shows the SDK's full report",
            ErrorKind::Configuration => "pass --region, set AWS_REGION, or set `region` in your AWS profile",
            ErrorKind::UnexpectedAnswer => "run it again; --verbose shows the full answer",
            _ => return None,
        };
        Some(general.to_string())
    }

    /// The SDK's full report, for `--verbose`.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for AwsError {
    /// One sentence: what could not be done, and why.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.kind {
            ErrorKind::MissingCredentials => "no AWS credentials were found".to_string(),
            ErrorKind::ExpiredCredentials => {
                format!("the AWS credentials cannot be used ({})", self.coded())
            }
            ErrorKind::AccessDenied => format!("access denied ({})", self.coded()),
            ErrorKind::Throttled => format!("AWS is throttling the requests ({})", self.coded()),
            _ => self.coded(),
        };
        if self.operation.is_empty() {
            write!(f, "{why}")
        } else {
            write!(f, "cannot {}: {why}", self.operation)
        }
    }
}

impl AwsError {
    /// `Code: message`, or the message alone when it says the code already.
    fn coded(&self) -> String {
        match &self.code {
            Some(code) if !self.message.starts_with(code.as_str()) => {
                format!("{code}: {}", self.message)
            }
            _ => self.message.clone(),
        }
    }
}

impl StdError for AwsError {}

/// Error codes by meaning, across the services stackctl calls.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "PriorRequestNotComplete",
];
const REFUSED_CREDENTIALS: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "InvalidToken",
    "TokenRefreshRequired",
    "SignatureDoesNotMatch",
    "AuthFailure",
];
const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "AllAccessDisabled",
];
const NOT_FOUND: &[&str] = &[
    "NotFound",
    "NoSuchKey",
    "NoSuchBucket",
    "ResourceNotFoundException",
    "ChangeSetNotFound",
    "ChangeSetNotFoundException",
    "StackNotFoundException",
];
const VALIDATION: &[&str] = &[
    "ValidationError",
    "ValidationException",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "InvalidChangeSetStatus",
    "InvalidChangeSetStatusException",
];

fn kind_of_service_error(code: Option<&str>, status: u16) -> ErrorKind {
    let is = |list: &[&str]| code.is_some_and(|c| list.contains(&c));
    if is(THROTTLING) {
        ErrorKind::Throttled
    } else if is(REFUSED_CREDENTIALS) {
        ErrorKind::ExpiredCredentials
    } else if is(ACCESS_DENIED) {
        ErrorKind::AccessDenied
    } else if is(NOT_FOUND) {
        ErrorKind::NotFound
    } else if is(VALIDATION) {
        ErrorKind::ValidationFailed
    } else if code.is_none() {
        // Answers without a body (S3's HEAD) say it with the status alone.
        kind_of_status(status).unwrap_or(ErrorKind::Service)
    } else {
        ErrorKind::Service
    }
}

fn kind_of_status(status: u16) -> Option<ErrorKind> {
    match status {
        403 => Some(ErrorKind::AccessDenied),
        404 => Some(ErrorKind::NotFound),
        429 => Some(ErrorKind::Throttled),
        _ => None,
    }
}

/// The credential chain's own typed error, anywhere in the error's sources.
fn credential_problem(error: &(dyn StdError + 'static)) -> Option<AwsError> {
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            let kind = match c {
                CredentialsError::CredentialsNotLoaded(_) => ErrorKind::MissingCredentials,
                _ => ErrorKind::ExpiredCredentials,
            };
            return Some(AwsError::new(kind, "", first_line(&innermost(c))));
        }
        if let Some(t) = e.downcast_ref::<TokenError>() {
            return Some(AwsError::new(
                ErrorKind::ExpiredCredentials,
                "",
                first_line(&innermost(t)),
            ));
        }
        source = e.source();
    }
    None
}

/// The deepest cause's message: the one that says what actually failed.
fn innermost(error: &(dyn StdError + 'static)) -> String {
    let mut last = error;
    while let Some(next) = last.source() {
        last = next;
    }
    first_line(&last.to_string())
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(code: Option<&str>, status: u16) -> AwsError {
        let mut meta = ErrorMetadata::builder().message("said the service");
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        AwsError::from_sdk(
            "describe stack s",
            SdkError::service_error(DescribeStacksError::generic(meta.build()), raw),
        )
    }

    #[test]
    fn service_errors_are_typed_by_code_then_status() {
        let kind = |code, status| service_error(code, status).kind;
        assert_eq!(kind(Some("Throttling"), 400), ErrorKind::Throttled);
        assert_eq!(
            kind(Some("ExpiredToken"), 403),
            ErrorKind::ExpiredCredentials
        );
        assert_eq!(kind(Some("AccessDenied"), 403), ErrorKind::AccessDenied);
        assert_eq!(
            kind(Some("ValidationError"), 400),
            ErrorKind::ValidationFailed
        );
        assert_eq!(kind(Some("InternalFailure"), 500), ErrorKind::Service);
        assert_eq!(kind(None, 404), ErrorKind::NotFound);
        assert_eq!(kind(None, 403), ErrorKind::AccessDenied);
        assert!(service_error(Some("InternalFailure"), 500).is_transient());
        assert!(!service_error(Some("ValidationError"), 400).is_transient());
    }

    #[test]
    fn an_error_reads_as_one_sentence_with_the_code_and_a_hint() {
        let e = service_error(Some("AccessDenied"), 403);
        assert_eq!(
            e.to_string(),
            "cannot describe stack s: access denied (AccessDenied: said the service)"
        );
        assert!(e.hint().unwrap().contains("--profile"));
        assert!(
            e.detail().contains("ServiceError"),
            "the debug form is kept apart"
        );
    }

    #[test]
    fn missing_credentials_are_found_in_the_error_chain() {
        let e = AwsError::from_sdk(
            "ask STS who the credentials belong to",
            SdkError::<DescribeStacksError, HttpResponse>::dispatch_failure(
                aws_smithy_runtime_api::client::result::ConnectorError::other(
                    Box::new(CredentialsError::not_loaded(
                        "no providers in chain provided credentials",
                    )),
                    None,
                ),
            ),
        );
        assert_eq!(e.kind, ErrorKind::MissingCredentials);
        assert_eq!(
            e.to_string(),
            "cannot ask STS who the credentials belong to: no AWS credentials were found"
        );
        let timeout = AwsError::from_sdk(
            "read",
            SdkError::<DescribeStacksError, HttpResponse>::dispatch_failure(
                aws_smithy_runtime_api::client::result::ConnectorError::timeout("slow".into()),
            ),
        );
        assert_eq!(timeout.kind, ErrorKind::Timeout);
        assert!(timeout.is_transient());
    }
}
