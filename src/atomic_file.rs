//! Writing files so that readers see the old content or the new, never half
//! of either: a temporary file beside the target, then a rename. Used by the
//! build (packages, manifests) and by the CLI (templates, outputs files).

use anyhow::Context as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` through a temporary file and a rename, creating
/// the parent folder when needed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    let tmp = temporary_path(path);
    let written = std::fs::write(&tmp, bytes)
        .with_context(|| format!("cannot write `{}`", tmp.display()))
        .and_then(|()| {
            std::fs::rename(&tmp, path)
                .with_context(|| format!("cannot move `{}` into place", path.display()))
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A temporary name no other writer uses: two processes (the process id)
/// or two threads of one (a counter) writing the same target each get
/// their own, so neither renames the other's half-written file.
fn temporary_path(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(
        ".{file}.{}.{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_writers_of_one_file_use_distinct_temporary_files() {
        let target = Path::new("/x/manifest.json");
        let (a, b) = (temporary_path(target), temporary_path(target));
        assert_ne!(a, b);
        assert_eq!(
            a.parent(),
            target.parent(),
            "beside the target, so the rename stays on one file system"
        );
    }

    #[test]
    fn many_threads_writing_one_file_leave_one_whole_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/target.txt");
        std::thread::scope(|s| {
            for i in 0..8u8 {
                let path = &path;
                s.spawn(move || write_atomically(path, &vec![b'a' + i; 10_000]).unwrap());
            }
        });
        let content = std::fs::read(&path).unwrap();
        assert_eq!(content.len(), 10_000);
        assert!(
            content.iter().all(|c| *c == content[0]),
            "one writer's content, whole"
        );
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }
}
