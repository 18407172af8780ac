//! `atmos-auth exec [IDENTITY] -- COMMAND…`: run a command with the identity's credentials, and
//! with every identity of the profile reachable as an AWS profile of the same name (the
//! environment of `child_env`).

use std::ffi::OsString;

use super::Error;
use super::child_env::{child_env, serves};
use super::{Context, serve};
use crate::output;

pub fn run(
    context: &Context,
    identity: Option<&str>,
    login: bool,
    server: bool,
    argv: &[OsString],
) -> Result<i32, Error> {
    let child = child_env(context, identity, login)?;
    if serves(context, server) {
        return serve::run(context, child, argv);
    }
    Ok(output::exec::run(argv, &child.vars)?)
}
