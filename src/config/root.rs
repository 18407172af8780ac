//! Config root discovery and the profiles found under it.
//!
//! The root is the directory holding `atmos.yaml` and `profiles/<name>/atmos.yaml`. It is,
//! in order: `--config-dir`, `ATMOS_CLI_CONFIG_PATH`, the nearest ancestor of the working
//! directory (itself included) holding `atmos.yaml` or a `profiles/` directory, and last the
//! user config directory. The search for an ancestor stops at `$HOME` (which may itself be
//! the root) and before the first directory another user controls (see `trust.rs`).

use std::path::{Path, PathBuf};

use super::{LoadOptions, trust};

pub(crate) const CONFIG_FILE: &str = "atmos.yaml";
pub(crate) const PROFILES_DIR: &str = "profiles";

/// The config root for these options, or `None` when nothing is found and no user config
/// directory is known. The root is not judged here; `check_root` does that.
pub(crate) fn find_root(options: &LoadOptions) -> Option<PathBuf> {
    let explicit = options
        .config_dir
        .as_ref()
        .or(options.env_config_path.as_ref());
    let explicit = explicit.map(|dir| options.cwd.join(dir));
    explicit
        .or_else(|| search_upward(&options.cwd, options.home.as_deref()))
        .or_else(|| options.user_config_dir.clone())
}

/// The nearest trusted ancestor of `cwd` holding a config, looking no higher than `home`.
fn search_upward(cwd: &Path, home: Option<&Path>) -> Option<PathBuf> {
    // The working directory is a physical path; compare it with HOME's.
    let home = home.map(|home| std::fs::canonicalize(home).unwrap_or_else(|_| home.to_owned()));
    for dir in cwd.ancestors() {
        if !trust::is_trusted_dir(dir) {
            if is_root(dir) {
                tracing::warn!(
                    "ignoring the configuration in `{}`: another user could have written it",
                    dir.display()
                );
            }
            return None;
        }
        if is_root(dir) {
            return Some(dir.to_path_buf());
        }
        if home.as_deref() == Some(dir) {
            return None;
        }
    }
    None
}

/// Refuses `root` and its `profiles/` directory if another user could change them.
pub(crate) fn check_root(root: &Path) -> Result<(), super::ConfigError> {
    trust::check_dir(root)?;
    trust::check_dir(&root.join(PROFILES_DIR))
}

fn is_root(dir: &Path) -> bool {
    dir.join(CONFIG_FILE).is_file() || dir.join(PROFILES_DIR).is_dir()
}

/// Where a profile's file lives, or `None` for a name that would leave `profiles/`.
pub(crate) fn profile_file(root: &Path, profile: &str) -> Option<PathBuf> {
    let plain =
        !profile.is_empty() && profile != "." && profile != ".." && !profile.contains(['/', '\\']);
    plain.then(|| root.join(PROFILES_DIR).join(profile).join(CONFIG_FILE))
}

/// The config root for `options` and the profiles under it, for commands that go over every
/// profile; no root, or a root without profiles, is an error.
pub fn profiles_under(options: &LoadOptions) -> Result<(PathBuf, Vec<String>), super::ConfigError> {
    let root = find_root(options).ok_or_else(|| super::ConfigError::NoRoot {
        cwd: options.cwd.clone(),
    })?;
    check_root(&root)?;
    let names = available_profiles(&root);
    if names.is_empty() {
        return Err(super::ConfigError::NoConfig { root });
    }
    Ok((root, names))
}

/// The profiles under `root`: directories of `profiles/` holding an `atmos.yaml`, sorted.
/// An unreadable or missing `profiles/` has no profiles.
pub fn available_profiles(root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root.join(PROFILES_DIR)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join(CONFIG_FILE).is_file())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}
