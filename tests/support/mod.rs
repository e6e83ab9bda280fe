//! Shared test support: project-local tools, installed on first use.
//!
//! Tests that need cfn-lint, checkov (and later the AWS emulator) install
//! them into `.tools/` with pinned versions and fail loudly when they cannot;
//! they never skip. A file lock serialises installs across test processes.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A Python tool in its own venv: `package==version`, the executable's name.
pub struct PythonTool {
    pub venv: &'static str,
    pub requirement: &'static str,
    pub executable: &'static str,
}

pub const CFN_LINT: PythonTool = PythonTool {
    venv: "cfn-lint",
    requirement: "cfn-lint==1.58.0",
    executable: "cfn-lint",
};
pub const CHECKOV: PythonTool = PythonTool {
    venv: "checkov",
    requirement: "checkov==3.3.30",
    executable: "checkov",
};
/// cargo-zigbuild with zig, for `stackctl build` (the path stackctl looks in).
pub const ZIGBUILD: PythonTool = PythonTool {
    venv: "zigbuild",
    requirement: "cargo-zigbuild==0.24.0 ziglang==0.17.1",
    executable: "cargo-zigbuild",
};

/// The path of the tool's executable, installing it first if needed.
pub fn ensure(tool: &PythonTool) -> PathBuf {
    let tools = std::env::var_os("STACKCTL_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools"));
    std::fs::create_dir_all(&tools).expect("create .tools");
    let venv = tools.join(tool.venv);
    let marker = venv.join(format!(".installed-{}", tool.requirement));
    let exe = venv.join("bin").join(tool.executable);
    if marker.exists() && exe.exists() {
        return exe;
    }
    let lock =
        std::fs::File::create(tools.join(format!("{}.lock", tool.venv))).expect("create lock file");
    lock.lock().expect("lock the tools folder");
    if !(marker.exists() && exe.exists()) {
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        run(
            Command::new(&python)
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
            &format!("create a venv for {} with {python}", tool.requirement),
        );
        run(
            Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .args(tool.requirement.split_whitespace()),
            &format!("pip install {} (PyPI must be reachable)", tool.requirement),
        );
        assert!(
            exe.exists(),
            "{} installed but {} is missing",
            tool.requirement,
            exe.display()
        );
        std::fs::write(&marker, b"").expect("write install marker");
    }
    lock.unlock().expect("unlock");
    exe
}

fn run(cmd: &mut Command, what: &str) {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot {what}: {e}"));
    assert!(
        output.status.success(),
        "cannot {what}:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every seed stack name, as in `stacks/NAME.yaml`.
pub const SEED_STACKS: [&str; 4] = [
    "cloud-platform",
    "ebay-sniper",
    "fleet-console",
    "guitar-collection",
];
/// Example stacks, as in `examples/NAME.yaml`.
pub const EXAMPLE_STACKS: [&str; 9] = [
    "minimal",
    "rest-lambda-authorizer",
    "scheduled-report",
    "function-url",
    "event-rule-consumer",
    "queue-worker",
    "stream-consumer",
    "secret-rotation",
    "external-resources",
];

/// Every stack the tests render: (folder, name).
pub fn all_stacks() -> Vec<(&'static str, &'static str)> {
    SEED_STACKS
        .iter()
        .map(|s| ("stacks", *s))
        .chain(EXAMPLE_STACKS.iter().map(|s| ("examples", *s)))
        .collect()
}
pub const ENVIRONMENTS: [&str; 3] = ["dev", "staging", "prod"];

/// Renders a seed stack for an environment through the library, as YAML.
pub fn render_seed(stack: &str, env: &str) -> String {
    render_stack("stacks", stack, env)
}

/// Renders `DIR/NAME.yaml` for an environment through the library, as YAML.
pub fn render_stack(dir: &str, stack: &str, env: &str) -> String {
    use stackctl::load::StackSource;
    use stackctl::pipeline::{render_environment, Outcome};
    use stackctl::render::{to_yaml, Renderer, TemplateSet};
    let path = repo_root().join(dir).join(format!("{stack}.yaml"));
    let text = std::fs::read_to_string(&path).expect("stack file");
    let source = StackSource::parse(stackctl::source::SourceFile {
        name: format!("{dir}/{stack}.yaml"),
        text,
    })
    .unwrap_or_else(|(_, d)| panic!("{stack} does not parse: {d:?}"));
    let renderer = Renderer::new(&TemplateSet::builtin()).expect("templates compile");
    match render_environment(&source, env, &renderer, &Default::default()).expect("renders") {
        Outcome::Rendered {
            template, warnings, ..
        } => {
            assert!(
                warnings.is_empty(),
                "{stack} ({env}) has warnings: {warnings:#?}"
            );
            to_yaml(&template)
        }
        Outcome::Invalid(d) => panic!(
            "{stack} ({env}) is invalid:\n{}",
            d.iter().map(|d| d.render(&source.file)).collect::<String>()
        ),
    }
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path
}
#[allow(dead_code)]
/// A stack file whose functions ship the package `stand_in` (a zip)
/// instead of building their handler crates: for the tests of what is
/// deployed around the code, which should not wait for a compiler.
pub fn with_stand_in_package(stack_text: &str, stand_in: &Path) -> String {
    stack_text
        .lines()
        .map(|l| match l.trim_start().strip_prefix("crate: ") {
            Some(_) => format!(
                "{}zip: {{path: \"{}\"}}\n",
                &l[..l.len() - l.trim_start().len()],
                stand_in.display()
            ),
            None => format!("{l}\n"),
        })
        .collect()
}

pub mod fake_cloudformation;
pub mod in_process;
pub mod local;
pub mod moto;
#[allow(dead_code)]
pub mod readback;
pub mod sniper;
pub mod standin;
