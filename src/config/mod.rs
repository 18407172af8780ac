//! The configuration layer: finds the config root and profile, reads `atmos.yaml` files,
//! merges the profile over the root file, and validates the result into a `Config`.
//!
//! It reads files and nothing else: no process environment (the CLI passes `LoadOptions`)
//! and never the network. Account names that `accounts:` does not map are left for a later
//! layer to resolve through the SSO portal.
//!
//! Identities may chain through other identities (`via.identity`); the graph is checked here
//! (references exist, no cycles) and walked by `Config::chain`, but nothing is resolved.
//!
//! Files are parsed into a position-carrying tree (`node.rs`) rather than through a serde
//! mirror, so that every diagnostic can name the file, line and column of the value it is
//! about, even after the merge, and so that all problems are reported at once.

mod account_id;
mod auth_config;
mod auth_schema;
mod config_error;
mod diagnostic;
pub mod duration;
mod iam_arn;
mod identity;
mod identity_graph;
mod identity_schema;
mod load_options;
mod location;
mod node;
mod provider;
mod root;
mod tree_builder;
mod trust;
mod validator;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use account_id::{AccountId, InvalidAccountId};
pub use auth_config::{AuthConfig, ExecCredentials};
pub use config_error::ConfigError;
pub use diagnostic::Diagnostic;
pub use identity::{
    AccountRef, DEFAULT_PROCESS_TIMEOUT, DEFAULT_USER_DURATION, Identity, IdentityKind,
    ProcessCommand, Via, is_name_char, is_tag, name_problem,
};
pub use load_options::LoadOptions;
pub use location::Location;
pub use provider::{GithubOidc, IdentityCenter, LoginMethod, Provider, ProviderKind};
pub use root::{FoundProfile, available_profiles, discover_profiles};

use node::Node;
use root::find_root;
pub use root::profiles_under;
use root::{CONFIG_FILE, check_root, find_profile, profile_files, split_selection};
use validator::Validator;

/// The loaded configuration: the root file merged with the selected profile, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The selected profile (or comma list of profiles), if any.
    pub profile: Option<String>,
    /// The config root directory.
    pub root: PathBuf,
    /// The files read, in merge order: the root `atmos.yaml` first, then each selected
    /// profile's (`atmos.yaml` first, then its other YAML files by name).
    pub files: Vec<PathBuf>,
    /// The top-level `description:`, shown when listing profiles.
    pub description: Option<String>,
    /// The top-level `accounts:` map of account names to ids.
    pub accounts: BTreeMap<String, AccountId>,
    pub auth: AuthConfig,
}

impl Config {
    /// The identity with this name, or else the one with this alias; failing both, the one
    /// whose name or alias matches ignoring ASCII case, when only one does (validation makes
    /// names and aliases differing only in case an error, so that is the usual outcome).
    pub fn identity(&self, name_or_alias: &str) -> Option<&Identity> {
        let identities = &self.auth.identities;
        let exact = identities.get(name_or_alias).or_else(|| {
            identities
                .values()
                .find(|identity| identity.alias.as_deref() == Some(name_or_alias))
        });
        exact.or_else(|| {
            let mut folded = identities.values().filter(|identity| {
                std::iter::once(identity.name.as_str())
                    .chain(identity.alias.as_deref())
                    .any(|word| word.eq_ignore_ascii_case(name_or_alias))
            });
            match (folded.next(), folded.next()) {
                (Some(one), None) => Some(one),
                _ => None,
            }
        })
    }

    /// Every identity marked `default: true`, by name. Several are allowed; the caller decides
    /// what to do when there is more than one.
    pub fn default_identities(&self) -> Vec<&Identity> {
        self.auth
            .identities
            .values()
            .filter(|identity| identity.default)
            .collect()
    }
}

/// Finds, reads, merges and validates the configuration described by `options`.
pub fn load(options: &LoadOptions) -> Result<Config, ConfigError> {
    let root = find_root(options).ok_or_else(|| ConfigError::NoRoot {
        cwd: options.cwd.clone(),
    })?;
    check_root(&root)?;
    let profile = options.selected_profile();
    let mut files = Vec::new();
    let base = root.join(CONFIG_FILE);
    if base.is_file() {
        files.push(base);
    }
    match profile {
        Some(selection) => {
            let found = root::discover(&root, options)?;
            // A comma list (`devops,local-overrides`) merges left to right: later wins.
            for name in split_selection(selection) {
                let Some(profile) = find_profile(&found, name) else {
                    return Err(ConfigError::ProfileNotFound {
                        profile: name.to_owned(),
                        root,
                        available: found.into_iter().map(|profile| profile.name).collect(),
                    });
                };
                files.extend(profile_files(&profile.dir)?);
            }
        }
        None if files.is_empty() => return Err(missing_profile(root, options)),
        None => {}
    }
    let mut sources = Vec::with_capacity(files.len());
    let mut total = 0u64;
    for file in files {
        let text = trust::read_file(&file)?;
        total += text.len() as u64;
        if total > trust::MAX_TOTAL_BYTES {
            return Err(ConfigError::TooMuch {
                path: file,
                limit: trust::MAX_TOTAL_BYTES,
            });
        }
        sources.push((file, text));
    }
    let config = from_sources(root, profile, &sources)?;
    if profile.is_none() && config.auth.providers.is_empty() && config.auth.identities.is_empty() {
        // Without profiles an empty auth section is returned as is; the caller reports it.
        let available = available_profiles(&config.root, options);
        if !available.is_empty() {
            return Err(ConfigError::ProfileRequired {
                root: config.root,
                available,
            });
        }
    }
    Ok(config)
}

/// The error for "no profile selected and nothing usable without one".
fn missing_profile(root: PathBuf, options: &LoadOptions) -> ConfigError {
    let available = available_profiles(&root, options);
    if available.is_empty() {
        ConfigError::NoConfig { root }
    } else {
        ConfigError::ProfileRequired { root, available }
    }
}

/// Parses, merges (later sources win) and validates already-read files. This is the whole
/// of loading minus the file system, which keeps it testable from strings.
pub(crate) fn from_sources(
    root: PathBuf,
    profile: Option<&str>,
    sources: &[(PathBuf, String)],
) -> Result<Config, ConfigError> {
    let mut validator = Validator::new(sources);
    let mut merged: Option<Node> = None;
    for (file, text) in sources {
        match tree_builder::parse(file, text) {
            Ok(node) => {
                merged = Some(match merged {
                    Some(base) => node::merge(base, node),
                    None => node,
                })
            }
            Err(diagnostics) => {
                for diagnostic in diagnostics {
                    validator.report(&diagnostic.location, diagnostic.message, diagnostic.hint);
                }
            }
        }
    }
    let document = match merged {
        Some(merged) if validator.diagnostics.is_empty() => validator.document(&merged),
        _ => Default::default(),
    };
    if !validator.diagnostics.is_empty() {
        let mut diagnostics = validator.diagnostics;
        let file_order = |file: &Path| sources.iter().position(|(source, _)| source == file);
        diagnostics.sort_by_key(|d| {
            (
                file_order(&d.location.file),
                d.location.line,
                d.location.column,
            )
        });
        return Err(ConfigError::Invalid { diagnostics });
    }
    Ok(Config {
        profile: profile.map(str::to_owned),
        root,
        files: sources.iter().map(|(file, _)| file.clone()).collect(),
        description: document.description,
        accounts: document.accounts,
        auth: document.auth,
    })
}
