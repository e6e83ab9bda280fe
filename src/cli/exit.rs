//! Exit codes stackctl documents (README "Exit codes") and keeps.

/// Everything asked for was done and nothing was wrong (warnings allowed).
pub const OK: u8 = 0;
/// A stack definition has errors, or an operation failed or was refused.
pub const FAILURE: u8 = 1;
/// The command line was wrong (clap's own usage errors use this too).
pub const USAGE: u8 = 2;
/// `diff --exit-code`: the diff found changes. Distinct from [`USAGE`], so
/// a CI gate can tell "something would change" from "the call was wrong".
pub const CHANGES: u8 = 3;
/// `drift --exit-code`: a stack has drifted from its template. Distinct
/// from [`CHANGES`], so one CI step can tell both apart.
pub const DRIFTED: u8 = 4;
/// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;
