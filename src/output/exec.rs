//! `exec`: run a command with an identity's credentials in its environment.
//!
//! On Unix the command replaces atmos-auth (`execvp`), so it receives signals directly, its exit
//! status is the status the caller sees, and no credential-holding parent lingers. Elsewhere the
//! command is spawned and waited for.

use std::ffi::OsString;
use std::process::Command;

use super::vars::EnvVar;

/// Variables that would make an SDK in the child prefer other credentials, or sign with a
/// mix of ours and stale ones.
pub const CONFLICTING: &[&str] = &[
    // Credentials already in the caller's environment (an earlier `eval "$(atmos-auth env …)"`)
    // must never leak into a command run for another identity, or for none.
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// Exit code when the command cannot be found (as shells report it).
pub const EXIT_NOT_FOUND: i32 = 127;
/// Exit code when the command exists but cannot be run.
pub const EXIT_NOT_EXECUTABLE: i32 = 126;

#[derive(Debug, thiserror::Error)]
#[error("could not run `{}`", program.to_string_lossy())]
pub struct ExecError {
    pub program: OsString,
    #[source]
    pub source: std::io::Error,
}

impl ExecError {
    pub fn exit_code(&self) -> i32 {
        match self.source.kind() {
            std::io::ErrorKind::NotFound => EXIT_NOT_FOUND,
            _ => EXIT_NOT_EXECUTABLE,
        }
    }
}

/// The command, ready to run with `vars` and without the conflicting variables.
pub(super) fn command(argv: &[OsString], vars: &[EnvVar]) -> Command {
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]);
    for name in CONFLICTING {
        command.env_remove(name);
    }
    for var in vars {
        command.env(&var.name, var.value.expose());
    }
    command
}

/// Run `argv` and return its exit code. On Unix this only returns on failure to start it.
pub fn run(argv: &[OsString], vars: &[EnvVar]) -> Result<i32, ExecError> {
    let mut command = command(argv, vars);
    let fail = |source| ExecError {
        program: argv[0].clone(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        Err(fail(command.exec()))
    }
    #[cfg(not(unix))]
    {
        let status = command.status().map_err(fail)?;
        Ok(status.code().unwrap_or(1))
    }
}
