//! Integration tests: each runs the real atmos-auth binary against the AWS emulator, in a
//! temporary HOME, as a user would.

mod emulator;
mod harness;

/// Configuration errors as users see them.
mod config_errors;
/// Endpoint overrides in the SDK conventions.
mod endpoints;
/// `env` in every format, evaluated by real shells, and credential reuse.
mod env;
/// `exec`: arguments, exit codes, environment, real AWS CLI.
mod exec;
/// The real Secret Service and kernel keyring, and a missing one.
mod keyring;
/// No secret in logs at any level.
mod leaks;
/// Device-code login, refresh, client registration reuse.
mod login;
/// `whoami` against the emulator and against moto's STS.
mod whoami;
