//! Providers: where a chain of credentials starts — AWS IAM Identity Center (the SSO OIDC
//! device-code login and the SSO portal), GitHub Actions OIDC, IAM user keys, external
//! credential processes — and the STS exchanges that extend a chain.
//!
//! Providers talk to the network and to the credential store; they never print credentials.

pub mod entry_lock;
mod error;
pub mod federation;
pub mod github_oidc;
pub mod process;
pub mod sdk;
pub mod sso;
pub mod sts;

pub use error::ProviderError;
