use super::*;
use crate::artifact::zip::{bootstrap_zip, deterministic_zip, Entry};
use crate::local::functions::tests::spec;

/// The first bytes of an ELF executable for `machine`, and a body.
fn elf_for(machine: u16) -> Vec<u8> {
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.resize(64, 0);
    elf[0x12..0x14].copy_from_slice(&machine.to_le_bytes());
    elf.extend((0..10_000u32).map(|i| (i % 7) as u8));
    elf
}

fn write_package(dir: &Path, zip: &[u8]) -> PathBuf {
    let path = dir.join("package.zip");
    std::fs::write(&path, zip).unwrap();
    path
}

#[test]
fn unpacks_bootstrap_once_per_package_hash_as_an_executable() {
    let dir = tempfile::tempdir().unwrap();
    let zip = bootstrap_zip(&elf_for(elf::MACHINE_X86_64));
    let package = write_package(dir.path(), &zip);
    let cache = dir.path().join("cache");
    let bootstrap = prepare_bootstrap(&package, &cache).unwrap();
    let sha = crate::artifact::sha256(&zip).hex;
    assert_eq!(bootstrap, cache.join(&sha).join("bootstrap"));
    assert_eq!(
        std::fs::read(&bootstrap).unwrap(),
        elf_for(elf::MACHINE_X86_64)
    );
    let mode = std::fs::metadata(&bootstrap).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);

    // A copy already there is reused, not written again.
    let mut marked = elf_for(elf::MACHINE_X86_64);
    marked[100] ^= 1;
    std::fs::write(&bootstrap, &marked).unwrap();
    assert_eq!(prepare_bootstrap(&package, &cache).unwrap(), bootstrap);
    assert_eq!(std::fs::read(&bootstrap).unwrap(), marked);

    // One left without its mode (a crash between write and chmod) is redone.
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o644)).unwrap();
    prepare_bootstrap(&package, &cache).unwrap();
    assert_eq!(
        std::fs::read(&bootstrap).unwrap(),
        elf_for(elf::MACHINE_X86_64)
    );
    let leftovers = std::fs::read_dir(cache.join(&sha)).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file left behind");
}

#[test]
fn a_package_without_bootstrap_or_not_a_zip_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let other = deterministic_zip(&mut [Entry {
        name: "main",
        data: b"x",
        mode: 0o755,
    }]);
    let package = write_package(dir.path(), &other);
    let error = prepare_bootstrap(&package, &cache).unwrap_err();
    assert!(
        matches!(&error, PrepareError::Unzip { source: UnzipError::Missing(name), .. } if name == "bootstrap"),
        "{error}"
    );
    let package = write_package(dir.path(), b"not a zip");
    assert!(matches!(
        prepare_bootstrap(&package, &cache),
        Err(PrepareError::Unzip {
            source: UnzipError::NotZip,
            ..
        })
    ));
    let missing = dir.path().join("nothing.zip");
    assert!(matches!(
        prepare_bootstrap(&missing, &cache),
        Err(PrepareError::Read { .. })
    ));
}

fn unpacked(dir: &Path, machine: u16) -> PathBuf {
    let path = dir.join("task").join("bootstrap");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, elf_for(machine)).unwrap();
    path
}

/// The command for function `Api` declared for `declared`, with no PATH.
fn launch(declared: &str, bootstrap: &Path, host: &str) -> Result<BootstrapCommand, PrepareError> {
    launch_command_with(&spec("Api", declared), bootstrap, host, OsStr::new(""))
}

#[test]
fn a_bootstrap_for_this_machine_runs_as_it_is_in_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = unpacked(dir.path(), elf::MACHINE_X86_64);
    let command = launch("x86_64", &bootstrap, "x86_64").unwrap();
    assert_eq!(
        command,
        BootstrapCommand {
            program: bootstrap.clone(),
            args: vec![],
            task_root: dir.path().join("task")
        }
    );
}

#[test]
fn another_architecture_runs_through_qemu_or_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = unpacked(dir.path(), elf::MACHINE_AARCH64);
    let error = launch_command_with(
        &spec("Api", "arm64"),
        &bootstrap,
        "x86_64",
        OsStr::new("/nonexistent"),
    )
    .unwrap_err();
    let message = error.to_string();
    for part in [
        "`Api`",
        "arm64",
        "x86_64",
        "qemu-aarch64",
        "qemu-user",
        "architecture: x86_64",
    ] {
        assert!(message.contains(part), "{part} in {message}");
    }
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let qemu = bin.join("qemu-aarch64");
    std::fs::write(&qemu, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&qemu, std::fs::Permissions::from_mode(0o755)).unwrap();
    let search = std::env::join_paths(["/nonexistent".as_ref(), bin.as_path()]).unwrap();
    let command =
        launch_command_with(&spec("Api", "arm64"), &bootstrap, "x86_64", &search).unwrap();
    assert_eq!(command.program, qemu);
    assert_eq!(command.args, vec![bootstrap.as_os_str().to_owned()]);

    let x86 = unpacked(&dir.path().join("x"), elf::MACHINE_X86_64);
    let error = launch("x86_64", &x86, "aarch64").unwrap_err();
    assert!(error.to_string().contains("qemu-x86_64"), "{error}");
}

#[test]
fn a_package_that_is_not_what_the_template_declares_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let arm = unpacked(dir.path(), elf::MACHINE_AARCH64);
    let error = launch("x86_64", &arm, "x86_64").unwrap_err();
    assert!(
        matches!(
            &error,
            PrepareError::WrongArchitecture { built: "arm64", .. }
        ),
        "{error}"
    );
    let arm32 = unpacked(&dir.path().join("a"), 40);
    let error = launch("x86_64", &arm32, "x86_64").unwrap_err();
    assert!(matches!(
        error,
        PrepareError::UnknownMachine { machine: 40, .. }
    ));
    let script = dir.path().join("script");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    let error = launch("x86_64", &script, "x86_64").unwrap_err();
    assert!(matches!(error, PrepareError::NotAnExecutable { .. }));
}
