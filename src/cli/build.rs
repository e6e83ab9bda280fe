//! `stackctl build`: resolve stacks, build, report.

use super::args::{BuildArgs, Cli};
use super::exit;
use super::stacks::load_stacks;
use crate::build::{self, Layout, Packaged, Progress, Toolchain};
use crate::engine::artifacts::{upload_reporting, S3Store, Shipment, UploadReport};
use crate::engine::session::{Session, SessionOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

pub fn run(cli: &Cli, args: &BuildArgs, err: &mut dyn Write) -> anyhow::Result<u8> {
    let (stacks, failures) = load_stacks(&cli.stacks_dir, &args.stacks, err)?;
    if failures > 0 {
        return Ok(exit::FAILURE);
    }
    let Some(functions) = functions_of_stacks(&stacks, args.env.as_deref(), err) else {
        return Ok(exit::FAILURE);
    };
    if functions.is_empty() {
        let _ = writeln!(err, "nothing to build: the stacks declare no functions");
        return Ok(exit::OK);
    }
    let started = Instant::now();
    let reporter = Reporter::new(functions.len());
    let packaged = build_packages(cli, &functions, &reporter)?;
    let unique: std::collections::BTreeSet<&str> =
        packaged.iter().map(|p| p.record.sha256.as_str()).collect();
    let _ = writeln!(
        err,
        "built {} packages ({} distinct) in {:.1?}; manifests in {}",
        packaged.len(),
        unique.len(),
        started.elapsed(),
        Layout::new(&cli.build_dir).root.join("builds").display()
    );
    if args.upload {
        let shipments: Vec<Shipment> = packaged
            .iter()
            .map(|p| Shipment {
                key: p.record.key.clone(),
                path: p.record.path.clone().into(),
                sha256_base64: p.record.code_sha256.clone(),
            })
            .collect();
        let report = upload_packages(&args.aws, &shipments, &reporter)?;
        let _ = writeln!(
            err,
            "uploaded {} packages, {} already in {}",
            report.1.uploaded.len(),
            report.1.already_there.len(),
            report.0
        );
    }
    reporter.finish();
    Ok(exit::OK)
}

/// The functions of `stacks` in `env` (every environment when `None`);
/// `None` after reporting invalid definitions.
pub(super) fn functions_of_stacks(
    stacks: &[super::stacks::LoadedStack],
    env: Option<&str>,
    err: &mut dyn Write,
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
                let _ = write!(err, "{}", d.render(&stack.source.file));
            }
            match resolved.valid_def() {
                Some(def) => functions.extend(build::functions_of(&stack.name, &env, def, &dir)),
                None => invalid = true,
            }
        }
    }
    if invalid {
        let _ = writeln!(err, "error: fix the stack definitions above first");
        return None;
    }
    Some(functions)
}

/// Compiles (when a crate is named) and packages `functions`, writing manifests.
pub(super) fn build_packages(
    cli: &Cli,
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
        &Layout::new(&cli.build_dir),
        reporter,
    )
}

/// Ships packages to the artifact bucket of the account and region in use.
fn upload_packages(
    aws: &super::args::AwsArgs,
    shipments: &[Shipment],
    reporter: &Reporter,
) -> anyhow::Result<(String, UploadReport)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let session = Session::load(&SessionOptions {
            profile: aws.profile.clone(),
            region: aws.region.clone(),
        })
        .await?;
        let store = S3Store::for_session(&session);
        if store.ensure_bucket().await? {
            reporter.line(&format!(
                "created the artifact bucket {} (private, versioned, encrypted)",
                store.bucket
            ));
        }
        let report = upload_reporting(&store, shipments, |key, sent| {
            reporter.line(&format!(
                "{} {key}",
                if sent { "uploaded" } else { "already there:" }
            ))
        })
        .await?;
        Ok((format!("s3://{}", store.bucket), report))
    })
}

/// Progress: a bar on a terminal, timestamped plain lines otherwise (CI logs).
pub(super) struct Reporter {
    bar: Option<ProgressBar>,
    started: Instant,
    err: Mutex<std::io::Stderr>,
}

impl Reporter {
    pub(super) fn new(total: usize) -> Self {
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = interactive.then(|| {
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
        Reporter {
            bar,
            started: Instant::now(),
            err: Mutex::new(std::io::stderr()),
        }
    }

    pub(super) fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let mut err = self.err.lock().expect("stderr lock");
                let _ = writeln!(
                    err,
                    "[{:>6.1}s] {text}",
                    self.started.elapsed().as_secs_f64()
                );
            }
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Reporter {
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
