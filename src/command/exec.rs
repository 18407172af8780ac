//! `atmos-auth exec IDENTITY -- COMMAND…`: run a command with the identity's credentials.

use std::ffi::OsString;

use super::{Context, login_policy, region_of};
use crate::error::Error;
use crate::identity::Resolver;
use crate::output;

pub fn run(
    context: &Context,
    identity: &str,
    login: bool,
    argv: &[OsString],
) -> Result<i32, Error> {
    let identity = context.identity(Some(identity))?;
    let credentials =
        Resolver::new(&context.config, &context.store).resolve(identity, login_policy(login))?;
    let vars = output::credential_vars(&credentials, region_of(context, identity), &identity.env);
    Ok(output::exec::run(argv, &vars)?)
}
