//! The role-credential tier of the Linux `system` store: role credentials encrypted in files under
//! `$XDG_RUNTIME_DIR`, with the key in the kernel keyring.
//!
//! This file owns the tier's directory, its file format and its key. It must not decide which
//! entries live here (`layered.rs` does: role credentials only) or read the values it keeps.
//!
//! Why. An ordinary user's kernel key quota (20,000 bytes) holds about a dozen role credentials,
//! and the Secret Service keeps its items in a file on disk, where short-lived credentials must
//! never go. The runtime directory (`/run/user/<uid>`, made by systemd-logind) is a tmpfs owned by
//! the user: memory, never disk, removed when the user's last session ends. So each role
//! credential is one file there, sealed with XChaCha20-Poly1305 under a random 256-bit key that
//! lives in the kernel keyring (about 100 bytes of quota whatever the number of identities). A
//! read is one file open, one kernel-keyring read and one decryption; nothing is parsed but the
//! entry that is asked for. The files alone are worthless: a copy (a backup of the tmpfs, a core
//! dump of another program) cannot be read without the kernel key, which other users cannot read
//! and which the kernel drops after [`KEY_LIFETIME`] without a save (every save renews it, so it
//! outlives every credential sealed under it).
//!
//! The directory. `$XDG_RUNTIME_DIR` must be an absolute path to a directory owned by the user,
//! with no access for group or others (0700, as logind makes it); the path to it is walked as
//! `paths.rs` walks the cache (no symlink of another user's, nothing others can write), and
//! `atmos-auth/role-credentials` below it is created 0700, each file 0600, written atomically
//! (temp file, rename) and never through a symlink. Anything else (a runtime directory of another
//! user, as `su` without a login leaves behind, or one others can enter) is refused:
//! [`RoleTier::open`] says why, and the store keeps role credentials in the kernel keyring
//! alone, as it does when there is no runtime directory at all (cron, `su`, containers).
//!
//! A file that cannot be used is a cache miss, never an error that stops the run, and it is
//! removed: sealed under a key that is gone (a `keyctl purge`, the key's timeout), past its
//! expiry, or damaged; only damage ([`Unusable::Tampered`]) is worth a warning. The entry's name
//! is in the authenticated header, so a file copied over another entry's (another identity, or
//! the same one at other endpoints) fails to open as that entry.
//!
//! Layout of a file, little-endian, header then ciphertext; the whole header is the AEAD's
//! associated data:
//!
//! | bytes | field |
//! | --- | --- |
//! | 8 | magic `ATMOSRC1` |
//! | 8 | key id: the first 8 bytes of SHA-256 of the key |
//! | 8 | expiry, seconds since the Unix epoch; 0 for none |
//! | 24 | nonce, random per write |
//! | 2 | length of the entry's name |
//! | n | the entry's name ([`EntryKey::user`]) |
//! | rest | the sealed value, then the 16-byte tag |

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{DirFile, EntryKey, Namespace, PRIVATE_FILE_MODE, PrivateDir};
use crate::secret::Secret;

/// The environment variable naming the runtime directory (XDG Base Directory specification).
const RUNTIME_DIR_ENV: &str = "XDG_RUNTIME_DIR";
/// The tier's directory, below the runtime directory.
const TIER_DIRS: [&str; 2] = ["atmos-auth", "role-credentials"];
/// The lock taken while a new key is made, so that racing processes agree on one.
const KEY_LOCK_FILE: &str = ".key.lock";
/// How long to wait for another process making the key: it only generates and saves 32 bytes.
const KEY_LOCK_TIMEOUT: Duration = Duration::from_secs(5);
/// The kernel drops the key this long after the last save. Longer than any STS credentials
/// (12 hours at most), so no entry outlives the key it was sealed with.
pub(super) const KEY_LIFETIME: Duration = Duration::from_secs(13 * 3600);

const MAGIC: &[u8; 8] = b"ATMOSRC1";
const KEY_LEN: usize = 32;
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const NAME_AT: usize = MAGIC.len() + KEY_ID_LEN + 8 + NONCE_LEN + 2;

