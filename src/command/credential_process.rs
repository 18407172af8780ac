//! `atmos-auth credential-process`: credentials in the AWS `credential_process` format, for SDKs
//! that read them through a profile. Called once per Terraform provider, often many at once:
//! the cached path does no network work, and concurrent misses make one upstream call.

use std::io::IsTerminal;

use super::{Context, login_policy, print};
use super::{Error, exit};
use crate::credential_process;

pub fn run(context: &Context, identity: Option<&str>) -> Result<i32, Error> {
    let identity = context.identity(identity)?;
    // An SDK runs us with its own stdin: a browser login only makes sense when a person is at
    // that terminal.
    let policy = login_policy(std::io::stdin().is_terminal())?;
    let credentials = context.resolver().resolve(identity, policy)?;
    let text = credential_process::render(&credentials);
    print(text.as_bytes())?;
    Ok(exit::SUCCESS)
}
