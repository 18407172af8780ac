//! Where atmos-auth keeps non-secret state on disk: the cache directory (lock files, generated
//! AWS config, auto-provisioned identity lists), created 0700.
//!
//! A cache directory that other users could change is refused: whoever can replace a lock file
//! or the generated AWS config can make atmos-auth wait forever or point the AWS CLI at their
//! own credential process. On Unix the path is opened one component at a time from `/`, never
//! following a symlink implicitly (`openat` with `O_NOFOLLOW | O_DIRECTORY`), and each open
//! directory is checked with `fstat` on its descriptor, so what is checked is what is used:
//!
//! - above the cache (`$XDG_CACHE_HOME` and its parents), each directory must belong to the
//!   user or root and be writable by nobody else, unless it is sticky (`/tmp`), where nobody
//!   else can rename or delete the user's entries. A symlink there (a symlinked home, say) is
//!   followed only if it belongs to the user or root, and its target is walked by the same rule;
//! - `atmos-auth` and its subdirectories must belong to the user and be writable by nobody else
//!   (`Exposure::of`), and must be directories, not symlinks.
//!
//! Missing directories are created 0700 on the way. The result is a [`PrivateDir`] holding the
//! last directory open: files are then created in it relative to that descriptor, so nobody can
//! swap a directory between the check and the write.

use std::io;
use std::path::PathBuf;

use crate::fs::{DirFile, PrivateDir};

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

/// A subdirectory of the cache, created private (0700) if missing, opened and checked as the
/// module docs say.
pub fn cache_subdir(name: &str) -> io::Result<PrivateDir> {
    cache_subdir_named(&realm_subdir_name(name))
}

/// The cache subdirectory `name` of this process's realm: `name` itself without a realm,
/// `<name>~<realm>` in one, so each realm's lists, generated configs and locks stay apart.
pub fn realm_subdir_name(name: &str) -> String {
    match crate::realm::current() {
        Some(realm) => format!("{name}~{realm}"),
        None => name.to_owned(),
    }
}

/// The cache subdirectory called exactly `name` (no realm added), checked as
/// [`cache_subdir`] says.
pub fn cache_subdir_named(name: &str) -> io::Result<PrivateDir> {
    let root = cache_dir()?;
    let (base, own) = match (root.parent(), root.file_name()) {
        (Some(base), Some(own)) => (base, own.to_string_lossy().into_owned()),
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{}` cannot be a cache directory", root.display()),
            ));
        }
    };
    open_private_dir(base, &[&own, name])
}

/// The lock file guarding `key` (a credential store entry), in the cache's `locks` directory.
pub fn lock_file(key: &str) -> io::Result<DirFile> {
    Ok(cache_subdir("locks")?.file(format!("{}.lock", file_name_for(key))))
}

/// Opens `base` (trusted as the module docs say), then each of `own` below it, which must be the
/// user's own private directories; creates what is missing.
#[cfg(unix)]
pub fn open_private_dir(base: &std::path::Path, own: &[&str]) -> io::Result<PrivateDir> {
    let (mut dir, mut shown) = walk::open_trusted(&std::path::absolute(base)?)?;
    for name in own {
        shown.push(name);
        dir = walk::open_own(&dir, name, &shown)?;
    }
    Ok(PrivateDir::new(dir, shown))
}

/// Like [`open_private_dir`], for a `base` that must itself be the user's own and closed to
/// everyone else (a runtime directory, mode 0700): refused when another user owns it or group or
/// others have any access to it. The last directory of `own` is made 0700. (Linux: only the
/// `system` store's role-credential tier needs it.)
#[cfg(target_os = "linux")]
pub fn open_owned_private_dir(base: &std::path::Path, own: &[&str]) -> io::Result<PrivateDir> {
    let base = std::path::absolute(base)?;
    let (Some(parent), Some(name)) = (base.parent(), base.file_name()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` cannot be a private directory", base.display()),
        ));
    };
    let (parent, mut shown) = walk::open_trusted(parent)?;
    shown.push(name);
    let mut dir = walk::open_closed(&parent, name, &shown)?;
    for name in own {
        shown.push(name);
        dir = walk::open_own(&dir, name, &shown)?;
    }
    let private = PrivateDir::new(dir, shown);
    private.make_private()?;
    Ok(private)
}

/// Windows has no mode bits; the user profile directory is private by its ACL.
#[cfg(not(unix))]
pub fn open_private_dir(base: &std::path::Path, own: &[&str]) -> io::Result<PrivateDir> {
    let dir = own
        .iter()
        .fold(base.to_path_buf(), |dir, name| dir.join(name));
    crate::fs::create_private_dir(&dir)?;
    Ok(PrivateDir::new(dir))
}

