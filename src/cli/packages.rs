//! Building the handler crates of stacks into Lambda packages, with
//! progress: shared by `build`, `diff` and `deploy` (a diff shows code
//! changes as the new package keys they are).

use super::settings::Settings;
use super::stacks::LoadedStack;
use super::ui::Ui;
use crate::build::{self, Layout, Packaged, Progress, Toolchain};
use crate::engine::artifacts::Shipment;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::Path;

/// The functions of `stacks` in `env` (every environment when `None`);
/// `None` after reporting invalid definitions.
pub fn functions_of_stacks(
    stacks: &[LoadedStack],
    env: Option<&str>,
    ui: &Ui,
) -> Option<Vec<build::FunctionCode>> {
    let mut functions = Vec::new();
    let mut invalid = false;
    for stack in stacks {
        let envs: Vec<String> = match env {
            Some(e) => vec![e.to_string()],
            None => stack.source.environments().map(String::from).collect(),
        };
        let dir = Path::new(&stack.source.file.name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        for env in envs {
            let resolved = stack.source.resolve(&env);
            for d in &resolved.diagnostics {
                let _ = write!(ui.err(), "{}", d.render(&stack.source.file));
            }
            match resolved.valid_def() {
                Some(def) => functions.extend(build::functions_of(&stack.name, &env, def, &dir)),
                None => invalid = true,
            }
        }
    }
    if invalid {
        ui.error("fix the stack definitions above first", None);
        return None;
    }
    Some(functions)
}

/// Compiles (when a crate is named) and packages `functions`, writing manifests.
pub fn build_packages(
    settings: &Settings,
    functions: &[build::FunctionCode],
    reporter: &Reporter,
) -> anyhow::Result<Vec<Packaged>> {
    let compiles = functions
        .iter()
        .any(|f| matches!(f.source, build::CodeSource::Crate(_)));
    let toolchain = if compiles {
        Some(Toolchain::find(Path::new("."))?)
    } else {
        None
    };
    let workspace = std::env::current_dir()?;
    build::build(
        functions,
        toolchain.as_ref(),
        &workspace,
        &Layout::new(&settings.build_dir),
        reporter,
    )
}

/// What to upload for built packages.
pub fn shipments(packaged: &[Packaged]) -> Vec<Shipment> {
    packaged
        .iter()
        .map(|p| Shipment {
            key: p.record.key.clone(),
            path: p.record.path.clone().into(),
            sha256_base64: p.record.code_sha256.clone(),
        })
        .collect()
}

/// Progress: a bar on a terminal, timestamped plain lines otherwise (CI logs).
pub struct Reporter<'u, 'a> {
    bar: Option<ProgressBar>,
    ui: &'u Ui<'a>,
}

impl<'u, 'a> Reporter<'u, 'a> {
    pub fn new(total: usize, ui: &'u Ui<'a>) -> Self {
        let bar = ui.live_progress().then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
                )
                .expect("valid template"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Reporter { bar, ui }
    }

    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => self.ui.progress_line(text),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Reporter<'_, '_> {
    fn compiling(&self, target: &str, crates: &[String]) {
        self.line(&format!("compiling {} for {target}", crates.join(", ")));
        if let Some(bar) = &self.bar {
            bar.set_message(format!("compiling for {target}"));
        }
    }

    fn compiler_line(&self, line: &str) {
        let line = line.trim();
        match &self.bar {
            // On a terminal the bar shows the latest line; in logs, only problems.
            Some(bar) => bar.set_message(line.to_string()),
            None if line.starts_with("error") || line.starts_with("warning: unused") => {
                self.line(line)
            }
            None => {}
        }
    }

    fn packaged(&self, p: &Packaged) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        self.line(&format!(
            "packaged {}/{} ({}): {} ({:.1} MB, sha256 {})",
            p.code.stack,
            p.code.function,
            p.code.env,
            p.record.source,
            p.record.size as f64 / 1_048_576.0,
            &p.record.sha256[..12]
        ));
    }
}
