//! Files on disk that are not the credential store itself: private files and directories,
//! writes that a crash cannot leave half done, and cross-process locks.
//!
//! It owns the mechanics (modes, temp file and rename, `O_NOFOLLOW` work inside a held
//! directory) and must not decide what is written, where, or what a lock protects: `paths.rs`
//! decides where, and callers decide what.
//!
//! - `atomic.rs`: [`write_atomic`], [`PrivateDir`] and files and directories with exact modes.
//! - `exposure.rs`: [`Exposure`], whether a path is open to other users.
//! - `lock.rs`: [`FileLock`], a cross-process lock with a deadline.

mod atomic;
mod exposure;
mod lock;

pub(crate) use atomic::parent_dir;
pub use atomic::{
    DirFile, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, PrivateDir, create_private_dir, write_atomic,
};
pub use exposure::Exposure;
pub use lock::{FileLock, LockError, LockMode, LockTarget};
