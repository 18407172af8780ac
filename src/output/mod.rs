//! Output: handing credentials to the user — as shell assignments (`env`), as a child's
//! environment (`exec`), or as a caller-identity report (`whoami`). Output never calls a
//! provider; it receives credentials that were already resolved.

pub mod env;
pub mod exec;
mod vars;

pub use vars::credential_vars;
