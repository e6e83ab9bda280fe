//! The README's examples that can run here, run: each `$ stackctl …` block
//! in a ```text fence whose command is listed below is executed in the
//! folder named with it (with `NO_COLOR`), and its output must equal the
//! block. The deploy example is not among them: its timings and events come
//! from AWS.

use assert_cmd::Command;
use std::path::Path;

/// (the command as the README shows it, the folder it runs in, its exit code)
const RUNNABLE: [(&str, &str, i32); 1] = [("stackctl validate", "tests/readme", 1)];

#[test]
fn the_readme_examples_show_what_stackctl_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    for (command, folder, code) in RUNNABLE {
        let shown = example_output(&readme, command)
            .unwrap_or_else(|| panic!("the README has no `$ {command}` example"));
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        let output = Command::cargo_bin("stackctl")
            .expect("the stackctl binary")
            .args(&args)
            .current_dir(root.join(folder))
            .env("NO_COLOR", "1")
            .env_remove("CI")
            .output()
            .expect("run stackctl");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            printed.trim_end(),
            shown.trim_end(),
            "`{command}` in {folder} prints something else than the README shows"
        );
        assert_eq!(output.status.code(), Some(code), "exit code of `{command}`");
    }
}

/// The lines after `$ command` up to the end of its fence.
fn example_output(readme: &str, command: &str) -> Option<String> {
    let prompt = format!("$ {command}\n");
    let start = readme.find(&prompt)? + prompt.len();
    let end = readme[start..].find("```")? + start;
    Some(readme[start..end].to_string())
}

/// The README's list of references names every attribute each registry
/// kind gives, in the registry's order.
#[test]
fn the_readme_lists_every_reference_the_registry_gives() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let missing: Vec<String> = stackctl::kinds::KINDS
        .iter()
        .map(|kind| {
            let attributes: Vec<&str> = kind.attribute_names().collect();
            format!("`${{{}.NAME.{}}}`", kind.section, attributes.join("|"))
        })
        .filter(|listed| !readme.contains(listed.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "the README's references lack {missing:?}"
    );
}
