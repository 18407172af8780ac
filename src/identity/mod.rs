//! Identities: turning an identity name from the profile into STS credentials — planned from
//! the configuration (`plan`), then resolved link by link, reusing what the credential store
//! already holds while it is fresh enough (`resolve`).

mod plan;
pub mod provision;
pub mod provisioned;
mod resolve;
#[cfg(all(test, unix))]
mod tests;

pub use plan::{Ambient, Plan, endpoint_for, region_for, user_keys_id};
pub use resolve::Resolver;
