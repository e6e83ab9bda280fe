//! Structured logs: one JSON object per line on stdout, with the request id,
//! which Lambda's JSON log format and CloudWatch Logs Insights read as fields.

use serde_json::{json, Map, Value};

#[derive(Debug, Clone)]
pub struct Logger {
    request_id: String,
}

impl Logger {
    pub fn new(request_id: &str) -> Self {
        Logger {
            request_id: request_id.to_string(),
        }
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
    pub fn line(&self, level: &str, message: &str, fields: &[(&str, Value)]) -> String {
        let mut entry = Map::new();
        entry.insert("level".into(), json!(level));
        entry.insert("message".into(), json!(message));
        entry.insert("requestId".into(), json!(self.request_id));
        for (k, v) in fields {
            entry.insert((*k).to_string(), v.clone());
        }
        Value::Object(entry).to_string()
    }
    fn write(&self, level: &str, message: &str, fields: &[(&str, Value)]) {
        println!("{}", self.line(level, message, fields));
    }
}
