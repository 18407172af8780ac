//! The cross-process lock on one credential-store entry, taken the one way every caller takes
//! it: at once when it is free, else after saying on stderr what is being waited for (the holder
//! may be waiting for a person to finish a browser or device login), for at most `LOCK_WAIT`.

use std::time::Duration;

use super::ProviderError;
use crate::fs::{FileLock, LockError};
use crate::paths;
use crate::store::EntryKey;

/// How long to wait for another process holding the lock. A device login behind it lasts at
/// most as long as its code (10 minutes at AWS), a browser login as long as its timeout (10
/// minutes unless set otherwise); a killed holder releases the lock at once.
pub const LOCK_WAIT: Duration = Duration::from_secs(11 * 60);

/// The exclusive lock of `entry`. `waiting_for` completes "Waiting for another atmos-auth
/// process …", shown only when another process holds it. Blocks: async callers run it on a
/// blocking thread.
pub fn lock_entry(entry: &EntryKey, waiting_for: &str) -> Result<FileLock, ProviderError> {
    let path = paths::lock_file(&entry.to_string()).map_err(ProviderError::CacheDir)?;
    match FileLock::exclusive(&path, Duration::ZERO) {
        Err(LockError::TimedOut { .. }) => {}
        other => return Ok(other?),
    }
    eprintln!("Waiting for another atmos-auth process {waiting_for}...");
    Ok(FileLock::exclusive(&path, LOCK_WAIT)?)
}
