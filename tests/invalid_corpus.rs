//! The invalid-definition corpus: every file in `tests/invalid/` is a stack
//! definition with one mistake, and a header saying which error stackctl must
//! report and where:
//!
//! ```text
//! # env: prod                      (optional; default dev)
//! # crates: guitar-user             (optional: the workspace's crates, so the
//! #                                  code functions name is checked)
//! # expect: 12:14 memory 64 is out of range
//! ```
//!
//! `-` instead of `line:col` means the error points at no place in the file.
//! Each expected error must be reported at exactly that place, and no other
//! error may be reported (warnings are allowed). A case may also expect a
//! warning, `# warn: 12:14 message`, which must be reported at that place; a
//! case that expects only warnings must have no error.

use stackctl::load::{resolve_text, Resolved, StackSource};
use stackctl::pipeline::{render_environment, Outcome};
use stackctl::plan::CodeLocations;
use stackctl::render::{Renderer, TemplateSet};
use stackctl::source::SourceFile;
use stackctl::validate::AvailableCode;

struct Expectation {
    place: Option<(u32, u32)>,
    message: String,
}

/// The code a case says exists: with `# crates:`, those crates and no
/// prebuilt package; without, nothing is looked up (nothing checked).
fn available_code(text: &str) -> AvailableCode {
    let crates = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| l.strip_prefix("# crates: "));
    match crates {
        None => AvailableCode::default(),
        Some(list) => AvailableCode {
            crates: Some(list.split_whitespace().map(str::to_string).collect()),
            zips: Some(Default::default()),
        },
    }
}

/// Resolves a case with the code it says exists.
fn resolve(name: &str, text: &str, env: &str, code: &AvailableCode) -> (SourceFile, Resolved) {
    let file = SourceFile {
        name: name.to_string(),
        text: text.to_string(),
    };
    match StackSource::parse(file) {
        Ok(source) => {
            let resolved = source.resolve_with(env, code);
            (source.file, resolved)
        }
        Err(_) => resolve_text(name, text, env),
    }
}

/// The case's environment, its expected errors and its expected warnings.
fn expectations(text: &str) -> (String, Vec<Expectation>, Vec<Expectation>) {
    let mut env = "dev".to_string();
    let mut expected = Vec::new();
    let mut warnings = Vec::new();
    let parse = |rest: &str| {
        let (place, message) = rest.split_once(' ').expect("`# expect: L:C message`");
        let place = (place != "-").then(|| {
            let (l, c) = place.split_once(':').expect("L:C");
            (l.parse().unwrap(), c.parse().unwrap())
        });
        Expectation {
            place,
            message: message.to_string(),
        }
    };
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        if let Some(e) = line.strip_prefix("# env: ") {
            env = e.trim().to_string();
        } else if let Some(rest) = line.strip_prefix("# expect: ") {
            expected.push(parse(rest));
        } else if let Some(rest) = line.strip_prefix("# warn: ") {
            warnings.push(parse(rest));
        }
    }
    (env, expected, warnings)
}

#[test]
fn every_invalid_definition_is_rejected_with_its_expected_error() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "the corpus has only {} cases",
        files.len()
    );
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let (env, expected, warnings) = expectations(&text);
        assert!(
            !expected.is_empty() || !warnings.is_empty(),
            "{name} has no `# expect:` or `# warn:` line"
        );
        let available = available_code(&text);
        let (file, resolved) = resolve(&name, &text, &env, &available);
        let mut errors: Vec<_> = resolved
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        if errors.is_empty() {
            // A definition that validates may still fail the template checks.
            if let Ok(source) = stackctl::load::StackSource::parse(file.clone()) {
                let code = CodeLocations {
                    available,
                    ..CodeLocations::default()
                };
                if let Ok(Outcome::Invalid(d)) = render_environment(&source, &env, &renderer, &code)
                {
                    errors = d.into_iter().filter(|d| d.is_error()).collect();
                }
            }
        }
        let shown: String = errors.iter().map(|d| d.render(&file)).collect();
        for w in &warnings {
            let found = resolved.diagnostics.iter().any(|d| {
                !d.is_error()
                    && d.hint.is_some()
                    && d.message.contains(&w.message)
                    && d.loc().map(|l| (l.line, l.col)) == w.place
            });
            if !found {
                let all: String = resolved
                    .diagnostics
                    .iter()
                    .map(|d| d.render(&file))
                    .collect();
                failures.push(format!(
                    "{name}: expected the warning `{}` (with a hint) at {:?}, got:\n{all}",
                    w.message, w.place
                ));
            }
        }
        for e in &expected {
            let found = errors.iter().any(|d| {
                d.message.contains(&e.message) && d.loc().map(|l| (l.line, l.col)) == e.place
            });
            if !found {
                failures.push(format!(
                    "{name}: expected `{}` at {:?}, got:\n{shown}",
                    e.message, e.place
                ));
            }
            if !errors.iter().all(|d| d.hint.is_some()) {
                failures.push(format!("{name}: an error without a hint:\n{shown}"));
            }
        }
        if errors.len() != expected.len() {
            failures.push(format!(
                "{name}: expected {} error(s), got {}:\n{shown}",
                expected.len(),
                errors.len()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
