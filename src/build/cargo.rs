//! Talking to cargo: which crates have binaries, and building them.

use super::{Progress, Toolchain, LAMBDA_PROFILE};
use anyhow::{bail, Context as _};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Workspace packages that have a binary target, by package name.
pub fn workspace_binaries(workspace: &Path) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let out = Command::new("cargo")
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace)
        .output()
        .context("cannot run `cargo metadata`")?;
    if !out.status.success() {
        bail!(
            "`cargo metadata` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)
        .context("`cargo metadata` printed something other than JSON")?;
    let mut found = BTreeMap::new();
    for p in meta["packages"].as_array().into_iter().flatten() {
        let has_bin = p["targets"].as_array().into_iter().flatten().any(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        });
        if has_bin {
            found.insert(
                p["name"].as_str().unwrap_or_default().to_string(),
                PathBuf::from(p["manifest_path"].as_str().unwrap_or_default()),
            );
        }
    }
    Ok(found)
}

/// One `cargo zigbuild --profile lambda` for `crates`; returns each crate's executable.
pub fn zigbuild(
    toolchain: &Toolchain,
    workspace: &Path,
    triple: &str,
    crates: &[String],
    progress: &dyn Progress,
) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut cmd = Command::new(&toolchain.zigbuild);
    cmd.args([
        "zigbuild",
        "--profile",
        LAMBDA_PROFILE,
        "--locked",
        "--target",
        triple,
        "--message-format=json-render-diagnostics",
    ]);
    for c in crates {
        cmd.args(["-p", c]);
    }
    cmd.current_dir(workspace)
        .env("PATH", toolchain.path_env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // cargo-zigbuild rewrites its zig wrapper scripts in a shared cache on
    // every run; two runs at once can trip over each other's half-written
    // wrapper. One stackctl build at a time per machine (cargo would
    // serialise the compiling anyway).
    let lock_path = std::env::temp_dir().join("stackctl-zigbuild.lock");
    let lock = std::fs::File::create(&lock_path)
        .with_context(|| format!("cannot create `{}`", lock_path.display()))?;
    if lock.try_lock().is_err() {
        progress.compiler_line("waiting for another stackctl build to finish");
        lock.lock()
            .with_context(|| format!("cannot lock `{}`", lock_path.display()))?;
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run `{}`", toolchain.zigbuild.display()))?;
    let stderr = child.stderr.take().expect("piped");
    // Compiler output streams to the user as it comes.
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let stdout = child.stdout.take().expect("piped");
    let stdout_lines = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let mut tail: Vec<String> = Vec::new();
    for line in lines_rx {
        progress.compiler_line(&line);
        tail.push(line);
        if tail.len() > 60 {
            tail.remove(0);
        }
    }
    reader.join().ok();
    let messages = stdout_lines.join().unwrap_or_default();
    let status = child.wait().context("waiting for cargo zigbuild")?;
    if !status.success() {
        bail!(
            "building {} for {triple} failed:\n{}",
            crates.join(", "),
            tail.join("\n")
        );
    }
    let mut executables = Vec::new();
    for m in messages
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
    {
        if m["reason"] == "compiler-artifact" {
            if let (Some(exe), Some(id)) = (m["executable"].as_str(), m["package_id"].as_str()) {
                let name = m["target"]["name"].as_str().unwrap_or_default().to_string();
                if crates.contains(&name)
                    || crates
                        .iter()
                        .any(|c| id.contains(&format!("#{c}@")) || id.contains(&format!("/{c}#")))
                {
                    executables.push((name, PathBuf::from(exe)));
                }
            }
        }
    }
    for c in crates {
        if !executables.iter().any(|(n, _)| n == c) {
            bail!("`cargo zigbuild` reported no executable for `{c}` (its binary must be named after the crate, the default for src/main.rs)");
        }
    }
    Ok(executables)
}
