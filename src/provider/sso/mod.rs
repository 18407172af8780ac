//! AWS IAM Identity Center: client registration, the browser login (authorization code with
//! PKCE) and the device-code login, the cached SSO session with its silent refresh, and the
//! portal calls that turn a session into role credentials.
//!
//! One SSO session exists per (start URL, region, SSO OIDC and portal endpoints); every provider
//! and identity that names the same start URL, region and endpoints shares it.

mod auth_code;
mod device;
mod flow;
mod portal;
mod registration;
mod session;
mod token;

pub use flow::{BrowserSupport, DEFAULT_BROWSER_TIMEOUT_SECS, LOGIN_TIMEOUT_ENV, LoginRequest};
pub use portal::{AccountRoles, PagingFault, Portal, UNAUTHORIZED};
pub use registration::GrantKind;
pub use session::{LoginPolicy, SsoSession, client_key, endpoints_of, session_id};
