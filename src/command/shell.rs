//! `atmos-auth shell [IDENTITY] [-- ARGS…]`: replace atmos-auth with `$SHELL` (else `/bin/sh`),
//! in the environment `exec` gives a command, plus the variables that say which identity the
//! shell holds and how deeply it is nested.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::time::SystemTime;

use super::Error;
use super::child_env::{child_env, serves};
use super::{Context, serve};
use crate::output::{self, shell};

pub fn run(
    context: &Context,
    identity: Option<&str>,
    login: bool,
    server: bool,
    args: &[OsString],
) -> Result<i32, Error> {
    let mut child = child_env(context, identity, login)?;
    let holding = child
        .holding
        .as_ref()
        .map(|(identity, credentials)| (identity.name.as_str(), credentials.expiration()));
    let profile = context.config.profile.as_deref();
    let level = shell::level(std::env::var_os(shell::LEVEL).as_deref());
    child
        .vars
        .extend(shell::vars(holding.map(|(name, _)| name), profile, level));
    if level > 1 {
        tracing::warn!("{}", shell::nested_warning(level));
    }
    // A person is at the shell: say what it holds. Scripts (`-- -c …`, pipes) get no extra
    // output.
    if args.is_empty() && std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        eprintln!("{}", shell::banner(holding, profile, SystemTime::now()));
    }
    let mut argv = vec![shell::program(std::env::var_os(shell::SHELL))];
    argv.extend(args.iter().cloned());
    if serves(context, server) {
        return serve::run(context, child, &argv);
    }
    Ok(output::exec::run(&argv, &child.vars)?)
}
