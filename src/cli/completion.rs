//! Shell completion: the registration scripts (clap_complete's dynamic engine, which calls back
//! into atmos-auth at completion time). The identity names offered come from `candidates`.

use std::ffi::OsString;

use clap::CommandFactory;
use clap_complete::env::{CompleteEnv, Shells};

use super::arguments::{Arguments, CompletionShell};

/// The variable through which a shell asks atmos-auth for completions.
const COMPLETE_ENV: &str = "ATMOS_AUTH_COMPLETE";

/// Answer a completion request if this run is one; returns true when it was.
pub fn answer_if_requested(args: &[OsString]) -> bool {
    CompleteEnv::with_factory(Arguments::command)
        .var(COMPLETE_ENV)
        .try_complete(
            args.iter().cloned(),
            std::env::current_dir().ok().as_deref(),
        )
        .unwrap_or(false)
}

/// `atmos-auth completion SHELL`: the script that registers completion for one shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The shell's name as clap_complete knows it.
    shell: &'static str,
}

impl Registration {
    pub(super) fn new(shell: CompletionShell) -> Self {
        let shell = match shell {
            CompletionShell::Bash => "bash",
            CompletionShell::Zsh => "zsh",
            CompletionShell::Fish => "fish",
            CompletionShell::Powershell => "powershell",
            CompletionShell::Elvish => "elvish",
        };
        Self { shell }
    }

    /// The script, calling back into `program`.
    pub fn script(&self, program: &str) -> std::io::Result<Vec<u8>> {
        let shells = Shells::builtins();
        let completer = shells
            .completer(self.shell)
            .expect("clap_complete knows every shell we list");
        let mut out = Vec::new();
        completer.write_registration(
            COMPLETE_ENV,
            "atmos-auth",
            "atmos-auth",
            program,
            &mut out,
        )?;
        Ok(out)
    }
}