/// The kernel-keyring entry holding the key. Its id has no `@`, so no bound id of real role
/// credentials can be equal to it; `layered.rs` keeps it out of listings.
pub(super) fn key_entry() -> EntryKey {
    EntryKey::new(Namespace::RoleCredentials, KEY_ID)
}

/// The key's id. Unit tests run as the same user as every other run on a test machine (root),
/// whose kernel keyring holds one key: theirs is another, so that a `logout` beside them never
/// removes it, nor they the key of a real run.
#[cfg(not(test))]
const KEY_ID: &str = "#role-tier-key";
#[cfg(test)]
const KEY_ID: &str = "#role-tier-key-unit-test";

/// The 256-bit key every file of the tier is sealed with.
pub(super) struct TierKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
    id: [u8; KEY_ID_LEN],
}

impl TierKey {
    /// A new random key.
    pub(super) fn generate() -> io::Result<Self> {
        let mut bytes = Zeroizing::new([0; KEY_LEN]);
        getrandom::fill(bytes.as_mut_slice()).map_err(io::Error::other)?;
        Ok(Self::from_bytes(bytes))
    }

    fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        let digest = Sha256::digest(bytes.as_slice());
        let mut id = [0; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Self { bytes, id }
    }

    /// The key as the kernel keyring keeps it: 64 hex digits.
    pub(super) fn to_stored(&self) -> Secret<String> {
        let mut text = String::with_capacity(2 * KEY_LEN);
        for byte in self.bytes.iter() {
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        Secret::new(text)
    }

    /// The key read back from the kernel keyring; `None` when it is not what [`to_stored`]
    /// wrote (then the caller makes a new one).
    ///
    /// [`to_stored`]: TierKey::to_stored
    pub(super) fn from_stored(stored: &Secret<String>) -> Option<Self> {
        let text = stored.expose().as_bytes();
        if text.len() != 2 * KEY_LEN {
            return None;
        }
        let mut bytes = Zeroizing::new([0; KEY_LEN]);
        for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
            *byte = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Some(Self::from_bytes(bytes))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&(*self.bytes).into())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_digit(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

/// Why a file of the tier gave no value. Each is a cache miss; the file is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unusable {
    /// Sealed with another key: the key was lost (purged, timed out) since.
    OtherKey,
    /// Its credentials have expired.
    Expired,
    /// Not a file the tier wrote, changed since, or another entry's file.
    Tampered,
}

/// Seals `value` for the entry `entry`, under `key`, expiring at `expires_at` (seconds since the
/// epoch, 0 for never).
pub(super) fn seal(
    key: &TierKey,
    entry: &EntryKey,
    value: &Secret<String>,
    expires_at: u64,
) -> io::Result<Vec<u8>> {
    let name = entry.user();
    let name_len = u16::try_from(name.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "the entry name is too long"))?;
    let mut nonce = [0; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(io::Error::other)?;
    let plaintext_len = value.expose().len();
    let mut sealed = Vec::with_capacity(NAME_AT + name.len() + plaintext_len + TAG_LEN);
    sealed.extend_from_slice(MAGIC);
    sealed.extend_from_slice(&key.id);
    sealed.extend_from_slice(&expires_at.to_le_bytes());
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&name_len.to_le_bytes());
    sealed.extend_from_slice(name.as_bytes());
    let header_len = sealed.len();
    // Encrypted in place at the end of the output, so no other buffer holds the plaintext.
    sealed.extend_from_slice(value.expose().as_bytes());
    let (header, body) = sealed.split_at_mut(header_len);
    let tag = key
        .cipher()
        .encrypt_inout_detached(&XNonce::from(nonce), header, body.into())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too much data to encrypt"))?;
    sealed.extend_from_slice(&tag);
    Ok(sealed)
}

/// The header of a file, as far as it parses.
struct Header<'a> {
    key_id: &'a [u8],
    expires_at: u64,
    nonce: &'a [u8],
    name: &'a [u8],
    /// Everything before the ciphertext: the associated data.
    bytes: &'a [u8],
}

