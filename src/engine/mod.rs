//! Everything that talks to AWS, behind narrow interfaces so tests can
//! script the answers. The core (model … check) never reaches here.

pub mod account;
pub mod artifacts;
pub mod deploy;
pub mod session;
pub mod stacks;
pub mod validation;
pub mod watch;
pub mod waves;
