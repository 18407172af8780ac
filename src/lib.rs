//! atmos-auth: a credential broker for AWS organisations.
//!
//! The flow is one way: `cli` parses, `config` loads the profile, `provider` obtains an SSO
//! session, `identity` turns an identity into credentials through it, `store` keeps every secret
//! in the OS keyring, and `output` hands credentials to a shell or a child process. `command`
//! wires one subcommand through that flow; `run` is the edge that prints errors once.
//!
//! Beside the flow: `typed_entry` turns typed values into store entries and back, `fs` holds
//! private files, atomic writes and cross-process locks for every layer, and `matrix` analyses
//! the access the profiles grant (`output::matrix` renders it).

mod cli;
mod clock;
mod command;
pub mod config;
mod credential_process;
pub mod credentials;
mod endpoint;
pub mod exit;
pub mod fs;
mod identity;
mod matrix;
mod output;
mod paths;
mod prompt;
mod provider;
mod realm;
mod run;
pub mod secret;
pub mod store;
mod text;
mod tls;
mod typed_entry;
mod upstream;

pub use run::run;
