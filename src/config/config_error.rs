//! `ConfigError`: why loading the configuration failed.
//!
//! Variants carry data; their Display is the message a user reads. `Invalid` holds every
//! problem found in the files, not just the first.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::Diagnostic;
use crate::fs::Exposure;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No config root was given and none was found from the working directory.
    #[error(
    "no configuration found: no `atmos.yaml` or `profiles/` in `{}` or its parents, and no user config directory is known; pass --config-dir or set ATMOS_CLI_CONFIG_PATH",
    cwd.display()
  )]
    NoRoot { cwd: PathBuf },

    /// The root holds neither an `atmos.yaml` nor any profile.
    #[error(
    "no configuration found in `{}`: create `atmos.yaml` there or a profile under `profiles/<name>/atmos.yaml`",
    root.display()
  )]
    NoConfig { root: PathBuf },

    /// No profile location holds the selected profile.
    #[error(
    "profile `{profile}` not found in `{}` or the other profile locations; {}",
    root.join("profiles").display(),
    ProfileList(available)
  )]
    ProfileNotFound {
        profile: String,
        root: PathBuf,
        available: Vec<String>,
    },

    /// No profile was selected, the root config defines no auth, and profiles exist.
    #[error(
    "no profile selected, and `{}` configures no auth without one; set ATMOS_PROFILE or pass --profile ({})",
    root.display(),
    ProfileList(available)
  )]
    ProfileRequired {
        root: PathBuf,
        available: Vec<String>,
    },

    #[error("failed to read `{}`", path.display())]
    Read { path: PathBuf, source: io::Error },

    /// A config file or directory that another user could have written.
    #[error("refusing `{}`: {exposure}, so another user could change what atmos-auth runs; {}", path.display(), TrustFix { path, exposure })]
    Untrusted { path: PathBuf, exposure: Exposure },

    /// A config file over the size cap.
    #[error("refusing `{}`: config files are limited to {} MiB", path.display(), limit / (1024 * 1024))]
    TooLarge { path: PathBuf, limit: u64 },

    /// The files of one configuration together over the total cap.
    #[error("refusing `{}`: the configuration's files together are limited to {} MiB", path.display(), limit / (1024 * 1024))]
    TooMuch { path: PathBuf, limit: u64 },

    /// The files were read but hold problems; every one is listed.
    #[error("{}", Diagnostics(diagnostics))]
    Invalid { diagnostics: Vec<Diagnostic> },
}

/// Renders the available profiles for the two profile errors.
struct ProfileList<'a>(&'a [String]);

impl fmt::Display for ProfileList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no profiles exist");
        }
        f.write_str("available profiles: ")?;
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{name}`")?;
        }
        Ok(())
    }
}

/// The fix for `Untrusted`, naming the path again so that it can be copied.
struct TrustFix<'a> {
    path: &'a PathBuf,
    exposure: &'a Exposure,
}

impl fmt::Display for TrustFix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match self.exposure {
            Exposure::Writable { .. } => write!(f, "run `chmod go-w {path}`"),
            Exposure::Owner { .. } => write!(
                f,
                "if you trust it, take it over with `sudo chown $USER {path}`; else use a config directory of your own"
            ),
        }
    }
}

/// Renders `Invalid`: a count, then each diagnostic on its own lines.
struct Diagnostics<'a>(&'a [Diagnostic]);

impl fmt::Display for Diagnostics<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(
            f,
            "invalid configuration: {count} problem{}",
            if count == 1 { "" } else { "s" }
        )?;
        for diagnostic in self.0 {
            write!(f, "\n{diagnostic}")?;
        }
        Ok(())
    }
}
