//! Private files and directories, and writes that a crash cannot leave half done.
//!
//! It owns [`write_atomic`] (temp file in the same directory, exact mode, fsync, rename, fsync of
//! the directory) and the helpers that create files and directories with an exact mode whatever
//! the umask. It must not decide what is written or where: callers pass the path and the mode.
//!
//! [`PrivateDir`] does the same inside a directory held open: files are created, read and
//! renamed relative to the directory's file descriptor and never through a symlink, so once the
//! directory has been checked (see `paths.rs`) nobody can swap it, or a file in it, between the
//! check and the write.
//!
//! Modes are set twice: at creation, so the file is never visible with a wider mode, and again
//! afterwards, because creation honours the umask and the mode must be exact (a umask of 0277
//! would otherwise leave a file its owner cannot rewrite). On non-Unix platforms modes do not
//! apply and only the write protocol remains.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::sync::Arc;

/// Owner read and write: every file that holds or guards secrets.
pub const PRIVATE_FILE_MODE: u32 = 0o600;
/// Owner only: every directory atmos-auth creates for such files.
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Replaces `path` with `bytes` so that readers see the old content or the new, never a mix,
/// and a crash leaves one of the two on disk.
///
/// The bytes go to a temp file in the same directory (so the rename stays on one file system),
/// created with `mode` and set to exactly `mode`, then fsync, rename over `path`, and fsync of the
/// directory so the rename itself survives a power loss. The temp file is removed on error.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(mode));
    let mut temp = builder.tempfile_in(dir)?;
    set_mode(temp.as_file(), mode)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|error| error.error)?;
    sync_dir(dir)
}

/// Creates `dir` and any missing parents with mode 0700. A directory that already exists is left
/// as it is: callers that need it private check it (see `file.rs`).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR_MODE);
    builder.create(dir)?;
    // The parents were created with 0700 minus the umask, which is at most 0700; the directory
    // itself is set exactly.
    #[cfg(unix)]
    fs::set_permissions(
        dir,
        std::os::unix::fs::PermissionsExt::from_mode(PRIVATE_DIR_MODE),
    )?;
    Ok(())
}

/// Creates `path`, which must not exist yet, with exactly `mode`, using the access in `options`.
pub(super) fn create_new_private(
    options: &mut OpenOptions,
    path: &Path,
    mode: u32,
) -> io::Result<File> {
    options.create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, mode);
    let file = options.open(path)?;
    set_mode(&file, mode)?;
    Ok(file)
}

fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))?;
    #[cfg(not(unix))]
    let _ = (file, mode);
    Ok(())
}

/// The directory holding `path`; a bare file name is in the current directory.
pub(super) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Makes a rename in `dir` durable. Windows cannot open a directory as a file, and its renames
/// are journaled by NTFS, so there is nothing to do there.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A directory that has been checked private, held open so that every file made in it lands in
/// that very directory, whatever happens to its path afterwards.
#[derive(Debug, Clone)]
pub struct PrivateDir {
    /// The open directory (Unix); files are reached relative to it.
    #[cfg(unix)]
    fd: Arc<File>,
    /// Where it was found, for messages and for programs that need a path.
    path: PathBuf,
}

/// A file in a [`PrivateDir`], by name.
#[derive(Debug, Clone)]
pub struct DirFile {
    dir: PrivateDir,
    name: String,
}

impl PrivateDir {
    /// Wraps `fd`, the directory found at `path`, which the caller has checked.
    #[cfg(unix)]
    pub fn new(fd: File, path: PathBuf) -> Self {
        Self {
            fd: Arc::new(fd),
            path,
        }
    }

    /// The directory at `path`, which the caller has checked.
    #[cfg(not(unix))]
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes every permission from group and others (0700): for directories whose files must
    /// not even be listed by others, where the owner check alone allows 0755.
    pub fn make_private(&self) -> io::Result<()> {
        #[cfg(unix)]
        set_mode(&self.fd, PRIVATE_DIR_MODE)?;
        Ok(())
    }

