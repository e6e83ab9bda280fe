//! Finding cargo-zigbuild (with zig) and the Rust targets it builds for.

use anyhow::{bail, Context as _};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const ZIGBUILD_INSTALL_HINT: &str = "python3 -m venv .tools/zigbuild && .tools/zigbuild/bin/pip install cargo-zigbuild==0.24.0 ziglang==0.17.1";

#[derive(Debug, Clone)]
pub struct Toolchain {
    /// The `cargo-zigbuild` executable.
    pub zigbuild: PathBuf,
    /// Folders put first on PATH when running it (where `python3 -m ziglang` works).
    pub path_prefix: Vec<PathBuf>,
}

impl Toolchain {
    /// `$STACKCTL_ZIGBUILD`, then `.tools/zigbuild/bin/cargo-zigbuild` under
    /// `project`, then `cargo-zigbuild` on PATH.
    pub fn find(project: &Path) -> anyhow::Result<Toolchain> {
        let candidates: Vec<PathBuf> = std::env::var_os("STACKCTL_ZIGBUILD")
            .map(PathBuf::from)
            .into_iter()
            .chain(std::iter::once(
                project.join(".tools/zigbuild/bin/cargo-zigbuild"),
            ))
            .chain(std::env::var_os("PATH").into_iter().flat_map(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join("cargo-zigbuild"))
                    .collect::<Vec<_>>()
            }))
            .collect();
        let Some(zigbuild) = candidates.into_iter().find(|p| p.is_file()) else {
            bail!("cargo-zigbuild is not installed; Lambda binaries are linked with zig so they run on Lambda's glibc\n  = hint: {ZIGBUILD_INSTALL_HINT}\n  (or set STACKCTL_ZIGBUILD to its path)");
        };
        // Absolute: cargo runs build scripts from other folders, where a
        // relative PATH entry would point nowhere.
        let zigbuild = zigbuild
            .canonicalize()
            .with_context(|| format!("cannot resolve `{}`", zigbuild.display()))?;
        let path_prefix = zigbuild
            .parent()
            .map(Path::to_path_buf)
            .into_iter()
            .collect();
        Ok(Toolchain {
            zigbuild,
            path_prefix,
        })
    }

    /// The PATH to run tools with.
    pub fn path_env(&self) -> std::ffi::OsString {
        let rest = std::env::var_os("PATH").unwrap_or_default();
        std::env::join_paths(
            self.path_prefix
                .iter()
                .cloned()
                .chain(std::env::split_paths(&rest)),
        )
        .unwrap_or(rest)
    }

    /// Fails with the command to run when the Rust target is not installed.
    pub fn require_target(&self, triple_with_glibc: &str) -> anyhow::Result<()> {
        let triple = rust_target(triple_with_glibc);
        let sysroot = Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .context("cannot run rustc")?;
        let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim().to_string());
        if !sysroot.join("lib/rustlib").join(triple).exists() {
            bail!("the Rust target `{triple}` is not installed, so functions with this architecture cannot be built\n  = hint: rustup target add {triple}");
        }
        Ok(())
    }
}

/// The Rust target of a zig triple: `x86_64-unknown-linux-gnu.2.17` → `x86_64-unknown-linux-gnu`.
pub fn rust_target(zig_triple: &str) -> &str {
    zig_triple.strip_suffix(".2.17").unwrap_or(zig_triple)
}

#[cfg(test)]
mod tests {
    #[test]
    fn zig_triples_name_the_rust_target() {
        assert_eq!(
            super::rust_target("aarch64-unknown-linux-gnu.2.17"),
            "aarch64-unknown-linux-gnu"
        );
        assert_eq!(
            super::rust_target("x86_64-unknown-linux-gnu"),
            "x86_64-unknown-linux-gnu"
        );
    }

    #[test]
    fn a_missing_target_says_how_to_install_it() {
        let t = super::Toolchain {
            zigbuild: "cargo-zigbuild".into(),
            path_prefix: vec![],
        };
        let e = t
            .require_target("riscv99-unknown-linux-gnu.2.17")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rustup target add riscv99-unknown-linux-gnu"),
            "{e}"
        );
        t.require_target("x86_64-unknown-linux-gnu.2.17")
            .expect("the host target is installed");
    }
}
