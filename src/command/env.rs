//! `atmos-auth env`: print an identity's credentials as variable assignments.

use std::ffi::OsString;

use super::{Context, login_policy, print, print_or_fail};
use super::{Error, exit};
use crate::cli::EnvOutput;
use crate::identity::region_for;
use crate::output::{self, env::Format};

const GITHUB_ENV: &str = "GITHUB_ENV";

/// Where the assignments go, once the GitHub Actions file is known to exist.
enum Destination {
    Stdout(Format),
    GithubEnv(OsString),
}

pub fn run(
    context: &Context,
    identity: Option<&str>,
    target: EnvOutput,
    login: bool,
) -> Result<i32, Error> {
    // `--identity=false`: nothing to export.
    let Some(identity) = context.selected(identity)? else {
        return Ok(exit::SUCCESS);
    };
    let destination = match target {
        EnvOutput::Print(format) => Destination::Stdout(format),
        EnvOutput::GithubEnv => Destination::GithubEnv(
            std::env::var_os(GITHUB_ENV)
                .filter(|p| !p.is_empty())
                .ok_or(Error::NotInGithubActions)?,
        ),
    };
    let credentials = context.resolver().resolve(identity, login_policy(login)?)?;
    let vars = output::credential_vars(
        &credentials,
        region_for(&context.config, identity),
        &identity.env,
    );
    match destination {
        Destination::GithubEnv(path) => {
            // The masks must reach the runner before the values reach the file: a closed
            // stdout fails here, and nothing is written.
            print_or_fail(output::env::github_masks(&vars).as_bytes())?;
            output::env::write_github_file(&vars, path.as_ref()).map_err(|source| {
                Error::Write {
                    path: path.to_string_lossy().into_owned(),
                    source,
                }
            })?;
        }
        Destination::Stdout(format) => print(output::env::render(format, &vars).as_bytes())?,
    }
    Ok(exit::SUCCESS)
}
