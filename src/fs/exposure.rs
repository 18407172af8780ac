//! Who besides the current user could change a path: the one rule for the store, the cache
//! directories and (read-only) the configuration.

use std::fs;

/// Why a path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Exposure {
    #[error("it is writable by group or others (mode {mode:04o})")]
    Writable { mode: u32 },
    #[error("it belongs to another user (uid {uid})")]
    Owner { uid: u32 },
}

impl Exposure {
    /// How `metadata`'s path is exposed to other users, if at all: owned by someone else, or
    /// writable by group or others. The one rule for the store and the cache directories.
    #[cfg(unix)]
    pub fn of(metadata: &fs::Metadata) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;

        // SAFETY: geteuid has no preconditions and cannot fail.
        let euid = unsafe { libc::geteuid() };
        let mode = metadata.mode() & 0o7777;
        if metadata.uid() != euid {
            Some(Self::Owner {
                uid: metadata.uid(),
            })
        } else if mode & 0o022 != 0 {
            Some(Self::Writable { mode })
        } else {
            None
        }
    }

    /// Like `of`, for files atmos-auth only reads (the configuration): a path owned by root is
    /// not another user's, since root can write anything anyway.
    #[cfg(unix)]
    pub fn of_read_only(metadata: &fs::Metadata) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;

        match Self::of(metadata) {
            Some(Self::Owner { uid: 0 }) => {
                let mode = metadata.mode() & 0o7777;
                (mode & 0o022 != 0).then_some(Self::Writable { mode })
            }
            exposure => exposure,
        }
    }
}
