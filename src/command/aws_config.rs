//! `atmos-auth aws-config`: the generated AWS shared config, on stdout or atomically into a file;
//! and the copy `exec` points `AWS_CONFIG_FILE` at.

use std::path::{Path, PathBuf};

use super::print;
use super::{Error, exit};
use crate::config::Config;
use crate::fs::{PRIVATE_FILE_MODE, write_atomic};
use crate::identity::region_for;
use crate::output::aws_config::{self, Entry, Source};
use crate::paths;

/// The file's text for `config`: every identity, or those carrying all of `tags`.
fn render(config: &Config, tags: &[String]) -> Result<String, Error> {
    let program = std::env::current_exe().map_err(|source| Error::Write {
        path: "the atmos-auth executable path".into(),
        source,
    })?;
    let source = Source {
        program: &program,
        config_root: &config.root,
        profile: config.profile.as_deref(),
    };
    let entries: Vec<Entry<'_>> = config
        .auth
        .identities
        .values()
        .filter(|identity| config.has_tags(identity, tags))
        .map(|identity| Entry {
            name: &identity.name,
            region: region_for(config, identity),
        })
        .collect();
    let user_config = user_aws_config();
    Ok(aws_config::render(
        &source,
        &entries,
        user_config.as_deref(),
    )?)
}

/// The user's own AWS config, as the SDKs locate it (never our generated file).
/// A file we generated (for `exec`, or an earlier `--output`) is skipped in favour of the
/// default location, so nesting `exec` or regenerating in place never copies our own profiles.
fn user_aws_config() -> Option<String> {
    let default =
        || directories::BaseDirs::new().map(|dirs| dirs.home_dir().join(".aws").join("config"));
    let path = match std::env::var_os("AWS_CONFIG_FILE").filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => default()?,
    };
    let text = std::fs::read_to_string(&path).ok()?;
    if !aws_config::is_generated(&text) {
        return Some(text);
    }
    let fallback = default().filter(|p| *p != path)?;
    std::fs::read_to_string(fallback)
        .ok()
        .filter(|t| !aws_config::is_generated(t))
}

pub fn run(config: &Config, output: Option<&Path>, tags: &[String]) -> Result<i32, Error> {
    let text = render(config, tags)?;
    match output {
        Some(path) => write_if_changed(path, &text)?,
        None => print(text.as_bytes())?,
    }
    Ok(exit::SUCCESS)
}

/// Generate the config for `exec` into the cache (one file per config root and profile) and
/// return its path.
pub fn generate_for_exec(config: &Config) -> Result<PathBuf, Error> {
    write_cached(config, "", &render(config, &[])?)
}

/// The config for a command served by a credential endpoint (`exec --server`): the same, with
/// no credential source left in the `[default]` profile, which SDKs would use instead.
pub fn generate_for_server(config: &Config) -> Result<PathBuf, Error> {
    let text = aws_config::without_default_credentials(&render(config, &[])?);
    write_cached(config, "|server", &text)
}

/// Write `text` into the cache file for `config` and `variant`, unless it already holds it.
fn write_cached(config: &Config, variant: &str, text: &str) -> Result<PathBuf, Error> {
    let dir = paths::cache_subdir("aws-config").map_err(|source| Error::Write {
        path: "the cache directory".into(),
        source,
    })?;
    let key = format!(
        "{}|{}{variant}",
        config.root.display(),
        config.profile.as_deref().unwrap_or("")
    );
    let file = dir.file(format!("{}.ini", paths::file_name_for(&key)));
    // Written relative to the checked cache directory, never through a swapped path.
    if file.read().is_ok_and(|current| current == text.as_bytes()) {
        return Ok(file.path());
    }
    file.write_atomic(text.as_bytes(), PRIVATE_FILE_MODE)
        .map_err(|source| Error::Write {
            path: file.path().display().to_string(),
            source,
        })?;
    Ok(file.path())
}

/// Replace `path` with `text` atomically, leaving it untouched when it already holds exactly
/// that: readers never see a partial file, and regeneration is idempotent.
fn write_if_changed(path: &Path, text: &str) -> Result<(), Error> {
    if std::fs::read_to_string(path).is_ok_and(|current| current == text) {
        return Ok(());
    }
    write_atomic(path, text.as_bytes(), PRIVATE_FILE_MODE).map_err(|source| Error::Write {
        path: path.display().to_string(),
        source,
    })
}
