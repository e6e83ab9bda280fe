//! What kind of event an invocation carries, told from its shape: Lambda
//! hands a function bare JSON, whoever sent it.

use serde_json::Value;
use std::fmt;

/// The kinds of event a function of this workspace can be invoked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An API Gateway HTTP API request (payload format 2.0).
    HttpApi,
    /// An API Gateway REST API request (proxy integration, payload 1.0).
    RestApi,
    /// S3 event notifications (`Records` from `aws:s3`).
    S3,
    /// A batch of SQS messages from an event source mapping (`aws:sqs`).
    Sqs,
    /// Any other JSON: a direct invocation, or an EventBridge Scheduler
    /// target, which receives the schedule's `Input` as it is.
    Direct,
}

impl EventKind {
    pub fn of(event: &Value) -> EventKind {
        let has = |field: &str| event.get(field).is_some();
        if has("requestContext") && (event["version"] == "2.0" || has("routeKey")) {
            EventKind::HttpApi
        } else if has("requestContext") && has("httpMethod") {
            EventKind::RestApi
        } else if event["Records"][0]["eventSource"] == "aws:s3" {
            EventKind::S3
        } else if event["Records"][0]["eventSource"] == "aws:sqs" {
            EventKind::Sqs
        } else {
            EventKind::Direct
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EventKind::HttpApi => "API Gateway HTTP API (payload 2.0)",
            EventKind::RestApi => "API Gateway REST API (payload 1.0)",
            EventKind::S3 => "S3 notification",
            EventKind::Sqs => "SQS message batch",
            EventKind::Direct => "direct or scheduled invocation",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_are_told_from_the_shape() {
        let http = json!({"version": "2.0", "routeKey": "GET /x", "requestContext": {}});
        let rest = json!({"resource": "/x", "httpMethod": "GET", "requestContext": {}});
        let s3 = json!({"Records": [{"eventSource": "aws:s3", "s3": {}}]});
        let sqs = json!({"Records": [{"eventSource": "aws:sqs"}]});
        let schedule = json!({"bidId": "b-1"});
        assert_eq!(EventKind::of(&http), EventKind::HttpApi);
        assert_eq!(EventKind::of(&rest), EventKind::RestApi);
        assert_eq!(EventKind::of(&s3), EventKind::S3);
        assert_eq!(EventKind::of(&sqs), EventKind::Sqs);
        assert_eq!(EventKind::of(&schedule), EventKind::Direct);
        assert_eq!(EventKind::of(&json!(null)), EventKind::Direct);
    }
}
