//! The environment variables behind the global flags, and where to look for the profile.
//!
//! clap reads these variables for the flags (`arguments`); a completion request carries no
//! parsed flags, so `candidates` reads the same names here instead of spelling them again.

use std::path::PathBuf;

use crate::config::LoadOptions;

/// `--profile`.
pub const PROFILE: &str = "ATMOS_PROFILE";
/// `--config-dir`.
pub const CONFIG_DIR: &str = "ATMOS_CLI_CONFIG_PATH";
/// `--identity`.
pub const IDENTITY: &str = "ATMOS_IDENTITY";
/// `--mfa-code`.
pub const MFA_CODE: &str = "ATMOS_MFA_CODE";
/// `--realm`.
pub const REALM: &str = "ATMOS_AUTH_REALM";

/// Where to look for the profile: `--profile` and `--config-dir` (or their variables), then the
/// working directory, the home directory and the user's config directories.
pub fn load_options(profile: Option<String>, config_dir: Option<PathBuf>) -> LoadOptions {
    LoadOptions {
        profile,
        config_dir,
        cwd: std::env::current_dir().unwrap_or_default(),
        home: directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()),
        user_config_dir: directories::ProjectDirs::from("", "", "atmos-auth")
            .map(|d| d.config_dir().to_path_buf()),
        xdg_config_home: std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
    }
}
