//! Exit codes, documented in README.md and `--help`. The lowest module of the crate: every
//! layer's error decides its own code from these.

pub const SUCCESS: i32 = 0;
/// AWS refused or could not be reached.
pub const UPSTREAM: i32 = 1;
/// Bad command line or configuration.
pub const USAGE: i32 = 2;
/// A login is needed and this run may not start one.
pub const LOGIN_REQUIRED: i32 = 3;
/// The credential store is unavailable or locked.
pub const STORE: i32 = 4;
/// Ctrl+C.
pub const INTERRUPTED: i32 = 130;
