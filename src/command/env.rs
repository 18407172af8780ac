//! `atmos-auth env`: print an identity's credentials as variable assignments.

use super::{Context, login_policy, print, region_of};
use super::{Error, exit};
use crate::cli::EnvFormat;
use crate::output::{self, env::Format};

const GITHUB_ENV: &str = "GITHUB_ENV";

pub fn run(
    context: &Context,
    identity: Option<&str>,
    format: EnvFormat,
    login: bool,
) -> Result<i32, Error> {
    // `--identity=false`: nothing to export.
    let Some(identity) = context.selected(identity)? else {
        return Ok(exit::SUCCESS);
    };
    let github_env = match format {
        EnvFormat::Github => Some(
            std::env::var_os(GITHUB_ENV)
                .filter(|p| !p.is_empty())
                .ok_or(Error::NotInGithubActions)?,
        ),
        _ => None,
    };
    let credentials = context.resolver().resolve(identity, login_policy(login)?)?;
    let vars = output::credential_vars(
        &credentials,
        region_of(&context.config, identity),
        &identity.env,
    );
    match github_env {
        Some(path) => {
            output::env::write_github(&vars, path.as_ref(), &mut std::io::stdout().lock())
                .map_err(|source| Error::Write {
                    path: path.to_string_lossy().into_owned(),
                    source,
                })?;
        }
        None => {
            let format = match format {
                EnvFormat::Bash => Format::Bash,
                EnvFormat::Fish => Format::Fish,
                EnvFormat::Powershell => Format::Powershell,
                EnvFormat::Json => Format::Json,
                EnvFormat::Dotenv | EnvFormat::Github => Format::Dotenv,
            };
            print(output::env::render(format, &vars).as_bytes())?;
        }
    }
    Ok(exit::SUCCESS)
}
