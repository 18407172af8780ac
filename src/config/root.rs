//! Config root discovery and the profiles found under it.
//!
//! The root is the directory holding `atmos.yaml` and `profiles/<name>/`. It is,
//! in order: `--config-dir`, `ATMOS_CLI_CONFIG_PATH`, the nearest ancestor of the working
//! directory (itself included) holding `atmos.yaml` or a `profiles/` directory, and last the
//! user config directory. The search for an ancestor stops at `$HOME` (which may itself be
//! the root) and before the first directory another user controls (see `trust.rs`).
//!
//! Profiles are then discovered as Atmos does (see `profile_locations`): several directories
//! are searched in order and the first holding a profile of a name wins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::node::Value;
use super::{ConfigError, LoadOptions, tree_builder, trust};

pub(crate) const CONFIG_FILE: &str = "atmos.yaml";
pub(crate) const PROFILES_DIR: &str = "profiles";

/// The config root for these options, or `None` when nothing is found and no user config
/// directory is known. The root is not judged here; `check_root` does that.
pub(crate) fn find_root(options: &LoadOptions) -> Option<PathBuf> {
    let explicit = options.config_dir.as_ref().map(|dir| options.cwd.join(dir));
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
pub(crate) fn check_root(root: &Path) -> Result<(), ConfigError> {
    trust::check_dir(root)?;
    trust::check_dir(&root.join(PROFILES_DIR))
}

fn is_root(dir: &Path) -> bool {
    dir.join(CONFIG_FILE).is_file() || dir.join(PROFILES_DIR).is_dir()
}

/// Whether `name` can be a profile directory's name: not empty, no path separator, not `.`/`..`.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\'])
}

/// A profile found by discovery: the directory it loads from, and the directories later in
/// the search order that hold a profile of the same name and are therefore not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundProfile {
    pub name: String,
    pub dir: PathBuf,
    pub shadowed: Vec<PathBuf>,
}

/// The directories searched for profiles, in order (first match wins), as Atmos does:
/// `profiles.base_path` of the root `atmos.yaml` (relative to the root), `<root>/.atmos/profiles`,
/// `$XDG_CONFIG_HOME/atmos/profiles` (else `~/.config/atmos/profiles`), `<root>/profiles`.
/// Reading the root file for `base_path` goes through the trust checks. Each location comes
/// with the directory above it that must be trusted too (`.atmos/`, `atmos/`, the parent of
/// `base_path`): whoever can write there could swap the profiles directory.
fn profile_locations(
    root: &Path,
    options: &LoadOptions,
) -> Result<Vec<(PathBuf, Option<PathBuf>)>, ConfigError> {
    let mut locations = Vec::new();
    let base = root.join(CONFIG_FILE);
    if base.is_file() {
        let text = trust::read_file(&base)?;
        // A file that does not parse is reported by the load that reads it in full.
        if let Ok(node) = tree_builder::parse(&base, &text) {
            let base_path = node
                .get("profiles")
                .and_then(|entry| entry.value.get("base_path"))
                .and_then(|entry| match &entry.value.value {
                    Value::Scalar(scalar) if !scalar.text.is_empty() => Some(scalar.text.clone()),
                    _ => None,
                });
            // Its parent too: whoever can write there could swap the directory it names.
            locations.extend(base_path.map(|path| {
                let dir = root.join(path);
                let parent = dir.parent().map(Path::to_owned);
                (dir, parent)
            }));
        }
    }
    let dot_atmos = root.join(".atmos");
    locations.push((dot_atmos.join(PROFILES_DIR), Some(dot_atmos)));
    let user = options
        .xdg_config_home
        .clone()
        .filter(|dir| dir.is_absolute())
        .or_else(|| options.home.as_ref().map(|home| home.join(".config")));
    locations.extend(user.map(|dir| {
        let atmos = dir.join("atmos");
        (atmos.join(PROFILES_DIR), Some(atmos))
    }));
    // The root and its profiles/ are judged by `check_root`.
    locations.push((root.join(PROFILES_DIR), None));
    let mut unique: Vec<(PathBuf, Option<PathBuf>)> = Vec::with_capacity(locations.len());
    for location in locations {
        if !unique.iter().any(|(dir, _)| *dir == location.0) {
            unique.push(location);
        }
    }
    Ok(unique)
}

