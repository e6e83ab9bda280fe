//! The local stand-in for eBay and Postmark (`scripts/standins/ebay_postmark.py`),
//! which the bid sniper's contract tests start, holds to its own self-test
//! (tier `tier-emulator`: it needs Python, as the emulator does; `PYTHON`
//! names the interpreter, `python3` by default).

use std::process::Command;

#[test]
fn the_ebay_and_postmark_stand_in_passes_its_self_test() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(&python)
        .arg("scripts/standins/test_ebay_postmark.py")
        .current_dir(root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (install Python 3.11 or set PYTHON): {e}"));
    assert!(
        out.status.success(),
        "the stand-in's self-test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
