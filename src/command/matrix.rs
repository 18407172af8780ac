//! `atmos-auth matrix`: the access matrix of every profile under the config root, computed from
//! the profiles themselves, and with `--check` compared with the declared one
//! (`profiles/matrix.yaml`). It loads files only: no network, no credential store.
//!
//! The matrix is printed on stdout in every case, so `--format json --check` stays parseable;
//! the verdict of `--check` goes to stderr.

use std::path::{Path, PathBuf};

use super::print;
use super::{Error, exit};
use crate::cli::Settings;
use crate::config::{self, Config};
use crate::matrix::{self, Declared, MatrixError, Tier};
use crate::output::matrix::{Format, render};
use crate::text::printable;

/// The declared matrix, next to the profiles.
const MATRIX_FILE: &str = "profiles/matrix.yaml";

/// `--check` found differences. Like `diff`, 1 means "the check ran and failed"; a matrix file
/// or profile that cannot be read is a configuration error (2), as everywhere else.
const MISMATCH: i32 = 1;

/// `check`: `None` without `--check`, `Some(None)` for `--check` alone (the default file),
/// `Some(Some(path))` for `--check FILE`.
pub fn run(
    settings: &Settings,
    format: Format,
    check: Option<Option<PathBuf>>,
) -> Result<i32, Error> {
    let options = settings.load.clone();
    let (root, names) = config::profiles_under(&options)?;
    // Relative to the working directory when under it, so that messages stay short.
    let default_file = PathBuf::from(shown(&root.join(MATRIX_FILE), &options.cwd));
    let declared = match &check {
        Some(Some(path)) => Some(load_declared(path)?),
        Some(None) => Some(load_declared(&default_file)?),
        // Without `--check` the file only supplies tiers and order, when there is one.
        None if default_file.is_file() => Some(load_declared(&default_file)?),
        None => None,
    };
    let mut profiles = Vec::with_capacity(names.len());
    for name in row_order(names, declared.as_ref()) {
        let mut options = settings.load.clone();
        options.profile = Some(name.clone());
        options.config_dir = Some(root.clone());
        let config = config::load(&options)?;
        profiles.push((name, config));
    }
    let tiers = match &declared {
        Some(declared) => declared.tiers.clone(),
        None => one_tier_per_account(&profiles),
    };
    let computed = matrix::compute(&tiers, &profiles);
    print(render(&computed, format).as_bytes())?;
    let Some(declared) = declared.filter(|_| check.is_some()) else {
        for problem in &computed.problems {
            eprintln!("warning: {}", printable(&problem.to_string()));
        }
        return Ok(exit::SUCCESS);
    };
    let findings = matrix::compare(&computed, &declared);
    let path = declared.path.display();
    if findings.is_empty() {
        eprintln!(
            "ok: {} profiles match `{path}` in all {} cells",
            computed.rows.len(),
            matrix::cells_compared(&computed, &declared)
        );
        return Ok(exit::SUCCESS);
    }
    eprintln!(
        "error: the profiles differ from `{path}` ({} finding{}):",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" }
    );
    for finding in &findings {
        eprintln!("  {}", printable(&finding.to_string()));
    }
    eprintln!("hint: fix the profiles, or update `{path}` if the change of access is intended");
    Ok(MISMATCH)
}

fn load_declared(path: &Path) -> Result<Declared, MatrixError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            MatrixError::Missing {
                path: path.to_owned(),
            }
        } else {
            MatrixError::Read {
                path: path.to_owned(),
                source,
            }
        }
    })?;
    matrix::parse(path, &text)
}

/// The declared profiles in the file's order, then the others by name.
fn row_order(mut names: Vec<String>, declared: Option<&Declared>) -> Vec<String> {
    let Some(declared) = declared else {
        return names;
    };
    let mut ordered = Vec::with_capacity(names.len());
    for profile in declared.profiles() {
        if let Some(index) = names.iter().position(|name| name == profile) {
            ordered.push(names.remove(index));
        }
    }
    ordered.extend(names);
    ordered
}

/// Without a matrix file there are no tiers: every account of any profile's `accounts:` map
/// is a column of its own.
fn one_tier_per_account(profiles: &[(String, Config)]) -> Vec<Tier> {
    let accounts: std::collections::BTreeSet<&String> = profiles
        .iter()
        .flat_map(|(_, config)| config.accounts.keys())
        .collect();
    accounts
        .into_iter()
        .map(|account| Tier {
            name: account.clone(),
            accounts: vec![account.clone()],
        })
        .collect()
}

/// A path relative to the working directory when it is under it, for shorter messages.
fn shown(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}