/// Every profile under the search locations of `root`, sorted by name. A profile is a
/// directory holding at least one `*.yaml`/`*.yml` file; each location read must be trusted.
pub(crate) fn discover(
    root: &Path,
    options: &LoadOptions,
) -> Result<Vec<FoundProfile>, ConfigError> {
    let mut found: BTreeMap<String, FoundProfile> = BTreeMap::new();
    for (location, guard) in profile_locations(root, options)? {
        if !location.is_dir() {
            continue;
        }
        // `.atmos/` and `atmos/` hold the fixed locations: whoever can write them could swap
        // the profiles directory.
        if let Some(parent) = guard {
            trust::check_dir(&parent)?;
        }
        trust::check_dir(&location)?;
        let entries = std::fs::read_dir(&location).map_err(|source| ConfigError::Read {
            path: location.clone(),
            source,
        })?;
        let mut dirs: Vec<(String, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| Some((entry.file_name().into_string().ok()?, entry.path())))
            .filter(|(name, dir)| is_plain_name(name) && dir.is_dir() && has_yaml(dir))
            .collect();
        dirs.sort();
        for (name, dir) in dirs {
            match found.get_mut(&name) {
                Some(first) => first.shadowed.push(dir),
                None => {
                    let profile = FoundProfile {
                        name: name.clone(),
                        dir,
                        shadowed: Vec::new(),
                    };
                    found.insert(name, profile);
                }
            }
        }
    }
    Ok(found.into_values().collect())
}

fn is_yaml(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .is_some_and(|extension| extension == "yaml" || extension == "yml")
}

fn has_yaml(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|entry| is_yaml(&entry.path()))
    })
}

/// The files of the profile directory `dir`, in merge order: `atmos.yaml` first, then the other
/// `*.yaml`/`*.yml` files in lexical order of their names. The directory must be trusted.
pub(crate) fn profile_files(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    trust::check_dir(dir)?;
    let entries = std::fs::read_dir(dir).map_err(|source| ConfigError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| is_yaml(path))
        .collect();
    files.sort_by_key(|path| (path.file_name() != Some(CONFIG_FILE.as_ref()), path.clone()));
    Ok(files)
}

/// The profile names of a selection such as `devops,local-overrides`, in merge order.
pub(crate) fn split_selection(selection: &str) -> Vec<&str> {
    selection.split(',').map(str::trim).collect()
}

/// Looks `name` up among the discovered profiles; a name that would leave a profile directory
/// is never found.
pub(crate) fn find_profile<'a>(found: &'a [FoundProfile], name: &str) -> Option<&'a FoundProfile> {
    is_plain_name(name)
        .then(|| found.iter().find(|profile| profile.name == name))
        .flatten()
}

/// The config root for `options` and the profiles under it, for commands that go over every
/// profile; no root, or a root without profiles, is an error.
pub fn profiles_under(options: &LoadOptions) -> Result<(PathBuf, Vec<String>), ConfigError> {
    let (root, found) = discover_profiles(options)?;
    Ok((
        root,
        found.into_iter().map(|profile| profile.name).collect(),
    ))
}

/// Like `profiles_under`, with where each profile was found.
pub fn discover_profiles(
    options: &LoadOptions,
) -> Result<(PathBuf, Vec<FoundProfile>), ConfigError> {
    let root = find_root(options).ok_or_else(|| ConfigError::NoRoot {
        cwd: options.cwd.clone(),
    })?;
    check_root(&root)?;
    let found = discover(&root, options)?;
    if found.is_empty() {
        return Err(ConfigError::NoConfig { root });
    }
    Ok((root, found))
}

/// The names of the profiles discovered for `root`, sorted; none when discovery fails.
pub fn available_profiles(root: &Path, options: &LoadOptions) -> Vec<String> {
    discover(root, options)
        .map(|found| found.into_iter().map(|profile| profile.name).collect())
        .unwrap_or_default()
}
