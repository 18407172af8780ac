//! Whose files the configuration may come from, and how much of them is read.
//!
//! A configuration names commands atmos-auth runs (`credential_process`) and endpoints it sends
//! tokens to, so a file another user could have written is code that user runs as this one.
//! As git's `safe.directory` does, the upward search for a config root stops at `$HOME` and at
//! the first directory another user controls, and every directory and file that is read must
//! belong to the user (or root, who can write anything anyway) and be writable by no one else.
//! Symlinks are followed: what is judged is what is read.
//!
//! It must not read the process environment; `$HOME` arrives in `LoadOptions`.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::ConfigError;
use crate::fs::Exposure;

/// The largest config file read. Real profiles are a few KiB; the cap keeps a hostile file
/// from costing memory and time before the parser's own limits apply.
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// The most read for one configuration, all its files together (a profile of many files, or
/// a comma list naming many profiles).
pub(crate) const MAX_TOTAL_BYTES: u64 = 8 * MAX_FILE_BYTES;

/// Whether the upward search may look for a config root in `dir`: it is the user's (or
/// root's) and no one else can write to it. A directory that cannot be inspected is not.
pub(crate) fn is_trusted_dir(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|metadata| exposure(&metadata).is_none())
}

/// Refuses the directory `dir` if another user could change what is in it. A missing
/// directory passes: the caller reports what it was looking for.
pub(crate) fn check_dir(dir: &Path) -> Result<(), ConfigError> {
    match std::fs::metadata(dir) {
        Ok(metadata) => judge(dir, &metadata),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(ConfigError::Read {
            path: dir.to_owned(),
            source,
        }),
    }
}

/// Reads the config file `path` if it is trusted (judged on the opened file, so nothing can be
/// swapped in between) and no larger than `MAX_FILE_BYTES`.
pub(crate) fn read_file(path: &Path) -> Result<String, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    judge(path, &file.metadata().map_err(read_error)?)?;
    let mut text = String::new();
    // One byte over the cap tells a file that grew since it was measured from one that fits.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigError::TooLarge {
            path: path.to_owned(),
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(text)
}

fn judge(path: &Path, metadata: &std::fs::Metadata) -> Result<(), ConfigError> {
    match exposure(metadata) {
        None => Ok(()),
        Some(exposure) => Err(ConfigError::Untrusted {
            path: shown(path),
            exposure,
        }),
    }
}

#[cfg(unix)]
fn exposure(metadata: &std::fs::Metadata) -> Option<Exposure> {
    Exposure::of_read_only(metadata)
}

/// Windows has no mode bits; the user profile directory is private by its ACL.
#[cfg(not(unix))]
fn exposure(_metadata: &std::fs::Metadata) -> Option<Exposure> {
    None
}

/// The path a fix applies to: the symlink's target when `path` goes through one.
fn shown(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}
