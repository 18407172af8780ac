//! `atmos-auth exec [IDENTITY] -- COMMAND…`: run a command with the identity's credentials, and
//! with every identity of the profile reachable as an AWS profile of the same name.

use std::ffi::OsString;

use super::{Context, aws_config, login_policy, region_of};
use crate::error::Error;
use crate::output::{self, EnvVar};
use crate::secret::Secret;

/// Points every SDK in the child at the generated config.
const AWS_CONFIG_FILE: &str = "AWS_CONFIG_FILE";

pub fn run(
    context: &Context,
    identity: Option<&str>,
    login: bool,
    argv: &[OsString],
) -> Result<i32, Error> {
    // `--identity=false`: no credentials of ours, but every identity still reachable by
    // profile name through the generated config.
    let mut vars = match context.selected(identity)? {
        Some(identity) => {
            let credentials = context.resolver().resolve(identity, login_policy(login)?)?;
            output::credential_vars(
                &credentials,
                region_of(&context.config, identity),
                &identity.env,
            )
        }
        None => Vec::new(),
    };
    let config_file = aws_config::generate_for_exec(&context.config)?;
    vars.push(EnvVar {
        name: AWS_CONFIG_FILE.into(),
        value: Secret::new(config_file.to_string_lossy().into_owned()),
        secret: false,
    });
    Ok(output::exec::run(argv, &vars)?)
}
