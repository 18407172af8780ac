//! AWS IAM Identity Center: client registration, the device-code login, the cached SSO session
//! with its silent refresh, and the portal calls that turn a session into role credentials.
//!
//! One SSO session exists per (start URL, region); every provider and identity that names the
//! same pair shares it.

mod device;
mod portal;
mod registration;
mod session;
mod token;

pub use device::BrowserPolicy;
pub use portal::{PagingFault, Portal, UNAUTHORIZED};
pub use session::{LoginPolicy, SsoSession};
