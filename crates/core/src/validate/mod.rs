//! Semantic rules: everything that can be known wrong before AWS sees it.
//!
//! Each rule reports at a path of the stack definition; the loader turns the
//! path into file:line:column. Rules run on the typed definition for one
//! environment and never stop early: every problem is reported at once.

mod actions;
mod data;
mod edge;
pub mod event_pattern;
mod events;
mod external;
mod functions;
mod identity;
mod invocation;
mod monitoring;
mod names;
mod references;
mod routing;

pub use edge::{integration_timeout, parse_route_key};
pub use functions::{environment_size, schedule_expression, ENVIRONMENT_LIMIT};
pub use routing::filter_pattern as log_filter_pattern;

use crate::diagnostic::{suggestion, Diagnostic};
use crate::model::StackDef;
use crate::source::Path;
use std::collections::BTreeSet;

/// A definition in which `validate` found no error, for one environment.
///
/// Only [`validate`] makes one, so holding a `Valid` is proof that every
/// rule ran and passed: planning takes nothing else. It reads as the value
/// it wraps.
#[derive(Debug, Clone)]
pub struct Valid<T> {
    value: T,
    env: String,
}

impl<T> Valid<T> {
    /// The environment the value was validated for.
    pub fn env(&self) -> &str {
        &self.env
    }

    /// Gives up the proof and keeps the value.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> std::ops::Deref for Valid<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// The code that exists outside the stack files, as the caller found it:
/// the core does no I/O, so whoever can look (the command line) looks and
/// passes the answer in. What was not looked up (`None`) is not checked.
#[derive(Debug, Clone, Default)]
pub struct AvailableCode {
    /// Packages of the Cargo workspace that have a binary.
    pub crates: Option<BTreeSet<String>>,
    /// Prebuilt packages that exist, by the path the stack file writes.
    pub zips: Option<BTreeSet<String>>,
}

/// Checks `def` as it stands in `env`: the definition proven valid when no
/// problem is an error (else given back), and every problem found.
pub fn validate(
    def: StackDef,
    env: &str,
    code: &AvailableCode,
) -> (Result<Valid<StackDef>, StackDef>, Vec<Diagnostic>) {
    let problems = problems(&def, env, code);
    if problems.iter().any(Diagnostic::is_error) {
        return (Err(def), problems);
    }
    let valid = Valid {
        value: def,
        env: env.to_string(),
    };
    (Ok(valid), problems)
}

/// All problems of `def` as it stands in `env`.
fn problems(def: &StackDef, env: &str, code: &AvailableCode) -> Vec<Diagnostic> {
    let mut c = Checker {
        def,
        env,
        code,
        out: Vec::new(),
    };
    names::check(&mut c);
    functions::check(&mut c);
    edge::check(&mut c);
    data::check(&mut c);
    events::check(&mut c);
    identity::check(&mut c);
    monitoring::check(&mut c);
    routing::check(&mut c);
    references::check(&mut c);
    invocation::check(&mut c);
    actions::check(&mut c);
    external::check(&mut c);
    c.out
}

/// CloudWatch Logs accepts only these retention periods.
pub const LOG_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub(crate) struct Checker<'a> {
    pub def: &'a StackDef,
    pub env: &'a str,
    pub code: &'a AvailableCode,
    pub out: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub fn error(&mut self, at: Path, message: impl Into<String>, hint: impl Into<String>) {
        self.out
            .push(Diagnostic::error(message).at_value(at).hint(hint));
    }
    pub fn error_at_key(&mut self, at: Path, message: impl Into<String>, hint: impl Into<String>) {
        self.out
            .push(Diagnostic::error(message).at_key(at).hint(hint));
    }
    pub fn warning(&mut self, at: Path, message: impl Into<String>, hint: impl Into<String>) {
        self.out
            .push(Diagnostic::warning(message).at_value(at).hint(hint));
    }

    /// Like `expect_known`, for a name written as a mapping key (`orders: write`).
    pub fn expect_known_key<'k>(
        &mut self,
        at: Path,
        what: &str,
        name: &str,
        known: impl IntoIterator<Item = &'k String>,
    ) -> bool {
        let before = self.out.len();
        let ok = self.expect_known(at.clone(), what, name, known);
        for d in &mut self.out[before..] {
            d.anchor = crate::diagnostic::Anchor::Key(at.clone());
        }
        ok
    }

    /// Reports `name` unless it is one of `known`; `what` is "table", "function"…
    pub fn expect_known<'k>(
        &mut self,
        at: Path,
        what: &str,
        name: &str,
        known: impl IntoIterator<Item = &'k String>,
    ) -> bool {
        let known: Vec<&str> = known.into_iter().map(String::as_str).collect();
        if known.contains(&name) {
            return true;
        }
        let hint = if known.is_empty() {
            format!("this stack defines no {what}; add one, or remove this reference")
        } else {
            suggestion(name, known.iter().copied()).unwrap_or_default()
        };
        self.error(
            at,
            format!("there is no {what} `{name}` in this stack"),
            hint,
        );
        false
    }

    /// Reports a number outside `range`.
    pub fn in_range(
        &mut self,
        at: Path,
        what: &str,
        value: u64,
        range: std::ops::RangeInclusive<u64>,
        why: &str,
    ) {
        if !range.contains(&value) {
            self.error(
                at.clone(),
                format!("`{at}`: {what} {value} is out of range"),
                format!("{why}: {} to {}", range.start(), range.end()),
            );
        }
    }
}

pub(crate) fn p(dotted: &str) -> Path {
    Path::parse(dotted)
}
