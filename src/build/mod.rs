//! `stackctl build`: handler crates to Lambda packages.
//!
//! All crates for one architecture are built in one `cargo zigbuild`
//! invocation (zig links against glibc 2.17, so `bootstrap` runs on every
//! `provided.*` runtime). Each executable is checked (no glibc symbol newer
//! than Lambda's), zipped deterministically into a content-addressed store
//! (`.stackctl/artifacts/SHA256.zip`), and recorded in a manifest per stack
//! and environment (`.stackctl/builds/STACK-ENV.json`) that `render` and
//! `deploy` read. This module runs processes and touches files; the pure
//! parts live in `crate::artifact`.

mod cargo;
mod toolchain;

pub use toolchain::{Toolchain, ZIGBUILD_INSTALL_HINT};

/// The cargo profile handlers are built with (the workspace `Cargo.toml`):
/// release, except that a panic unwinds, so the Lambda runtime reports it
/// as the invocation's error and the process serves the next event,
/// instead of aborting the sandbox.
pub const LAMBDA_PROFILE: &str = "lambda";

use crate::artifact::{
    self, elf,
    manifest::{ArtifactRecord, Manifest},
};
use crate::model::{Architecture, StackDef};
use crate::validate::Valid;
use anyhow::{bail, Context as _};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One function to package.
#[derive(Debug, Clone)]
pub struct FunctionCode {
    pub stack: String,
    pub env: String,
    pub app: String,
    pub function: String,
    pub source: CodeSource,
    pub architecture: Architecture,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeSource {
    Crate(String),
    /// A prebuilt package, path resolved against the stack file's folder.
    Zip(PathBuf),
}

/// The functions of a stack in an environment that need packages.
pub fn functions_of(
    stack: &str,
    env: &str,
    def: &Valid<StackDef>,
    stack_dir: &Path,
) -> Vec<FunctionCode> {
    def.functions
        .iter()
        .filter_map(|(name, f)| {
            // Validation proved every function names its code.
            let source = match (&f.crate_name, &f.zip) {
                (Some(c), _) => CodeSource::Crate(c.clone()),
                (None, Some(z)) => CodeSource::Zip(stack_dir.join(&z.path)),
                (None, None) => return None,
            };
            Some(FunctionCode {
                stack: stack.to_string(),
                env: env.to_string(),
                app: def.name.clone(),
                function: name.clone(),
                source,
                architecture: f
                    .architecture
                    .or(def.function_defaults.architecture)
                    .unwrap_or(Architecture::X86_64),
            })
        })
        .collect()
}

/// The packages of the Cargo workspace at `workspace` that have a binary,
/// for `validate` to check the crates functions name; `None` (not checked)
/// when there is no workspace there or cargo cannot read it.
pub fn workspace_crates(workspace: &Path) -> Option<BTreeSet<String>> {
    if !workspace.join("Cargo.toml").is_file() {
        return None;
    }
    let binaries = cargo::workspace_binaries(workspace).ok()?;
    Some(binaries.into_keys().collect())
}

/// The prebuilt packages a stack names that exist, by the path the stack
/// file writes (relative to its folder).
pub fn existing_zips(source: &crate::load::StackSource) -> BTreeSet<String> {
    let folder = Path::new(&source.file.name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    source
        .zip_paths()
        .into_iter()
        .filter(|path| folder.join(path).is_file())
        .collect()
}

/// Where build outputs go.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `.stackctl` in the project.
    pub root: PathBuf,
}

impl Layout {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Layout { root: root.into() }
    }
    pub fn artifacts(&self) -> PathBuf {
        self.root.join("artifacts")
    }
    pub fn manifest(&self, stack: &str, env: &str) -> PathBuf {
        self.root.join("builds").join(format!("{stack}-{env}.json"))
    }
    /// The manifest of the last build of a stack in an environment, if any.
    pub fn read_manifest(&self, stack: &str, env: &str) -> anyhow::Result<Option<Manifest>> {
        let path = self.manifest(stack, env);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(serde_json::from_str(&text).with_context(|| {
                format!(
                    "`{}` is not a build manifest; delete it and run `stackctl build`",
                    path.display()
                )
            })?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read `{}`", path.display())),
        }
    }
}

/// What happened to each function, for the caller to report.
#[derive(Debug, Clone)]
pub struct Packaged {
    pub code: FunctionCode,
    pub record: ArtifactRecord,
}

/// Progress reports while building (the CLI turns them into bars or lines).
pub trait Progress {
    fn compiling(&self, target: &str, crates: &[String]);
    fn compiler_line(&self, line: &str);
    fn packaged(&self, p: &Packaged);
}

