//! Structured logs: one JSON object per line on stdout, with the request id,
//! which Lambda's JSON log format and CloudWatch Logs Insights read as fields.

use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Logger {
    request_id: String,
    /// Lines kept for a test to read, instead of printed.
    captured: Option<Arc<Mutex<Vec<Value>>>>,
}

impl Logger {
    pub fn new(request_id: &str) -> Self {
        Logger {
            request_id: request_id.to_string(),
            captured: None,
        }
    }
    /// A logger that keeps its lines; [`Logger::lines`] returns them.
    pub fn capturing(request_id: &str) -> Self {
        Logger {
            captured: Some(Arc::default()),
            ..Self::new(request_id)
        }
    }
    /// The invocation's request id (Lambda's `awsRequestId`).
    pub fn request_id(&self) -> &str {
        &self.request_id
    }
    /// The lines a capturing logger kept, as JSON objects.
    pub fn lines(&self) -> Vec<Value> {
        self.captured
            .as_ref()
            .map(|c| c.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .unwrap_or_default()
    }
    pub fn info(&self, message: &str, fields: &[(&str, Value)]) {
        self.write("INFO", message, fields);
    }
    pub fn warn(&self, message: &str, fields: &[(&str, Value)]) {
        self.write("WARN", message, fields);
    }
    pub fn error(&self, message: &str, fields: &[(&str, Value)]) {
        self.write("ERROR", message, fields);
    }
    pub fn entry(&self, level: &str, message: &str, fields: &[(&str, Value)]) -> Value {
        let mut entry = Map::new();
        entry.insert("level".into(), json!(level));
        entry.insert("message".into(), json!(message));
        entry.insert("requestId".into(), json!(self.request_id));
        for (k, v) in fields {
            entry.insert((*k).to_string(), v.clone());
        }
        Value::Object(entry)
    }
    fn write(&self, level: &str, message: &str, fields: &[(&str, Value)]) {
        let entry = self.entry(level, message, fields);
        match &self.captured {
            Some(lines) => lines.lock().unwrap_or_else(|e| e.into_inner()).push(entry),
            None => println!("{entry}"),
        }
    }
}