fn header(file: &[u8]) -> Option<Header<'_>> {
    if file.len() < NAME_AT || &file[..MAGIC.len()] != MAGIC {
        return None;
    }
    let (key_id, rest) = file[MAGIC.len()..].split_at(KEY_ID_LEN);
    let (expiry, rest) = rest.split_at(8);
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let name_len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
    let name = rest[2..].get(..name_len)?;
    Some(Header {
        key_id,
        expires_at: u64::from_le_bytes(expiry.try_into().ok()?),
        nonce,
        name,
        bytes: &file[..NAME_AT + name_len],
    })
}

/// The entry a file says it holds, without opening it (for listings). `None` for a file that is
/// not one of the tier's.
pub(super) fn entry_of(file: &[u8]) -> Option<EntryKey> {
    let header = header(file)?;
    EntryKey::from_user(std::str::from_utf8(header.name).ok()?)
}

/// The value sealed in `file` for the entry `entry`, with `key`, at `now` (seconds since the
/// epoch).
pub(super) fn open(
    key: &TierKey,
    entry: &EntryKey,
    file: &[u8],
    now: u64,
) -> Result<Secret<String>, Unusable> {
    let header = header(file).ok_or(Unusable::Tampered)?;
    if header.name != entry.user().as_bytes() {
        return Err(Unusable::Tampered);
    }
    if header.key_id != key.id {
        return Err(Unusable::OtherKey);
    }
    let body = &file[header.bytes.len()..];
    let Some(tag_at) = body.len().checked_sub(TAG_LEN) else {
        return Err(Unusable::Tampered);
    };
    let mut plaintext = Zeroizing::new(body[..tag_at].to_vec());
    let tag = Tag::try_from(&body[tag_at..]).map_err(|_| Unusable::Tampered)?;
    let nonce = XNonce::try_from(header.nonce).map_err(|_| Unusable::Tampered)?;
    key.cipher()
        .decrypt_inout_detached(&nonce, header.bytes, plaintext.as_mut_slice().into(), &tag)
        .map_err(|_| Unusable::Tampered)?;
    // Checked once authenticated: an expiry moved forward is tampering, not a later expiry.
    if header.expires_at != 0 && header.expires_at <= now {
        return Err(Unusable::Expired);
    }
    let text = String::from_utf8(std::mem::take(&mut *plaintext)).map_err(|error| {
        // The bytes are secret: wipe them rather than drop them with the error.
        let mut bytes = error.into_bytes();
        zeroize::Zeroize::zeroize(&mut bytes);
        Unusable::Tampered
    })?;
    Ok(Secret::new(text))
}

/// Seconds since the Unix epoch, `lifetime` from now; 0 (never) without one.
pub(super) fn expiry_after(lifetime: Option<Duration>) -> u64 {
    lifetime.map_or(0, |lifetime| {
        (SystemTime::now() + lifetime)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs().max(1))
    })
}

/// Seconds since the Unix epoch, now.
pub(super) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// Why the runtime directory is not used.
#[derive(Debug, thiserror::Error)]
pub(super) enum Refused {
    #[error("`{RUNTIME_DIR_ENV}` (`{}`) is not an absolute path", .0.display())]
    Relative(PathBuf),
    /// Not the user's own, open to others, or unusable; the message says which and the fix.
    #[error(transparent)]
    Unsafe(io::Error),
}

/// The tier's directory, held open.
#[derive(Debug)]
pub(super) struct RoleTier {
    dir: PrivateDir,
}

impl RoleTier {
    /// The tier in this process's runtime directory: `None` when there is none, an error when it
    /// is refused (see the module docs).
    pub(super) fn open() -> Result<Option<Self>, Refused> {
        match std::env::var_os(RUNTIME_DIR_ENV) {
            Some(dir) if !dir.is_empty() => Self::open_in(Path::new(&dir)).map(Some),
            _ => Ok(None),
        }
    }

