//! `stackctl build`: resolve stacks, build their handlers, report; with
//! `--upload`, ship the packages to the artifact bucket.

use super::args::BuildArgs;
use super::exit;
use super::packages::{build_packages, functions_of_stacks, shipments, Reporter};
use super::settings::{connect, Settings};
use super::stacks::{declared_regions, load_stacks};
use super::ui::Ui;
use crate::build::Layout;
use crate::engine::artifacts::upload_reporting;
use std::time::Instant;

pub fn run(settings: &Settings, args: &BuildArgs, ui: &Ui) -> anyhow::Result<u8> {
    let (stacks, failures) = load_stacks(&settings.stacks_dir, &args.stacks, ui)?;
    if failures > 0 {
        return Ok(exit::FAILURE);
    }
    let Some(functions) = functions_of_stacks(&stacks, args.env.as_deref(), ui) else {
        return Ok(exit::FAILURE);
    };
    if functions.is_empty() {
        ui.line("nothing to build: the stacks declare no functions");
        return Ok(exit::OK);
    }
    // The bucket is per account and region: both known before the build.
    let aws = if args.upload {
        let declared: Vec<_> = stacks
            .iter()
            .flat_map(|s| {
                let envs: Vec<String> = match &args.env {
                    Some(env) => vec![env.clone()],
                    None => s.source.environments().map(String::from).collect(),
                };
                envs.into_iter()
                    .flat_map(|env| declared_regions(std::slice::from_ref(s), &env))
            })
            .collect();
        Some(connect(settings, &declared, true, ui)?)
    } else {
        None
    };
    let started = Instant::now();
    let reporter = Reporter::new(functions.len(), ui);
    let packaged = build_packages(settings, &functions, &reporter)?;
    let unique: std::collections::BTreeSet<&str> =
        packaged.iter().map(|p| p.record.sha256.as_str()).collect();
    reporter.line(&format!(
        "built {} packages ({} distinct) in {:.1?}; manifests in {}",
        packaged.len(),
        unique.len(),
        started.elapsed(),
        Layout::new(&settings.build_dir)
            .root
            .join("builds")
            .display()
    ));
    if let Some(aws) = aws {
        let store = aws.context.artifacts();
        let report = aws.runtime.block_on(async {
            if store.ensure_bucket().await? {
                reporter.line(&format!(
                    "created the artifact bucket {} (private, versioned, encrypted)",
                    store.bucket
                ));
            }
            upload_reporting(store, &shipments(&packaged), |key, sent| {
                reporter.line(&format!(
                    "{} {key}",
                    if sent { "uploaded" } else { "already there:" }
                ))
            })
            .await
        })?;
        reporter.line(&format!(
            "uploaded {} packages, {} already in s3://{}",
            report.uploaded.len(),
            report.already_there.len(),
            store.bucket
        ));
    }
    reporter.finish();
    Ok(exit::OK)
}
