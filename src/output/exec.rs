//! `exec`: run a command with an identity's credentials in its environment.
//!
//! On Unix the command replaces atmos-auth (`execvp`), so it receives signals directly, its exit
//! status is the status the caller sees, and no credential-holding parent lingers. Elsewhere the
//! command is spawned and waited for.

use std::ffi::OsString;
use std::process::Command;

use super::vars::{CONFLICTING, EnvVar};

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
