//! Third-party HTTP calls answered from a fixture's `aws` list, recorded
//! beside the AWS calls. A scripted `{"timeout": true}` answer (or
//! `{"timeout": "broken"}`, `{"timeout": "connect"}`) stands for a call
//! that got no answer of that kind, without waiting for it.

use super::{answer_body, SentRequest};
use crate::outbound::{Outbound, OutboundError, OutboundRequest, OutboundResponse, Pending};
use serde_json::Value;
use std::sync::{Arc, Mutex};

pub(super) struct ScriptedOutbound {
    pub answers: Arc<Mutex<Vec<Value>>>,
    pub sent: Arc<Mutex<Vec<SentRequest>>>,
}

impl Outbound for ScriptedOutbound {
    fn send(&self, request: OutboundRequest) -> Pending<'_> {
        let (host, path) = host_and_path(&request.url);
        let headers = request
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), Value::String(v.clone())))
            .collect();
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(SentRequest {
                method: request.method.clone(),
                host: host.clone(),
                path,
                headers,
                operation: None,
                body: request.body.clone(),
            });
        let next = {
            let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
            (!answers.is_empty()).then(|| answers.remove(0))
        };
        let result = match next {
            None => Ok(OutboundResponse {
                status: 599,
                headers: Vec::new(),
                body: b"the fixture scripts no more outside calls".to_vec(),
            }),
            Some(exchange) => scripted(&exchange["response"], host, &request),
        };
        Box::pin(std::future::ready(result))
    }
}

fn scripted(
    answer: &Value,
    host: String,
    request: &OutboundRequest,
) -> Result<OutboundResponse, OutboundError> {
    let detail = "scripted by the fixture".to_string();
    match &answer["timeout"] {
        Value::Null | Value::Bool(false) => {}
        Value::String(kind) if kind == "connect" => {
            return Err(OutboundError::Connect { host, detail })
        }
        Value::String(kind) if kind == "broken" => {
            return Err(OutboundError::Broken { host, detail })
        }
        _ => {
            return Err(OutboundError::Timeout {
                host,
                after: request.timeout,
            })
        }
    }
    Ok(OutboundResponse {
        status: answer["status"].as_u64().unwrap_or(200) as u16,
        headers: answer["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.as_str().unwrap_or("").to_string()))
            .collect(),
        body: answer_body(answer),
    })
}

/// `https://api.ebay.com/a/b?x=1` → (`api.ebay.com`, `/a/b?x=1`).
fn host_and_path(url: &str) -> (String, String) {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    match rest.find('/') {
        Some(i) => (rest[..i].to_string(), rest[i..].to_string()),
        None => (rest.to_string(), "/".to_string()),
    }
}
