//! `atmos-auth validate`: load and check profiles with no network access and no credential
//! store, for pre-commit hooks and CI on a profiles repository.

use super::{Error, exit, print};
use crate::cli::Settings;
use crate::config;

/// Check the selected profile, or with `all` every profile under the config root. Every
/// problem of every profile is reported before the exit code says whether there were any.
pub fn run(settings: &Settings, all: bool) -> Result<i32, Error> {
    if !all {
        let config = config::load(&settings.load)?;
        report_clean(config.profile.as_deref(), &config)?;
        return Ok(exit::SUCCESS);
    }
    let (root, profiles) = config::profiles_under(&settings.load)?;
    let mut failed = 0;
    for profile in &profiles {
        let mut options = settings.load.clone();
        options.profile = Some(profile.clone());
        options.config_dir = Some(root.clone());
        match config::load(&options) {
            Ok(config) => report_clean(Some(profile), &config)?,
            Err(error) => {
                failed += 1;
                eprintln!("error: profile `{profile}`: {error}");
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} profiles have problems", profiles.len());
        return Ok(exit::USAGE);
    }
    Ok(exit::SUCCESS)
}

fn report_clean(profile: Option<&str>, config: &config::Config) -> Result<(), Error> {
    let line = format!(
        "ok: profile `{}`: {} providers, {} identities ({})\n",
        profile.unwrap_or("(none)"),
        config.auth.providers.len(),
        config.auth.identities.len(),
        config
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    print(line.as_bytes())
}
