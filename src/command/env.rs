//! `atmos-auth env`: print an identity's credentials as variable assignments.

use std::io::Write;

use super::{Context, login_policy, region_of};
use crate::cli::EnvFormat;
use crate::error::{Error, exit};
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
    let credentials = context.resolver().resolve(identity, login_policy(login))?;
    let vars = output::credential_vars(
        &credentials,
        region_of(&context.config, identity),
        &identity.env,
    );
    let mut stdout = std::io::stdout().lock();
    let written =
        match (format, github_env) {
            (_, Some(path)) => output::env::write_github(&vars, path.as_ref(), &mut stdout)
                .map_err(|source| Error::Write {
                    path: path.to_string_lossy().into_owned(),
                    source,
                }),
            (format, None) => {
                let format = match format {
                    EnvFormat::Bash => Format::Bash,
                    EnvFormat::Fish => Format::Fish,
                    EnvFormat::Powershell => Format::Powershell,
                    EnvFormat::Json => Format::Json,
                    EnvFormat::Dotenv | EnvFormat::Github => Format::Dotenv,
                };
                let text = output::env::render(format, &vars);
                stdout
                    .write_all(text.as_bytes())
                    .and_then(|()| stdout.flush())
                    .map_err(|source| Error::Write {
                        path: "stdout".into(),
                        source,
                    })
            }
        };
    match written {
        // A reader that went away (`| head`) is not an error.
        Err(Error::Write { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(exit::SUCCESS)
        }
        other => other.map(|()| exit::SUCCESS),
    }
}
