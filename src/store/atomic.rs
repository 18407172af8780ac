//! Private files and directories, and writes that a crash cannot leave half done.
//!
//! It owns [`write_atomic`] (temp file in the same directory, exact mode, fsync, rename, fsync of
//! the directory) and the helpers that create files and directories with an exact mode whatever
//! the umask. It must not decide what is written or where: callers pass the path and the mode.
//!
//! Modes are set twice: at creation, so the file is never visible with a wider mode, and again
//! afterwards, because creation honours the umask and the mode must be exact (a umask of 0277
//! would otherwise leave a file its owner cannot rewrite). On non-Unix platforms modes do not
//! apply and only the write protocol remains.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

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
