//! Request bodies and field validation that reports every problem at once.

use crate::reply::ErrorCode;
use crate::{ApiError, Request};
use serde_json::{json, Map, Value};

/// The body as a JSON object, or an error with the application's
/// validation `code`.
pub fn json_object(
    request: &Request,
    code: impl ErrorCode,
) -> Result<Map<String, Value>, ApiError> {
    let text = request
        .body
        .as_deref()
        .ok_or_else(|| ApiError::new(code, "A JSON body is required"))?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(code, "The body must be a JSON object")),
        Err(e) => Err(ApiError::new(
            code,
            format!("The body is not valid JSON: {e}"),
        )),
    }
}

/// Collects field problems; `finish` turns them into one error with the
/// application's validation `code`.
pub struct Fields<'a, C: ErrorCode> {
    body: &'a Map<String, Value>,
    code: C,
    problems: Vec<Value>,
}

impl<'a, C: ErrorCode> Fields<'a, C> {
    pub fn new(body: &'a Map<String, Value>, code: C) -> Self {
        Fields {
            body,
            code,
            problems: Vec::new(),
        }
    }

    pub fn problem(&mut self, field: &str, message: impl Into<String>) {
        self.problems
            .push(json!({"field": field, "message": message.into()}));
    }

    /// A string of `min..=max` characters (trimmed), when present or required.
    pub fn text(&mut self, field: &str, required: bool, min: usize, max: usize) -> Option<String> {
        match self.body.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.problem(field, "is required");
                }
                None
            }
            Some(Value::String(s)) => {
                let t = s.trim();
                let n = t.chars().count();
                if n < min || n > max {
                    self.problem(field, format!("must be {min} to {max} characters"));
                    None
                } else {
                    Some(t.to_string())
                }
            }
            Some(_) => {
                self.problem(field, "must be a string");
                None
            }
        }
    }

    /// A number in `min..=max`, when present or required.
    pub fn number(&mut self, field: &str, required: bool, min: f64, max: f64) -> Option<f64> {
        match self.body.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.problem(field, "is required");
                }
                None
            }
            Some(Value::Number(n)) => match n.as_f64() {
                Some(v) if v >= min && v <= max => Some(v),
                _ => {
                    self.problem(field, format!("must be between {min} and {max}"));
                    None
                }
            },
            Some(_) => {
                self.problem(field, "must be a number");
                None
            }
        }
    }

    /// A whole number in `min..=max`, when present or required.
    pub fn integer(&mut self, field: &str, required: bool, min: i64, max: i64) -> Option<i64> {
        let v = self.number(field, required, min as f64, max as f64)?;
        if v.fract() != 0.0 {
            self.problem(field, "must be a whole number");
            return None;
        }
        Some(v as i64)
    }

    pub fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.body.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.problem(field, "must be true or false");
                None
            }
        }
    }

    /// Fails with every problem found, or passes.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.problems.is_empty() {
            return Ok(());
        }
        let summary = self
            .problems
            .iter()
            .map(|p| {
                format!(
                    "{} {}",
                    p["field"].as_str().unwrap_or(""),
                    p["message"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        Err(ApiError::new(self.code, summary).with_details(Value::Array(self.problems)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy)]
    struct Invalid;
    impl ErrorCode for Invalid {
        fn code(self) -> &'static str {
            "GUITAR_VALIDATION_ERROR"
        }
        fn status(self) -> u16 {
            400
        }
    }

    #[test]
    fn reports_every_field_problem() {
        let body: Map<String, Value> =
            serde_json::from_value(json!({"brand": "", "year": 1200.5, "caseIncluded": "yes"}))
                .unwrap();
        let mut f = Fields::new(&body, Invalid);
        f.text("brand", true, 1, 100);
        f.text("model", true, 1, 100);
        f.integer("year", false, 1900, 2100);
        f.boolean("caseIncluded");
        let e = f.finish().unwrap_err();
        assert_eq!((e.status, e.code), (400, "GUITAR_VALIDATION_ERROR"));
        assert_eq!(e.details.unwrap().as_array().unwrap().len(), 4);
    }
}
