//! `LoadOptions`: everything `load` needs from the command line and the environment.
//!
//! The CLI fills it, so the config layer never reads the process environment and tests
//! can describe any situation as plain data.

use std::path::PathBuf;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// `--profile NAME` (or `ATMOS_PROFILE`).
    pub profile: Option<String>,
    /// `--config-dir DIR` (or `ATMOS_CLI_CONFIG_PATH`).
    pub config_dir: Option<PathBuf>,
    /// The working directory, where the search for a config root starts.
    pub cwd: PathBuf,
    /// The user's home directory: the search for a config root looks no higher.
    pub home: Option<PathBuf>,
    /// The per-user config directory, `directories::ProjectDirs::from("", "", "atmos-auth")`'s
    /// `config_dir()`, used when nothing closer is found.
    pub user_config_dir: Option<PathBuf>,
    /// `XDG_CONFIG_HOME`: profiles are also searched in its `atmos/profiles` (else in
    /// `~/.config/atmos/profiles`).
    pub xdg_config_home: Option<PathBuf>,
}

impl LoadOptions {
    /// The profile selection. An empty value counts as unset, so `ATMOS_PROFILE= atmos-auth ...`
    /// switches profiles off.
    pub(crate) fn selected_profile(&self) -> Option<&str> {
        self.profile.as_deref().filter(|name| !name.is_empty())
    }
}
