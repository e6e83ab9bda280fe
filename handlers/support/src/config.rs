//! Settings from environment variables, read once at start.

/// A missing or empty variable: names it and says where it comes from.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("environment variable {0} is not set: the stack file sets it under the function's `environment`")]
pub struct MissingVariable(pub String);

/// The value of a required variable.
pub fn required(name: &str) -> Result<String, MissingVariable> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| MissingVariable(name.to_string()))
}

/// The value of a variable that may be absent (`None` when unset or empty).
pub fn optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Every required variable at once, so a misconfigured function names all
/// that are missing in one cold start.
pub fn required_all<const N: usize>(names: [&str; N]) -> Result<[String; N], MissingVariable> {
    let values: Vec<Result<String, MissingVariable>> = names.iter().map(|n| required(n)).collect();
    let missing: Vec<String> = values
        .iter()
        .filter_map(|v| v.as_ref().err().map(|e| e.0.clone()))
        .collect();
    if !missing.is_empty() {
        return Err(MissingVariable(missing.join(", ")));
    }
    Ok(values
        .into_iter()
        .map(|v| v.expect("checked"))
        .collect::<Vec<_>>()
        .try_into()
        .expect("N values"))
}
