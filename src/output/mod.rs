//! Output: handing credentials to the user — as shell assignments (`env`), as a child's
//! environment (`exec`, `shell`), or as a caller-identity report (`whoami`). Output never calls a
//! provider; it receives credentials that were already resolved.

pub mod aws_config;
pub mod container;
pub mod env;
pub mod exec;
pub mod list;
pub mod matrix;
pub mod shell;
pub mod supervise;
mod vars;
pub mod whoami;

pub use vars::{EnvVar, credential_vars};
