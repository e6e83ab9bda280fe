//! Problems found in a stack definition, and how they are shown.
//!
//! Every stage reports through [`Diagnostic`]: it says what is wrong, where
//! (a location in the file, or a path the loader turns into one), and what
//! to do about it. Rendering follows the compiler style people already read:
//! `error: …`, `--> file:line:col`, the offending line, a caret, a hint.

use crate::source::{Loc, Path, SourceFile};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Where a diagnostic points before and after the loader resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Anchor {
    /// Nothing in the file to point at (a whole-template limit, say).
    Nowhere,
    /// The value at a path in the stack definition.
    Value(Path),
    /// The key (the name) at a path, as for "unknown table `x`".
    Key(Path),
    /// A resolved place in the file.
    At(Loc),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub anchor: Anchor,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            anchor: Anchor::Nowhere,
            hint: None,
        }
    }
    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }
    pub fn at_value(mut self, path: Path) -> Self {
        self.anchor = Anchor::Value(path);
        self
    }
    pub fn at_key(mut self, path: Path) -> Self {
        self.anchor = Anchor::Key(path);
        self
    }
    pub fn at(mut self, loc: Loc) -> Self {
        self.anchor = Anchor::At(loc);
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn maybe_hint(self, hint: Option<String>) -> Self {
        match hint {
            Some(h) => self.hint(h),
            None => self,
        }
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
    pub fn loc(&self) -> Option<Loc> {
        match self.anchor {
            Anchor::At(loc) => Some(loc),
            _ => None,
        }
    }

    /// Renders for a person: header, location, source line with a caret, hint.
    pub fn render(&self, file: &SourceFile) -> String {
        let mut out = String::new();
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{label}: {}", self.message);
        match self.loc() {
            Some(loc) => {
                let _ = writeln!(out, "  --> {}:{}:{}", file.name, loc.line, loc.col);
                if let Some(line) = file.text.lines().nth(loc.line.saturating_sub(1) as usize) {
                    let gutter = loc.line.to_string().len();
                    let pad = " ".repeat(gutter);
                    let caret_pad: String = line
                        .chars()
                        .take(loc.col.saturating_sub(1) as usize)
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    let carets = "^".repeat(loc.len.clamp(1, 80) as usize);
                    let _ = writeln!(out, "{pad} |");
                    let _ = writeln!(out, "{} | {}", loc.line, line);
                    let _ = writeln!(out, "{pad} | {caret_pad}{carets}");
                }
            }
            None => {
                let _ = writeln!(out, "  --> {}", file.name);
            }
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "  = hint: {hint}");
        }
        out
    }

    /// The form `--output json` prints: stable field names, no colour.
    pub fn to_json(&self, file: &SourceFile) -> serde_json::Value {
        let loc = self.loc();
        serde_json::json!({
            "severity": self.severity,
            "message": self.message,
            "file": file.name,
            "line": loc.map(|l| l.line),
            "column": loc.map(|l| l.col),
            "hint": self.hint,
        })
    }
}

/// Suggests the closest of `candidates` to `word`, if one is close enough
/// to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// "did you mean `x`?" or the full list of what is allowed, as a hint.
pub fn suggestion<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<String> {
    if let Some(best) = did_you_mean(word, candidates.clone()) {
        return Some(format!("did you mean `{best}`?"));
    }
    let all: Vec<String> = candidates.into_iter().map(|c| format!("`{c}`")).collect();
    if all.is_empty() {
        None
    } else {
        Some(format!("expected one of {}", all.join(", ")))
    }
}
