//! `ChildEnv`: what a child of `exec`, `shell` or the credential server gets — the identity's
//! credentials as variables, and every identity of the profile reachable as an AWS profile of
//! the same name through a generated config.

use super::Error;
use super::{Context, aws_config, login_policy};
use crate::config::{ExecCredentials, Identity};
use crate::credentials::Credentials;
use crate::identity::region_for;
use crate::output::{self, EnvVar};
use crate::secret::Secret;

/// Points every SDK in the child at the generated config.
pub(super) const AWS_CONFIG_FILE: &str = "AWS_CONFIG_FILE";

/// What a child of `exec` or `shell` gets.
pub struct ChildEnv<'c> {
    /// The selected identity and its credentials; `None` with `--identity=false`.
    pub holding: Option<(&'c Identity, Credentials)>,
    /// The variables to set (the conflicting ones are removed by `output::exec`).
    pub vars: Vec<EnvVar>,
}

/// The identity's credentials as variables, plus `AWS_CONFIG_FILE` naming the generated config.
pub fn child_env<'c>(
    context: &'c Context,
    identity: Option<&str>,
    login: bool,
) -> Result<ChildEnv<'c>, Error> {
    // `--identity=false`: no credentials of ours, but every identity still reachable by
    // profile name through the generated config.
    let holding = match context.selected(identity)? {
        Some(identity) => Some((
            identity,
            context.resolver().resolve(identity, login_policy(login)?)?,
        )),
        None => None,
    };
    let mut vars = match &holding {
        Some((identity, credentials)) => output::credential_vars(
            credentials,
            region_for(&context.config, identity),
            &identity.env,
        ),
        None => Vec::new(),
    };
    let config_file = aws_config::generate_for_exec(&context.config)?;
    vars.push(EnvVar {
        name: AWS_CONFIG_FILE.into(),
        value: Secret::new(config_file.to_string_lossy().into_owned()),
        secret: false,
    });
    Ok(ChildEnv { holding, vars })
}

/// Whether the command gets a credential server: `--server`, else `auth.exec.credentials`.
pub fn serves(context: &Context, server: bool) -> bool {
    server || context.config.auth.exec_credentials == Some(ExecCredentials::Server)
}
