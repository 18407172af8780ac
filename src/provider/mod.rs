//! Providers: where a chain of credentials starts. Today that is AWS IAM Identity Center (the
//! SSO OIDC device-code login and the SSO portal).
//!
//! Providers talk to the network and to the credential store; they never print credentials.

mod error;
pub mod sso;

pub use error::ProviderError;