#[cfg(unix)]
mod walk {
    use std::ffi::OsString;
    use std::fs::File;
    use std::io;
    use std::os::unix::ffi::OsStringExt;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Component, Path, PathBuf};

    use rustix::fs::{
        AtFlags, FileType, Mode, OFlags, fchmod, mkdirat, openat, readlinkat, statat,
    };
    use rustix::io::Errno;

    use crate::fs::Exposure;
    use crate::fs::PRIVATE_DIR_MODE;

    /// More symlinks than this on one path is a loop, as for the kernel's own lookups.
    const MAX_SYMLINKS: usize = 40;
    const STICKY: u32 = 0o1000;

    /// What sits at a name, opened as a directory or found to be something else.
    enum Found {
        Dir(File),
        Symlink,
        NotDir,
    }

    /// Opens `name` in `dir` as a directory without following a symlink, creating it 0700 if
    /// missing.
    fn open_dir(dir: &File, name: &OsString) -> io::Result<Found> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut created = false;
        loop {
            match openat(dir, name.as_os_str(), flags, Mode::empty()) {
                Ok(fd) => {
                    let opened = File::from(fd);
                    if created {
                        // mkdirat honours the umask; the mode must be exact.
                        fchmod(&opened, Mode::from_raw_mode(PRIVATE_DIR_MODE))?;
                    }
                    return Ok(Found::Dir(opened));
                }
                Err(Errno::NOENT) if !created => {
                    match mkdirat(dir, name.as_os_str(), Mode::from_raw_mode(PRIVATE_DIR_MODE)) {
                        Ok(()) => created = true,
                        // Made by someone else meanwhile: opened and checked like any other.
                        Err(Errno::EXIST) => {}
                        Err(error) => return Err(error.into()),
                    }
                }
                Err(Errno::LOOP | Errno::NOTDIR) => {
                    let stat = statat(dir, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)?;
                    return Ok(
                        if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink {
                            Found::Symlink
                        } else {
                            Found::NotDir
                        },
                    );
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    fn refuse(path: &Path, problem: impl std::fmt::Display, fix: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("refusing `{}`: {problem}; {fix}", path.display()),
        )
    }

    fn not_a_directory(path: &Path) -> io::Error {
        io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("`{}` is not a directory", path.display()),
        )
    }

    /// Whether a directory or symlink owned by `uid` may lead to the cache: the user's or root's.
    fn trusted_owner(uid: u32) -> bool {
        // SAFETY: geteuid has no preconditions and cannot fail.
        uid == 0 || uid == unsafe { libc::geteuid() }
    }

    const ELSEWHERE: &str = "set XDG_CACHE_HOME to a directory of your own";

    /// Checks a directory above the cache.
    fn check_trusted(dir: &File, path: &Path) -> io::Result<()> {
        let metadata = dir.metadata()?;
        let mode = metadata.mode() & 0o7777;
        if !trusted_owner(metadata.uid()) {
            let exposure = Exposure::Owner {
                uid: metadata.uid(),
            };
            return Err(refuse(path, exposure, ELSEWHERE));
        }
        if mode & 0o022 != 0 && mode & STICKY == 0 {
            let fix = format!("run `chmod go-w` on it, or {ELSEWHERE}");
            return Err(refuse(path, Exposure::Writable { mode }, &fix));
        }
        Ok(())
    }

    /// Opens the absolute path `path`, checking every directory on the way (see the module docs).
    /// Returns the directory and its path with symlinks replaced by their targets.
    pub(super) fn open_trusted(path: &Path) -> io::Result<(File, PathBuf)> {
        let root = File::open("/")?;
        check_trusted(&root, Path::new("/"))?;
        // The directories walked so far, `/` first, so that `..` in a link goes back up.
        let mut stack = vec![(root, PathBuf::from("/"))];
        let mut pending: Vec<OsString> = Vec::new();
        push_components(&mut pending, &mut stack, path);
        let mut links = 0;
        while let Some(name) = pending.pop() {
            if name == ".." {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            let (dir, dir_path) = stack.last().expect("`/` stays");
            let here = dir_path.join(&name);
            match open_dir(dir, &name)? {
                Found::Dir(opened) => {
                    check_trusted(&opened, &here)?;
                    stack.push((opened, here));
                }
                Found::Symlink => {
                    let stat = statat(dir, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)?;
                    if !trusted_owner(stat.st_uid) {
                        let exposure = Exposure::Owner { uid: stat.st_uid };
                        return Err(refuse(&here, exposure, ELSEWHERE));
                    }
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Errno::LOOP.into());
                    }
                    let target = readlinkat(dir, name.as_os_str(), Vec::new())?;
                    let target = PathBuf::from(OsString::from_vec(target.into_bytes()));
                    push_components(&mut pending, &mut stack, &target);
                }
                Found::NotDir => return Err(not_a_directory(&here)),
            }
        }
        Ok(stack.pop().expect("`/` stays"))
    }

    /// Queues the components of `path` to walk next (`pending` is a stack: last walked first).
    /// An absolute path starts again from `/`.
    fn push_components(pending: &mut Vec<OsString>, stack: &mut Vec<(File, PathBuf)>, path: &Path) {
        if path.has_root() {
            stack.truncate(1);
        }
        for component in path.components().rev() {
            match component {
                Component::Normal(name) => pending.push(name.to_owned()),
                Component::ParentDir => pending.push("..".into()),
                Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            }
        }
    }

    /// Opens the existing directory `name` in `dir` (at `path`), never through a symlink, and
    /// checks that it is the user's own and closed to group and others.
    #[cfg(target_os = "linux")]
    pub(super) fn open_closed(dir: &File, name: &std::ffi::OsStr, path: &Path) -> io::Result<File> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let opened = match openat(dir, name, flags, Mode::empty()) {
            Ok(fd) => File::from(fd),
            Err(Errno::LOOP | Errno::NOTDIR) => {
                return Err(refuse(
                    path,
                    "it is not a directory (or is a symbolic link)",
                    "it must be a directory of your own",
                ));
            }
            Err(error) => return Err(error.into()),
        };
        let metadata = opened.metadata()?;
        let mode = metadata.mode() & 0o7777;
        // SAFETY: geteuid has no preconditions and cannot fail.
        if metadata.uid() != unsafe { libc::geteuid() } {
            let exposure = Exposure::Owner {
                uid: metadata.uid(),
            };
            return Err(refuse(path, exposure, "it must be your own"));
        }
        if mode & 0o077 != 0 {
            return Err(refuse(
                path,
                format!("group or others have access to it (mode {mode:04o})"),
                "run `chmod 700` on it",
            ));
        }
        Ok(opened)
    }

    /// Opens `name` in `dir` (at `path`): one of atmos-auth's own directories, which must be a
    /// real directory of the user's, writable by nobody else.
    pub(super) fn open_own(dir: &File, name: &str, path: &Path) -> io::Result<File> {
        let opened = match open_dir(dir, &OsString::from(name))? {
            Found::Dir(opened) => opened,
            Found::Symlink => {
                return Err(refuse(
                    path,
                    "it is a symbolic link",
                    "remove it: atmos-auth creates this directory itself",
                ));
            }
            Found::NotDir => return Err(not_a_directory(path)),
        };
        if let Some(exposure) = Exposure::of(&opened.metadata()?) {
            let fix = match exposure {
                Exposure::Owner { .. } => {
                    "remove it or set XDG_CACHE_HOME to a directory of your own"
                }
                Exposure::Writable { .. } => "run `chmod 700` on it",
            };
            return Err(refuse(path, exposure, fix));
        }
        Ok(opened)
    }
}

