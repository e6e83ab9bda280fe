//! Finding and reading stack files and template overrides.

use super::settings::DeclaredRegion;
use super::ui::Ui;
use crate::diagnostic::suggestion;
use crate::load::StackSource;
use crate::source::SourceFile;
use anyhow::Context as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub struct LoadedStack {
    /// The stack file's name without extension, as in `stackctl render NAME`.
    pub name: String,
    pub source: StackSource,
}

/// Stack files named by the user, or every one in `dir`.
fn stack_paths(dir: &Path, wanted: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    let available = || -> anyhow::Result<Vec<PathBuf>> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| {
                format!(
                    "cannot read the stacks folder `{}` (set another with --stacks-dir)",
                    dir.display()
                )
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .collect();
        paths.sort();
        Ok(paths)
    };
    if wanted.is_empty() {
        let paths = available()?;
        anyhow::ensure!(
            !paths.is_empty(),
            "there are no stack files (*.yaml) in `{}`",
            dir.display()
        );
        return Ok(paths);
    }
    wanted
        .iter()
        .map(|w| {
            let as_path = PathBuf::from(w);
            if w.ends_with(".yaml") || w.ends_with(".yml") || w.contains('/') {
                anyhow::ensure!(as_path.is_file(), "there is no stack file `{w}`");
                return Ok(as_path);
            }
            for ext in ["yaml", "yml"] {
                let p = dir.join(format!("{w}.{ext}"));
                if p.is_file() {
                    return Ok(p);
                }
            }
            let names: Vec<String> = available()
                .unwrap_or_default()
                .iter()
                .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .collect();
            let hint = suggestion(w, names.iter().map(String::as_str)).unwrap_or_default();
            anyhow::bail!("there is no stack `{w}` in `{}`; {hint}", dir.display())
        })
        .collect()
}

/// Reads and parses stacks; files that do not parse are reported and
/// counted in the second value.
pub fn load_stacks(
    dir: &Path,
    wanted: &[String],
    ui: &Ui,
) -> anyhow::Result<(Vec<LoadedStack>, usize)> {
    let mut stacks = Vec::new();
    let mut failures = 0;
    for path in stack_paths(dir, wanted)? {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match StackSource::parse(SourceFile {
            name: path.display().to_string(),
            text,
        }) {
            Ok(source) => stacks.push(LoadedStack { name, source }),
            Err((file, problems)) => {
                failures += 1;
                for d in problems {
                    let _ = write!(ui.err(), "{}", d.render(&file));
                }
            }
        }
    }
    Ok((stacks, failures))
}

/// How one named stack deploys in `env`; `None` after reporting why the
/// definition cannot say (it does not parse, or lacks the environment).
pub fn deployment_of(
    dir: &Path,
    stack: &str,
    env: &str,
    ui: &Ui,
) -> anyhow::Result<Option<crate::plan::Deployment>> {
    let (stacks, failures) = load_stacks(dir, &[stack.to_string()], ui)?;
    let Some(stack) = stacks.first().filter(|_| failures == 0) else {
        return Ok(None);
    };
    let resolved = stack.source.resolve(env);
    let Some(def) = resolved.def() else {
        for d in &resolved.diagnostics {
            let _ = write!(ui.err(), "{}", d.render(&stack.source.file));
        }
        return Ok(None);
    };
    Ok(Some(crate::plan::deployment(def, env)))
}

/// `*.yaml` files of a templates folder, by name without extension.
pub fn read_template_overrides(dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the templates folder `{}`", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) == Some("yaml") {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            found.insert(
                name,
                std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read `{}`", path.display()))?,
            );
        }
    }
    Ok(found)
}

/// The region each stack declares in `env`, known before anything is built
/// (a definition that does not resolve declares none; it is reported later).
pub fn declared_regions(stacks: &[LoadedStack], env: &str) -> Vec<DeclaredRegion> {
    stacks
        .iter()
        .filter_map(|s| {
            let resolved = s.source.resolve(env);
            let def = resolved.def()?;
            Some(DeclaredRegion {
                stack: format!("{}-{env}", def.name),
                region: def.region.clone(),
            })
        })
        .collect()
}
