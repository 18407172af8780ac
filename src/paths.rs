//! Where atmos-auth keeps non-secret state on disk: the cache directory (lock files, generated
//! AWS config, auto-provisioned identity lists), created 0700.
//!
//! A cache directory that other users could write to (group/world-writable, or owned by someone
//! else) is refused: whoever can replace a lock file or the generated AWS config can make
//! atmos-auth wait forever or point the AWS CLI at their own credential process.

use std::io;
use std::path::{Path, PathBuf};

use crate::store::Exposure;

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

/// A subdirectory of the cache, created private (0700) if missing; it and the cache directory
/// are refused if another user could write to them.
pub fn cache_subdir(name: &str) -> io::Result<PathBuf> {
    let root = cache_dir()?;
    let dir = root.join(name);
    crate::store::create_private_dir(&dir)?;
    check_private_dir(&root)?;
    check_private_dir(&dir)?;
    Ok(dir)
}

/// The lock file guarding `key` (a credential store entry), in the cache's `locks` directory.
pub fn lock_file(key: &str) -> io::Result<PathBuf> {
    Ok(cache_subdir("locks")?.join(format!("{}.lock", file_name_for(key))))
}

/// Fails with a message naming the directory, what is wrong and the fix, if `dir` is writable by
/// group or others or belongs to another user.
#[cfg(unix)]
pub fn check_private_dir(dir: &Path) -> io::Result<()> {
    let Some(exposure) = Exposure::of(&std::fs::metadata(dir)?) else {
        return Ok(());
    };
    let fix = match exposure {
        Exposure::Owner { .. } => "remove it or set XDG_CACHE_HOME to a directory of your own",
        Exposure::Writable { .. } => "run `chmod 700` on it",
    };
    Err(io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("refusing `{}`: {exposure}; {fix}", dir.display()),
    ))
}

/// Windows has no mode bits; the user profile directory is private by its ACL.
#[cfg(not(unix))]
pub fn check_private_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
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

    #[cfg(unix)]
    #[test]
    fn a_group_or_world_writable_dir_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        check_private_dir(dir.path()).unwrap();
        for mode in [0o770, 0o707, 0o777, 0o1777] {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).unwrap();
            let message = check_private_dir(dir.path()).unwrap_err().to_string();
            assert!(message.contains("writable by group or others"), "{message}");
            assert!(message.contains("chmod 700"), "{message}");
        }
        // Readable by others is not a risk to what we write.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        check_private_dir(dir.path()).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_dir_of_another_user_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: geteuid has no preconditions and cannot fail.
        let theirs = if unsafe { libc::geteuid() } == 0 {
            // As root (CI), hand a directory to `nobody`; otherwise `/` is root's.
            std::os::unix::fs::chown(dir.path(), Some(65534), None).unwrap();
            dir.path()
        } else {
            Path::new("/")
        };
        let message = check_private_dir(theirs).unwrap_err().to_string();
        assert!(message.contains("belongs to another user"), "{message}");
    }
}