    /// The plain files in this directory (not directories, not symlinks), sorted by name.
    #[cfg(unix)]
    pub fn files(&self) -> io::Result<Vec<DirFile>> {
        use rustix::fs::{Dir, FileType};

        let mut names = Vec::new();
        for entry in Dir::read_from(&*self.fd)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type() == FileType::RegularFile {
                names.push(name);
            }
        }
        names.sort();
        Ok(names.into_iter().map(|name| self.file(name)).collect())
    }

    #[cfg(not(unix))]
    pub fn files(&self) -> io::Result<Vec<DirFile>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.path)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names.into_iter().map(|name| self.file(name)).collect())
    }

    /// The file `name` in this directory. `name` must be a plain file name.
    pub fn file(&self, name: impl Into<String>) -> DirFile {
        DirFile {
            dir: self.clone(),
            name: name.into(),
        }
    }
}

impl DirFile {
    /// The file's name in its directory.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file's path, for messages and for other programs.
    pub fn path(&self) -> PathBuf {
        self.dir.path.join(&self.name)
    }

    /// Removes the file from the held directory (a symlink in its place is removed, not
    /// followed). A file already gone is not an error.
    pub fn remove(&self) -> io::Result<()> {
        #[cfg(unix)]
        let removed = rustix::fs::unlinkat(&*self.dir.fd, &self.name, rustix::fs::AtFlags::empty())
            .map_err(io::Error::from);
        #[cfg(not(unix))]
        let removed = fs::remove_file(self.path());
        match removed {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// The file's bytes. A symlink in its place is not followed: it fails to open.
    pub fn read(&self) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.open(false)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// The file opened read-only, for reading parts of it. A symlink in its place is not
    /// followed: it fails to open.
    pub fn open_read(&self) -> io::Result<File> {
        self.open(false)
    }

    /// [`write_atomic`] into the held directory: a temp file beside it (created, never opened
    /// through a symlink), exact `mode`, fsync, rename, fsync of the directory.
    #[cfg(unix)]
    pub fn write_atomic(&self, bytes: &[u8], mode: u32) -> io::Result<()> {
        use rustix::fs::{AtFlags, Mode, OFlags, openat, renameat, unlinkat};

        let dir = &*self.dir.fd;
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(io::Error::other)?;
        let suffix: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
        let temp = format!(".{}.{suffix}.tmp", self.name);
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut file = File::from(openat(dir, &temp, flags, Mode::from_raw_mode(mode))?);
        let written = set_mode(&file, mode)
            .and_then(|()| file.write_all(bytes))
            .and_then(|()| file.sync_all())
            .and_then(|()| Ok(renameat(dir, &temp, dir, &self.name)?))
            .and_then(|()| dir.sync_all());
        if written.is_err() {
            let _ = unlinkat(dir, &temp, AtFlags::empty());
        }
        written
    }

    #[cfg(not(unix))]
    pub fn write_atomic(&self, bytes: &[u8], mode: u32) -> io::Result<()> {
        write_atomic(&self.path(), bytes, mode)
    }

    /// Opens the file read-only, or creates it with exactly `PRIVATE_FILE_MODE` (read and
    /// write) when `create` is set and it does not exist. Never through a symlink.
    #[cfg(unix)]
    pub(super) fn open(&self, create: bool) -> io::Result<File> {
        use rustix::fs::{Mode, OFlags, openat};

        let dir = &*self.dir.fd;
        let flags = OFlags::NOFOLLOW | OFlags::CLOEXEC;
        if create {
            let mode = Mode::from_raw_mode(PRIVATE_FILE_MODE);
            match openat(
                dir,
                &self.name,
                flags | OFlags::RDWR | OFlags::CREATE | OFlags::EXCL,
                mode,
            ) {
                Ok(fd) => {
                    let file = File::from(fd);
                    set_mode(&file, PRIVATE_FILE_MODE)?;
                    return Ok(file);
                }
                Err(rustix::io::Errno::EXIST) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(File::from(openat(
            dir,
            &self.name,
            flags | OFlags::RDONLY,
            Mode::empty(),
        )?))
    }

    #[cfg(not(unix))]
    pub(super) fn open(&self, create: bool) -> io::Result<File> {
        let path = self.path();
        if create {
            match create_new_private(
                OpenOptions::new().read(true).write(true),
                &path,
                PRIVATE_FILE_MODE,
            ) {
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
                other => return other,
            }
        }
        File::open(path)
    }
}
