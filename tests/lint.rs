//! Every rendered seed and example template passes cfn-lint (no errors, no warnings) and
//! checkov (every failed check fixed, or skipped in the template with a reason).

mod support;

use std::process::Command;
use support::{
    all_stacks, ensure, render_seed, render_stack, write, CFN_LINT, CHECKOV, ENVIRONMENTS,
};

fn rendered_seeds() -> (tempfile::TempDir, Vec<std::path::PathBuf>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    for (folder, stack) in all_stacks() {
        for env in ENVIRONMENTS {
            files.push(write(
                dir.path(),
                &format!("{stack}-{env}.yaml"),
                &render_stack(folder, stack, env),
            ));
        }
    }
    let renderer =
        stackctl::render::Renderer::new(&stackctl::render::TemplateSet::builtin()).unwrap();
    let account = stackctl::plan::account::account_settings_template(&renderer).unwrap();
    files.push(write(
        dir.path(),
        "stackctl-account-settings.yaml",
        &stackctl::render::to_yaml(&account),
    ));
    (dir, files)
}

#[test]
fn cfn_lint_reports_nothing_on_any_seed_template() {
    let cfn_lint = ensure(&CFN_LINT);
    let (_dir, files) = rendered_seeds();
    let output = Command::new(&cfn_lint)
        .args(["--format", "json", "--"])
        .args(&files)
        .output()
        .expect("run cfn-lint");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let findings: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "cfn-lint output is not JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let findings = findings.as_array().expect("a list of findings");
    assert!(
        findings.is_empty(),
        "cfn-lint found {} problems:\n{}",
        findings.len(),
        serde_json::to_string_pretty(findings).unwrap()
    );
    assert!(
        output.status.success(),
        "cfn-lint exited with {}",
        output.status
    );
}

#[test]
fn cfn_lint_catches_a_broken_template() {
    // Proves the lint test above can fail: the same harness on a bad template.
    let cfn_lint = ensure(&CFN_LINT);
    let dir = tempfile::tempdir().unwrap();
    let broken = render_seed("guitar-collection", "dev")
        .replace("BillingMode: PAY_PER_REQUEST", "BillingMode: SOMETIMES");
    let file = write(dir.path(), "broken.yaml", &broken);
    let output = Command::new(&cfn_lint)
        .args(["--format", "json", "--"])
        .arg(&file)
        .output()
        .expect("run cfn-lint");
    let findings: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(!findings.as_array().unwrap().is_empty());
}

#[test]
fn checkov_passes_every_seed_template() {
    let checkov = ensure(&CHECKOV);
    let (dir, _files) = rendered_seeds();
    let output = Command::new(&checkov)
        .args([
            "--skip-download",
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--quiet",
            "-d",
        ])
        .arg(dir.path())
        .output()
        .expect("run checkov");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "checkov output is not JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let reports: Vec<serde_json::Value> = match report {
        serde_json::Value::Array(items) => items,
        single => vec![single],
    };
    let mut failed = Vec::new();
    let mut passed = 0;
    for r in &reports {
        passed += r["summary"]["passed"].as_u64().unwrap_or(0);
        for f in r["results"]["failed_checks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            failed.push(format!(
                "{} {} in {}",
                f["check_id"], f["resource"], f["file_path"]
            ));
        }
    }
    assert!(
        passed > 500,
        "checkov passed only {passed} checks; did it scan the templates?\n{stdout}"
    );
    assert!(
        failed.is_empty(),
        "checkov failed checks:\n{}",
        failed.join("\n")
    );
}
