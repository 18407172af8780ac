//! `FileLock`: a cross-process advisory lock on a file, taken with a deadline.
//!
//! It owns taking, polling for and releasing one lock. It is used by the `file` store (one lock
//! beside the credential file) and is meant for any other "only one process at a time" section
//! (one refresh per cache entry, one device authorization per login). It must not decide what the
//! lock protects, and must never wait without a deadline.
//!
//! The lock is `flock(2)` on Unix (`LockFileEx` on Windows), through `std::fs::File::lock`. It is
//! held by the open file, so:
//! - it is released when the [`FileLock`] is dropped, and by the kernel when the process dies,
//!   even by `SIGKILL`: a crashed holder never leaves a stale lock behind;
//! - two handles in one process exclude each other like two processes do;
//! - it is advisory: it only excludes other code that takes the same lock.
//!
//! The lock file is created empty (mode 0600) and never deleted: deleting it while another
//! process waits on the old inode would let two processes hold "the" lock at once.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use super::atomic::{DirFile, PRIVATE_FILE_MODE, create_new_private};

/// First pause between two attempts; it doubles up to [`MAX_POLL_INTERVAL`].
const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(2);
/// Longest pause between two attempts, so a released lock is picked up quickly.
const MAX_POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Whether other holders may hold the lock at the same time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Any number of shared holders, and no exclusive one: for readers.
    Shared,
    /// One holder only: for writers, and for "only one process does this" sections.
    Exclusive,
}

impl LockMode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Shared => "shared",
            Self::Exclusive => "exclusive",
        }
    }
}

/// Where a lock file is: a path, or a [`DirFile`] in a checked directory (the cache's lock
/// files, see `paths.rs`), opened relative to that directory and never through a symlink.
pub trait LockTarget {
    /// Opens the lock file, creating it (mode 0600) if needed. The parent directory must exist.
    fn open_lock_file(&self) -> io::Result<File>;
    /// The lock file's path, for messages.
    fn lock_path(&self) -> PathBuf;
}

impl LockTarget for Path {
    fn open_lock_file(&self) -> io::Result<File> {
        open_lock_file(self)
    }

    fn lock_path(&self) -> PathBuf {
        self.to_owned()
    }
}

impl LockTarget for PathBuf {
    fn open_lock_file(&self) -> io::Result<File> {
        open_lock_file(self)
    }

    fn lock_path(&self) -> PathBuf {
        self.clone()
    }
}

impl LockTarget for DirFile {
    fn open_lock_file(&self) -> io::Result<File> {
        self.open(true)
    }

    fn lock_path(&self) -> PathBuf {
        self.path()
    }
}

impl<T: LockTarget + ?Sized> LockTarget for &T {
    fn open_lock_file(&self) -> io::Result<File> {
        (**self).open_lock_file()
    }

    fn lock_path(&self) -> PathBuf {
        (**self).lock_path()
    }
}

/// A held lock. Dropping it releases the lock.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
    mode: LockMode,
}

impl FileLock {
    /// Takes the lock on `path` for this holder alone, creating the file (mode 0600) if needed,
    /// waiting at most `timeout`. The parent directory must exist.
    pub fn exclusive(target: impl LockTarget, timeout: Duration) -> Result<Self, LockError> {
        Self::acquire(&target, LockMode::Exclusive, timeout)
    }

    /// Takes the lock on `path` alongside other shared holders, like [`FileLock::exclusive`].
    pub fn shared(target: impl LockTarget, timeout: Duration) -> Result<Self, LockError> {
        Self::acquire(&target, LockMode::Shared, timeout)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn mode(&self) -> LockMode {
        self.mode
    }

    fn acquire(
        target: &impl LockTarget,
        mode: LockMode,
        timeout: Duration,
    ) -> Result<Self, LockError> {
        let path = &target.lock_path();
        let io_error = |source| LockError::Io {
            path: path.to_owned(),
            source,
        };
        let file = target.open_lock_file().map_err(io_error)?;
        let deadline = Instant::now() + timeout;
        let mut pause = FIRST_POLL_INTERVAL;
        loop {
            let attempt = match mode {
                LockMode::Shared => file.try_lock_shared(),
                LockMode::Exclusive => file.try_lock(),
            };
            match attempt {
                Ok(()) => {
                    return Ok(Self {
                        file,
                        path: path.to_owned(),
                        mode,
                    });
                }
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(source)) => return Err(io_error(source)),
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(LockError::TimedOut {
                    path: path.to_owned(),
                    mode,
                    after: timeout,
                });
            }
            thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(MAX_POLL_INTERVAL);
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes the release independent
        // of any other handle on the same open file.
        let _ = self.file.unlock();
    }
}

/// Opens the lock file, creating it 0600 whatever the umask. An existing one is opened read-only:
/// a lock needs no write access, so a lock file with odd permissions still works.
fn open_lock_file(path: &Path) -> io::Result<File> {
    match create_new_private(
        OpenOptions::new().read(true).write(true),
        path,
        PRIVATE_FILE_MODE,
    ) {
        Ok(file) => Ok(file),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => File::open(path),
        Err(error) => Err(error),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another holder kept the lock for the whole timeout.
    #[error(
        "another process held the lock on `{}` for {} ({} lock wanted)",
        path.display(),
        humantime::format_duration(*after),
        mode.as_str()
    )]
    TimedOut {
        path: PathBuf,
        mode: LockMode,
        after: Duration,
    },

    /// The lock file could not be created, opened or locked.
    #[error("failed to lock `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl LockError {
    pub fn path(&self) -> &Path {
        match self {
            Self::TimedOut { path, .. } | Self::Io { path, .. } => path,
        }
    }
}
