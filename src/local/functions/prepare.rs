//! From a deployment package to a command that starts its `bootstrap` on
//! this machine: unpacked once per package hash, and run natively or
//! through qemu-user when it is built for the other architecture.

use crate::artifact::elf::{self, ElfError};
use crate::artifact::unzip::{UnzipError, ZipReader};
use crate::local::template::FunctionSpec;
use std::ffi::{OsStr, OsString};
use std::io::Read as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const BOOTSTRAP: &str = "bootstrap";

/// How to start one function's `bootstrap`, and the folder it runs in
/// (Lambda's `LAMBDA_TASK_ROOT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub task_root: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot unpack the package `{path}`: {source}")]
    Unzip {
        path: PathBuf,
        #[source]
        source: UnzipError,
    },
    #[error("cannot write `{path}`: {message}")]
    Write { path: PathBuf, message: String },
    #[error("the `bootstrap` of function `{function}` is not a 64-bit ELF executable ({source}); build it with `stackctl build`")]
    NotAnExecutable {
        function: String,
        #[source]
        source: ElfError,
    },
    #[error("the `bootstrap` of function `{function}` is for ELF machine {machine}, which Lambda does not run")]
    UnknownMachine { function: String, machine: u16 },
    #[error("function `{function}` is declared `{declared}` in the template, but its package is built for {built}: build it again")]
    WrongArchitecture {
        function: String,
        declared: String,
        built: &'static str,
    },
    #[error("function `{function}` is built for {architecture} and this machine is {host}, and `{emulator}` is not on PATH\nhint: install qemu-user (it provides `{emulator}`) to run it here, or build it for this machine with `architecture: {host}` in the stack file")]
    NeedsEmulator {
        function: String,
        architecture: &'static str,
        host: &'static str,
        emulator: &'static str,
    },
}

/// Unpacks the package's `bootstrap` to `cache_dir/<sha256 of the
/// zip>/bootstrap` (mode 0755) and returns its path; an unpacked copy of the
/// same package is reused.
pub fn prepare_bootstrap(package_zip: &Path, cache_dir: &Path) -> Result<PathBuf, PrepareError> {
    let zip = std::fs::read(package_zip).map_err(|source| PrepareError::Read {
        path: package_zip.to_path_buf(),
        source,
    })?;
    let unzip_error = |source| PrepareError::Unzip {
        path: package_zip.to_path_buf(),
        source,
    };
    let reader = ZipReader::new(&zip).map_err(unzip_error)?;
    let entry = reader
        .entries()
        .iter()
        .find(|e| e.name == BOOTSTRAP)
        .ok_or_else(|| unzip_error(UnzipError::Missing(BOOTSTRAP.into())))?;
    let target = cache_dir
        .join(crate::artifact::sha256(&zip).hex)
        .join(BOOTSTRAP);
    if is_unpacked(&target, entry.size) {
        return Ok(target);
    }
    let executable = reader.read(BOOTSTRAP).map_err(unzip_error)?;
    let write_error = |message: String| PrepareError::Write {
        path: target.clone(),
        message,
    };
    // Readers see the whole file or none; the mode follows at once, and a
    // copy left without it is simply unpacked again.
    crate::atomic_file::write_atomically(&target, &executable)
        .map_err(|e| write_error(format!("{e:#}")))?;
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| write_error(e.to_string()))?;
    Ok(target)
}

fn is_unpacked(target: &Path, size: u64) -> bool {
    std::fs::metadata(target)
        .is_ok_and(|m| m.is_file() && m.len() == size && m.permissions().mode() & 0o111 != 0)
}

/// The command that runs `bootstrap` for `function`: itself when it is
/// built for this machine, else through qemu-user from PATH.
pub fn launch_command(
    function: &FunctionSpec,
    bootstrap: &Path,
) -> Result<BootstrapCommand, PrepareError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    launch_command_with(function, bootstrap, std::env::consts::ARCH, &path)
}

fn launch_command_with(
    function: &FunctionSpec,
    bootstrap: &Path,
    host_arch: &str,
    search_path: &OsStr,
) -> Result<BootstrapCommand, PrepareError> {
    let built = built_for(function, bootstrap)?;
    if built != function.architecture {
        return Err(PrepareError::WrongArchitecture {
            function: function.logical_id.clone(),
            declared: function.architecture.clone(),
            built,
        });
    }
    let task_root = bootstrap.parent().unwrap_or(Path::new(".")).to_path_buf();
    let host = lambda_architecture(host_arch);
    if built == host {
        return Ok(BootstrapCommand {
            program: bootstrap.to_path_buf(),
            args: Vec::new(),
            task_root,
        });
    }
    let emulator = if built == "arm64" {
        "qemu-aarch64"
    } else {
        "qemu-x86_64"
    };
    let program = find_on_path(emulator, search_path).ok_or(PrepareError::NeedsEmulator {
        function: function.logical_id.clone(),
        architecture: built,
        host,
        emulator,
    })?;
    Ok(BootstrapCommand {
        program,
        args: vec![bootstrap.as_os_str().to_owned()],
        task_root,
    })
}

/// Lambda's name (`x86_64`, `arm64`) of the architecture `bootstrap` is for.
fn built_for(function: &FunctionSpec, bootstrap: &Path) -> Result<&'static str, PrepareError> {
    let mut header = Vec::with_capacity(64);
    std::fs::File::open(bootstrap)
        .and_then(|file| file.take(64).read_to_end(&mut header))
        .map_err(|source| PrepareError::Read {
            path: bootstrap.to_path_buf(),
            source,
        })?;
    let machine = elf::machine(&header).map_err(|source| PrepareError::NotAnExecutable {
        function: function.logical_id.clone(),
        source,
    })?;
    match machine {
        elf::MACHINE_X86_64 => Ok("x86_64"),
        elf::MACHINE_AARCH64 => Ok("arm64"),
        machine => Err(PrepareError::UnknownMachine {
            function: function.logical_id.clone(),
            machine,
        }),
    }
}

fn lambda_architecture(rust_arch: &str) -> &'static str {
    match rust_arch {
        "aarch64" => "arm64",
        "x86_64" => "x86_64",
        _ => "an architecture Lambda does not offer",
    }
}

fn find_on_path(program: &str, search_path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(search_path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests;