/// Builds and packages every function of `functions`, writing one manifest
/// per (stack, env).
/// `toolchain` is needed only when a function names a crate.
pub fn build(
    functions: &[FunctionCode],
    toolchain: Option<&Toolchain>,
    workspace: &Path,
    layout: &Layout,
    progress: &dyn Progress,
) -> anyhow::Result<Vec<Packaged>> {
    let mut by_triple: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for f in functions {
        if let CodeSource::Crate(c) = &f.source {
            by_triple
                .entry(triple(f.architecture))
                .or_default()
                .insert(c.clone());
        }
    }
    let packages = if by_triple.is_empty() {
        BTreeMap::new()
    } else {
        cargo::workspace_binaries(workspace)?
    };
    for crates in by_triple.values() {
        for c in crates {
            if !packages.contains_key(c) {
                let names: Vec<&str> = packages.keys().map(String::as_str).collect();
                let hint =
                    crate::diagnostic::suggestion(c, names.iter().copied()).unwrap_or_default();
                bail!("no crate `{c}` with a binary in the workspace; {hint}");
            }
        }
    }
    let mut executables: BTreeMap<(&'static str, String), PathBuf> = BTreeMap::new();
    for (triple, crates) in &by_triple {
        let toolchain = toolchain.context("building crates needs cargo-zigbuild")?;
        toolchain.require_target(triple)?;
        let crates: Vec<String> = crates.iter().cloned().collect();
        progress.compiling(triple, &crates);
        for (name, path) in cargo::zigbuild(toolchain, workspace, triple, &crates, progress)? {
            executables.insert((triple, name), path);
        }
    }
    std::fs::create_dir_all(layout.artifacts())
        .with_context(|| format!("cannot create `{}`", layout.artifacts().display()))?;
    let mut done = Vec::new();
    // The same executable serves every environment: zip it once per run.
    let mut zipped: BTreeMap<PathBuf, std::rc::Rc<Vec<u8>>> = BTreeMap::new();
    for f in functions {
        let (zip, source) = match &f.source {
            CodeSource::Crate(c) => {
                let exe = executables
                    .get(&(triple(f.architecture), c.clone()))
                    .with_context(|| format!("cargo built no executable for `{c}`"))?;
                let zip = match zipped.get(exe) {
                    Some(z) => z.clone(),
                    None => {
                        let bytes = std::fs::read(exe)
                            .with_context(|| format!("cannot read `{}`", exe.display()))?;
                        check_glibc(c, &bytes)?;
                        let z = std::rc::Rc::new(zip_once(layout, &bytes)?);
                        zipped.insert(exe.clone(), z.clone());
                        z
                    }
                };
                (zip, format!("crate {c}"))
            }
            CodeSource::Zip(path) => {
                let bytes = std::fs::read(path).with_context(|| {
                    format!("cannot read the prebuilt package `{}`", path.display())
                })?;
                if !bytes.starts_with(b"PK\x03\x04") {
                    bail!("`{}` is not a zip archive", path.display());
                }
                (std::rc::Rc::new(bytes), format!("zip {}", path.display()))
            }
        };
        let digests = artifact::sha256(&zip);
        let stored = layout.artifacts().join(format!("{}.zip", digests.hex));
        if !stored.exists() {
            crate::atomic_file::write_atomically(&stored, &zip)?;
        }
        let record = ArtifactRecord {
            key: artifact::artifact_key(&f.app, &f.function, &digests.hex),
            sha256: digests.hex,
            code_sha256: digests.base64,
            size: zip.len() as u64,
            source,
            architecture: f.architecture.cloudformation().to_string(),
            path: stored.display().to_string(),
        };
        let p = Packaged {
            code: f.clone(),
            record,
        };
        progress.packaged(&p);
        done.push(p);
    }
    let mut manifests: BTreeMap<(String, String), Manifest> = BTreeMap::new();
    for p in &done {
        let m = manifests
            .entry((p.code.stack.clone(), p.code.env.clone()))
            .or_insert_with(|| Manifest {
                stack: p.code.stack.clone(),
                env: p.code.env.clone(),
                artifacts: BTreeMap::new(),
            });
        m.artifacts
            .insert(p.code.function.clone(), p.record.clone());
    }
    for ((stack, env), m) in manifests {
        crate::atomic_file::write_atomically(
            &layout.manifest(&stack, &env),
            serde_json::to_string_pretty(&m)?.as_bytes(),
        )?;
    }
    Ok(done)
}

/// The package of an executable. Zipping is deterministic, so an executable
/// zipped before (by its hash, in `.stackctl/zipped/`) reuses that package
/// instead of compressing 10+ MB again (the slow part of a no-change build).
fn zip_once(layout: &Layout, executable: &[u8]) -> anyhow::Result<Vec<u8>> {
    let memo = layout
        .root
        .join("zipped")
        .join(artifact::sha256(executable).hex);
    if let Some(zip) = std::fs::read_to_string(&memo)
        .ok()
        .and_then(|hex| std::fs::read(layout.artifacts().join(format!("{}.zip", hex.trim()))).ok())
    {
        return Ok(zip);
    }
    let zip = artifact::zip::bootstrap_zip(executable);
    let hex = artifact::sha256(&zip).hex;
    crate::atomic_file::write_atomically(&layout.artifacts().join(format!("{hex}.zip")), &zip)?;
    crate::atomic_file::write_atomically(&memo, hex.as_bytes())?;
    Ok(zip)
}

/// The target triple (with zig's glibc version) of an architecture.
pub fn triple(architecture: Architecture) -> &'static str {
    match architecture {
        Architecture::X86_64 => "x86_64-unknown-linux-gnu.2.17",
        Architecture::Arm64 => "aarch64-unknown-linux-gnu.2.17",
    }
}

fn check_glibc(krate: &str, executable: &[u8]) -> anyhow::Result<()> {
    let needs = elf::version_needs(executable)
        .with_context(|| format!("the executable of `{krate}` is not a Linux ELF binary"))?;
    if let Some(newest) = elf::newest_glibc(&needs) {
        if newest > elf::LAMBDA_GLIBC {
            bail!(
                "the executable of `{krate}` needs GLIBC_{}.{}, newer than Lambda's {}.{}; it was not linked by zig (is `cargo zigbuild` the one running?)",
                newest.0, newest.1, elf::LAMBDA_GLIBC.0, elf::LAMBDA_GLIBC.1
            );
        }
    }
    Ok(())
}