/// A short, stable file name for an arbitrary key: the first 128 bits of its SHA-256, in hex.
/// Stable across Rust versions, unlike `DefaultHasher`, so every process of every version agrees
/// on it; and a profile cannot be written whose key lands on another profile's file (a
/// non-cryptographic hash such as FNV lets anyone construct a key with a chosen name).
pub fn file_name_for(key: &str) -> String {
    use sha2::{Digest, Sha256};

    Sha256::digest(key.as_bytes())[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_stable_and_distinct() {
        assert_eq!(file_name_for(""), "e3b0c44298fc1c149afbf4c8996fb924");
        assert_eq!(file_name_for("a"), "ca978112ca1bbdcafac231b39a23dc4d");
        assert_ne!(
            file_name_for("role-credentials:a"),
            file_name_for("role-credentials:b")
        );
    }

    #[cfg(unix)]
    mod unix {
        use std::fs;
        use std::os::unix::fs::{PermissionsExt, chown, symlink};
        use std::path::Path;

        use super::super::open_private_dir;

        fn set_mode(path: &Path, mode: u32) {
            fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
        }

        fn refusal(base: &Path, own: &[&str]) -> String {
            open_private_dir(base, own).unwrap_err().to_string()
        }

        #[test]
        fn missing_dirs_are_created_0700_and_files_land_in_them() {
            let base = tempfile::tempdir().unwrap();
            let dir =
                open_private_dir(&base.path().join("made/here"), &["atmos-auth", "locks"]).unwrap();
            let expected = base.path().join("made/here/atmos-auth/locks");
            assert_eq!(dir.path(), expected);
            for made in [
                "made",
                "made/here",
                "made/here/atmos-auth",
                "made/here/atmos-auth/locks",
            ] {
                let mode = fs::metadata(base.path().join(made))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o7777, 0o700, "{made}");
            }
            dir.file("state.json").write_atomic(b"x", 0o600).unwrap();
            assert_eq!(fs::read(expected.join("state.json")).unwrap(), b"x");
            assert_eq!(dir.file("state.json").read().unwrap(), b"x");
        }

        #[test]
        fn a_group_or_world_writable_dir_is_refused_with_the_fix() {
            let base = tempfile::tempdir().unwrap();
            let own = base.path().join("own");
            open_private_dir(base.path(), &["own"]).unwrap();
            for mode in [0o770, 0o707, 0o777, 0o1777] {
                set_mode(&own, mode);
                let message = refusal(base.path(), &["own"]);
                assert_eq!(
                    message,
                    format!(
                        "refusing `{}`: it is writable by group or others (mode {mode:04o}); run \
                         `chmod 700` on it",
                        own.display()
                    )
                );
            }
            // Readable by others is not a risk to what we write.
            set_mode(&own, 0o755);
            open_private_dir(base.path(), &["own"]).unwrap();
        }

        #[test]
        fn a_dir_of_another_user_is_refused() {
            let base = tempfile::tempdir().unwrap();
            let own = base.path().join("own");
            open_private_dir(base.path(), &["own"]).unwrap();
            chown(&own, Some(12345), Some(12345)).unwrap();
            let message = refusal(base.path(), &["own"]);
            assert!(
                message.contains("belongs to another user (uid 12345)"),
                "{message}"
            );
        }

        /// atmos-auth's own directories are never reached through a symlink, even one pointing
        /// at a private directory of the user's.
        #[test]
        fn a_symlinked_own_dir_is_refused() {
            let base = tempfile::tempdir().unwrap();
            let elsewhere = base.path().join("elsewhere");
            fs::create_dir(&elsewhere).unwrap();
            set_mode(&elsewhere, 0o700);
            symlink(&elsewhere, base.path().join("own")).unwrap();
            assert_eq!(
                refusal(base.path(), &["own"]),
                format!(
                    "refusing `{}`: it is a symbolic link; remove it: atmos-auth creates this \
                     directory itself",
                    base.path().join("own").display()
                )
            );
            assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
        }

        /// Above the cache, a symlink of the user's (a symlinked home) is followed, and its target
        /// checked like every other directory on the way: another user's is refused.
        #[test]
        fn a_symlink_above_the_cache_is_followed_and_its_target_checked() {
            let base = tempfile::tempdir().unwrap();
            let mine = base.path().join("mine");
            fs::create_dir(&mine).unwrap();
            set_mode(&mine, 0o700);
            symlink("mine", base.path().join("home")).unwrap();
            let dir = open_private_dir(&base.path().join("home/.cache"), &["atmos-auth"]).unwrap();
            assert_eq!(dir.path(), mine.join(".cache/atmos-auth"));
            assert!(mine.join(".cache/atmos-auth").is_dir());

            let theirs = base.path().join("theirs");
            fs::create_dir(&theirs).unwrap();
            chown(&theirs, Some(12345), Some(12345)).unwrap();
            symlink(&theirs, base.path().join("cache")).unwrap();
            let message = refusal(&base.path().join("cache"), &["atmos-auth"]);
            assert_eq!(
                message,
                format!(
                    "refusing `{}`: it belongs to another user (uid 12345); set XDG_CACHE_HOME to \
                     a directory of your own",
                    theirs.display()
                )
            );
            assert!(
                !theirs.join("atmos-auth").exists(),
                "nothing was created there"
            );
        }

        /// A directory above the cache that others may write to is refused unless it is sticky,
        /// like `/tmp`, where they cannot rename or delete the user's entries.
        #[test]
        fn a_shared_dir_above_the_cache_must_be_sticky() {
            let base = tempfile::tempdir().unwrap();
            let shared = base.path().join("shared");
            fs::create_dir(&shared).unwrap();
            set_mode(&shared, 0o777);
            let message = refusal(&shared, &["atmos-auth"]);
            assert!(
                message.contains("writable by group or others (mode 0777); run `chmod go-w`"),
                "{message}"
            );
            set_mode(&shared, 0o1777);
            open_private_dir(&shared, &["atmos-auth"]).unwrap();
        }
    }
}
