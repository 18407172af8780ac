//! Shell completion: the registration scripts (clap_complete's dynamic engine, which calls back
//! into atmos-auth at completion time) and the identity names offered, read from the profile
//! the shell would select.

use std::ffi::OsString;

use clap::CommandFactory;
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::{CompleteEnv, Shells};

use super::arguments::CompletionShell;
use super::{Arguments, Global};
use crate::config;

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

/// The script that registers completion for `shell`.
pub fn registration(
    shell: CompletionShell,
    program: &str,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let name = match shell {
        CompletionShell::Bash => "bash",
        CompletionShell::Zsh => "zsh",
        CompletionShell::Fish => "fish",
        CompletionShell::Powershell => "powershell",
        CompletionShell::Elvish => "elvish",
    };
    let shells = Shells::builtins();
    let completer = shells
        .completer(name)
        .expect("clap_complete knows every shell we list");
    completer.write_registration(COMPLETE_ENV, "atmos-auth", "atmos-auth", program, out)
}

/// Identity names and aliases of the profile selected by `ATMOS_PROFILE` and the working
/// directory; nothing when it does not load (completion must never print errors).
pub fn identity_candidates() -> Vec<CompletionCandidate> {
    let global = Global {
        profile: std::env::var("ATMOS_PROFILE").ok(),
        config_dir: std::env::var_os("ATMOS_CLI_CONFIG_PATH").map(Into::into),
        identity: None,
        mfa_code: None,
        realm: None,
        verbose: 0,
    };
    let Ok(config) = config::load(&global.load_options()) else {
        return Vec::new();
    };
    let mut candidates = Vec::new();
    for identity in config.auth.identities.values() {
        candidates.push(CompletionCandidate::new(&identity.name));
        if let Some(alias) = &identity.alias {
            candidates.push(
                CompletionCandidate::new(alias)
                    .help(Some(format!("alias of {}", identity.name).into())),
            );
        }
    }
    candidates
}