    /// The tier below the runtime directory `runtime`.
    pub(super) fn open_in(runtime: &Path) -> Result<Self, Refused> {
        if !runtime.is_absolute() {
            return Err(Refused::Relative(runtime.to_owned()));
        }
        crate::paths::open_owned_private_dir(runtime, &TIER_DIRS)
            .map(|dir| Self { dir })
            .map_err(Refused::Unsafe)
    }

    pub(super) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The file of `entry`: a hash of its name, so any id makes a plain file name.
    fn file(&self, entry: &EntryKey) -> DirFile {
        self.dir.file(crate::paths::file_name_for(&entry.user()))
    }

    /// The bytes of `entry`'s file; `None` when there is none.
    pub(super) fn read(&self, entry: &EntryKey) -> io::Result<Option<Vec<u8>>> {
        match self.file(entry).read() {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    pub(super) fn write(&self, entry: &EntryKey, sealed: &[u8]) -> io::Result<()> {
        self.file(entry).write_atomic(sealed, PRIVATE_FILE_MODE)
    }

    /// Removes `entry`'s file; a missing one is not an error.
    pub(super) fn remove(&self, entry: &EntryKey) -> io::Result<()> {
        self.file(entry).remove()
    }

    /// The lock file serialising the making of a new key.
    pub(super) fn key_lock(&self) -> DirFile {
        self.dir.file(KEY_LOCK_FILE)
    }

    pub(super) fn key_lock_timeout(&self) -> Duration {
        KEY_LOCK_TIMEOUT
    }

    /// Whether no entry has a file here (an unreadable directory counts as not empty).
    pub(super) fn is_empty(&self) -> bool {
        self.dir
            .files()
            .is_ok_and(|files| files.iter().all(|file| file.name().starts_with('.')))
    }

    /// The entries with a file here. Files that are not the tier's (temp files, the key lock,
    /// unreadable ones) are left out.
    pub(super) fn entries(&self) -> io::Result<Vec<EntryKey>> {
        let mut entries = Vec::new();
        for file in self.dir.files()? {
            if file.name().starts_with('.') {
                continue;
            }
            if let Some(entry) = file.read().ok().as_deref().and_then(entry_of)
                && self.file(&entry).name() == file.name()
            {
                entries.push(entry);
            }
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn entry(id: &str) -> EntryKey {
        EntryKey::new(Namespace::RoleCredentials, id)
    }

    const VALUE: &str = r#"{"AccessKeyId":"ASIAFAKEEXAMPLE","SecretAccessKey":"sentinel-secret"}"#;

    fn sealed(key: &TierKey, id: &str, expires_at: u64) -> Vec<u8> {
        seal(key, &entry(id), &Secret::new(VALUE.to_owned()), expires_at).unwrap()
    }

    #[test]
    fn a_sealed_entry_opens_with_its_key_and_name_only() {
        let key = TierKey::generate().unwrap();
        let file = sealed(&key, "plat-dev/terraform@ab", 2_000);
        let opened = open(&key, &entry("plat-dev/terraform@ab"), &file, 1_000).unwrap();
        assert_eq!(opened.expose(), VALUE);
        assert!(
            !file
                .windows(b"sentinel-secret".len())
                .any(|w| w == b"sentinel-secret"),
            "the value is in the clear"
        );
        assert_eq!(entry_of(&file), Some(entry("plat-dev/terraform@ab")));
        // Swapped onto another identity's entry, or the same identity at other endpoints.
        for other in ["plat-prod/terraform@ab", "plat-dev/terraform@cd"] {
            assert_eq!(
                open(&key, &entry(other), &file, 1_000).unwrap_err(),
                Unusable::Tampered
            );
        }
        let other_key = TierKey::generate().unwrap();
        assert_eq!(
            open(&other_key, &entry("plat-dev/terraform@ab"), &file, 1_000).unwrap_err(),
            Unusable::OtherKey
        );
    }

    #[test]
    fn a_changed_byte_anywhere_is_tampering() {
        let key = TierKey::generate().unwrap();
        let file = sealed(&key, "x@ab", 2_000);
        let name = entry("x@ab");
        for at in 0..file.len() {
            let mut changed = file.clone();
            changed[at] ^= 0x01;
            let result = open(&key, &name, &changed, 1_000);
            // Bytes 8..16 are the key id: changing it reads as another key's file.
            let expected = if (MAGIC.len()..MAGIC.len() + KEY_ID_LEN).contains(&at) {
                Unusable::OtherKey
            } else {
                Unusable::Tampered
            };
            assert_eq!(result.unwrap_err(), expected, "byte {at}");
        }
        for len in [0, 7, NAME_AT, file.len() - 1] {
            assert_eq!(
                open(&key, &name, &file[..len], 1_000).unwrap_err(),
                Unusable::Tampered,
                "cut to {len}"
            );
        }
    }

    #[test]
    fn an_expired_entry_is_unusable_and_no_expiry_never_expires() {
        let key = TierKey::generate().unwrap();
        let name = entry("x@ab");
        let file = sealed(&key, "x@ab", 1_000);
        assert_eq!(
            open(&key, &name, &file, 1_000).unwrap_err(),
            Unusable::Expired
        );
        assert!(open(&key, &name, &file, 999).is_ok());
        let forever = sealed(&key, "x@ab", 0);
        assert!(open(&key, &name, &forever, u64::MAX).is_ok());
    }

    #[test]
    fn the_key_survives_the_kernel_keyring_round_trip_and_nothing_else_parses() {
        let key = TierKey::generate().unwrap();
        let back = TierKey::from_stored(&key.to_stored()).unwrap();
        assert_eq!(back.bytes.as_slice(), key.bytes.as_slice());
        assert_eq!(back.id, key.id);
        let file = sealed(&key, "x@ab", 0);
        assert!(open(&back, &entry("x@ab"), &file, 0).is_ok());
        for bad in ["", "00", &"g".repeat(64), &"A".repeat(64), &"0".repeat(66)] {
            assert!(
                TierKey::from_stored(&Secret::new(bad.to_owned())).is_none(),
                "{bad}"
            );
        }
        assert_eq!(format!("{:?}", key.to_stored()), "<redacted>");
    }

    #[test]
    fn the_directory_is_private_and_foreign_or_open_runtime_dirs_are_refused() {
        let base = tempfile::tempdir().unwrap();
        let runtime = base.path().join("run");
        std::fs::create_dir(&runtime).unwrap();
        let set_mode = |mode| {
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(mode)).unwrap()
        };
        set_mode(0o700);
        let tier = RoleTier::open_in(&runtime).unwrap();
        assert_eq!(tier.path(), runtime.join("atmos-auth/role-credentials"));
        for dir in ["atmos-auth", "atmos-auth/role-credentials"] {
            let mode = std::fs::metadata(runtime.join(dir))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o7777, 0o700, "{dir}");
        }
        let key = TierKey::generate().unwrap();
        tier.write(&entry("x@ab"), &sealed(&key, "x@ab", 0))
            .unwrap();
        let file = tier
            .path()
            .join(crate::paths::file_name_for("role-credentials:x@ab"));
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o600);
        assert_eq!(tier.entries().unwrap(), vec![entry("x@ab")]);
        tier.remove(&entry("x@ab")).unwrap();
        assert_eq!(tier.read(&entry("x@ab")).unwrap(), None);
        tier.remove(&entry("x@ab")).unwrap();

        set_mode(0o750);
        let refused = RoleTier::open_in(&runtime).unwrap_err().to_string();
        assert_eq!(
            refused,
            format!(
                "refusing `{}`: group or others have access to it (mode 0750); run `chmod 700` \
                 on it",
                runtime.display()
            )
        );
        set_mode(0o700);
        std::os::unix::fs::chown(&runtime, Some(65534), None).unwrap();
        let refused = RoleTier::open_in(&runtime).unwrap_err().to_string();
        assert_eq!(
            refused,
            format!(
                "refusing `{}`: it belongs to another user (uid 65534); it must be your own",
                runtime.display()
            )
        );
        let relative = RoleTier::open_in(Path::new("run")).unwrap_err().to_string();
        assert_eq!(
            relative,
            "`XDG_RUNTIME_DIR` (`run`) is not an absolute path"
        );
    }
}
