//! The fields a guitar has and the rules for each (seed 003's attributes).

use guitar_errors::Code;
use handler_support::input::{json_object, Fields};
use handler_support::{ApiError, Request};
use serde_json::{Map, Value};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Brand and model are required.
    Create,
    /// Any subset of fields; at least one.
    Update,
}

/// Short text fields and their maximum length.
const TEXT: [(&str, usize); 15] = [
    ("brand", 100),
    ("model", 100),
    ("type", 50),
    ("bodyMaterial", 100),
    ("neckMaterial", 100),
    ("fretboardMaterial", 100),
    ("scaleLength", 50),
    ("pickupConfiguration", 50),
    ("color", 50),
    ("finish", 50),
    ("tuningMachines", 100),
    ("bridge", 100),
    ("nut", 100),
    ("electronics", 200),
    ("countryOfOrigin", 100),
];

const PRIVATE_TEXT: [&str; 5] = [
    "serialNumber",
    "purchaseDate",
    "purchaseLocation",
    "receiptUrl",
    "insuranceInfo",
];
const PRIVATE_MONEY: [&str; 3] = ["originalRetailPrice", "purchasePrice", "currentValue"];

/// The request body checked field by field; fields not listed here (keys,
/// timestamps, images) are refused rather than silently stored. A new note
/// without a time of its own is stamped `now`.
pub fn validated(request: &Request, mode: Mode, now: &str) -> Result<Map<String, Value>, ApiError> {
    let body = json_object(request, Code::GuitarValidationError)?;
    let mut f = Fields::new(&body, Code::GuitarValidationError);
    let mut out = Map::new();
    let create = mode == Mode::Create;
    for (name, max) in TEXT.iter() {
        let required = create && (*name == "brand" || *name == "model");
        if let Some(v) = f.text(name, required, 1, *max) {
            out.insert(name.to_string(), Value::String(v));
        }
    }
    if let Some(year) = f.integer("year", false, 1900, 2100) {
        out.insert("year".into(), year.into());
    }
    if let Some(frets) = f.integer("numberOfFrets", false, 1, 36) {
        out.insert("numberOfFrets".into(), frets.into());
    }
    if let Some(case) = f.boolean("caseIncluded") {
        out.insert("caseIncluded".into(), case.into());
    }
    match body.get("detailedSpecs") {
        None | Some(Value::Null) => {}
        Some(Value::Object(specs))
            if specs
                .values()
                .all(|v| v.is_string() || v.is_number() || v.is_boolean())
                && specs.len() <= 50 =>
        {
            out.insert("detailedSpecs".into(), Value::Object(specs.clone()));
        }
        Some(_) => f.problem(
            "detailedSpecs",
            "must be an object of at most 50 text, number or true/false values",
        ),
    }
    match body.get("privateInfo") {
        None | Some(Value::Null) => {}
        Some(Value::Object(info)) => {
            let mut p = Fields::new(info, Code::GuitarValidationError);
            let mut clean = Map::new();
            for name in PRIVATE_TEXT {
                if let Some(v) = p.text(name, false, 1, 500) {
                    clean.insert(name.into(), v.into());
                }
            }
            for name in PRIVATE_MONEY {
                if let Some(v) = p.number(name, false, 0.0, 100_000_000.0) {
                    clean.insert(name.into(), v.into());
                }
            }
            if let Some(c) = p.text("currency", false, 3, 3) {
                clean.insert("currency".into(), c.to_uppercase().into());
            }
            for key in info.keys().filter(|k| {
                !PRIVATE_TEXT.contains(&k.as_str())
                    && !PRIVATE_MONEY.contains(&k.as_str())
                    && *k != "currency"
            }) {
                p.problem(
                    &format!("privateInfo.{key}"),
                    "is not a field of privateInfo",
                );
            }
            if let Err(e) = p.finish() {
                for d in e
                    .details
                    .into_iter()
                    .flat_map(|d| d.as_array().cloned().unwrap_or_default())
                {
                    f.problem(
                        &format!("privateInfo.{}", d["field"].as_str().unwrap_or(""))
                            .replace("privateInfo.privateInfo.", "privateInfo."),
                        d["message"].as_str().unwrap_or(""),
                    );
                }
            }
            out.insert("privateInfo".into(), Value::Object(clean));
        }
        Some(_) => f.problem("privateInfo", "must be an object"),
    }
    match body.get("notes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(notes)) if notes.len() <= 100 => {
            let mut clean = Vec::new();
            for (i, n) in notes.iter().enumerate() {
                match n
                    .get("content")
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|c| !c.is_empty() && c.chars().count() <= 5000)
                {
                    Some(content) => {
                        let id = n
                            .get("id")
                            .and_then(Value::as_str)
                            .map(String::from)
                            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                        let created = n
                            .get("createdAt")
                            .and_then(Value::as_str)
                            .map(String::from)
                            .unwrap_or_else(|| now.to_string());
                        clean.push(
                            serde_json::json!({"id": id, "content": content, "createdAt": created}),
                        );
                    }
                    None => f.problem(
                        &format!("notes[{i}].content"),
                        "is required, 1 to 5000 characters",
                    ),
                }
            }
            out.insert("notes".into(), Value::Array(clean));
        }
        Some(_) => f.problem("notes", "must be a list of at most 100 notes"),
    }
    let known = |k: &str| {
        TEXT.iter().any(|(n, _)| *n == k)
            || [
                "year",
                "numberOfFrets",
                "caseIncluded",
                "detailedSpecs",
                "privateInfo",
                "notes",
            ]
            .contains(&k)
    };
    for key in body.keys().filter(|k| !known(k)) {
        let why =
            if ["userId", "guitarId", "createdAt", "updatedAt", "images"].contains(&key.as_str()) {
                "is managed by the service"
            } else {
                "is not a field of a guitar"
            };
        f.problem(key, why);
    }
    f.finish()?;
    if mode == Mode::Update && out.is_empty() {
        return Err(ApiError::new(
            Code::GuitarValidationError,
            "Nothing to update",
        ));
    }
    Ok(out)
}
