//! Where atmos-auth keeps non-secret state on disk: the cache directory (lock files, generated
//! AWS config, auto-provisioned identity lists), created 0700.

use std::io;
use std::path::PathBuf;

/// `$XDG_CACHE_HOME/atmos-auth` on Linux, the platform's cache directory elsewhere.
pub fn cache_dir() -> io::Result<PathBuf> {
    directories::ProjectDirs::from("", "", "atmos-auth")
        .map(|dirs| dirs.cache_dir().to_path_buf())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "no home directory to keep a cache in",
            )
        })
}

/// A subdirectory of the cache, created private (0700) if missing.
pub fn cache_subdir(name: &str) -> io::Result<PathBuf> {
    let dir = cache_dir()?.join(name);
    crate::store::create_private_dir(&dir)?;
    Ok(dir)
}

/// A short, stable file name for an arbitrary key (FNV-1a, 64 bit): stable across Rust
/// versions, unlike `DefaultHasher`, so every process of every version agrees on it.
pub fn file_name_for(key: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_stable_and_distinct() {
        assert_eq!(file_name_for(""), "cbf29ce484222325");
        assert_eq!(file_name_for("a"), "af63dc4c8601ec8c");
        assert_ne!(
            file_name_for("role-credentials:a"),
            file_name_for("role-credentials:b")
        );
    }
}
