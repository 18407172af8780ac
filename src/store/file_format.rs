//! The `file` store's on-disk format: bytes in, entries out, and back. No I/O.
//!
//! It owns the layout, the key derivation (Argon2id) and the encryption (XChaCha20-Poly1305). It
//! must not touch the file system, take locks or read the password from anywhere: `file.rs` does
//! that and hands the bytes and the password here.
//!
//! Layout, little-endian, [`HEADER_LEN`] bytes of header then the ciphertext:
//!
//! | bytes | field |
//! | --- | --- |
//! | 8 | magic `ATMOSENC` |
//! | 1 | format version, 1 |
//! | 1 | key derivation, 1 = Argon2id version 0x13 |
//! | 4, 4, 4 | Argon2 memory (KiB), iterations, parallelism |
//! | 16 | salt, random per file |
//! | 16 | password check: bytes 32..48 of the Argon2 output |
//! | 24 | nonce, random per write |
//! | rest | XChaCha20-Poly1305 ciphertext of the entries, then the 16-byte tag |
//!
//! The whole header is the AEAD's associated data, so a changed cost, salt or check value fails
//! authentication. Argon2 produces 48 bytes: the first 32 are the key, the last 16 the password
//! check. The check tells a wrong password ([`Unseal::WrongPassword`]) from a damaged file
//! ([`Damage::Tampered`]); guessing against it costs one Argon2 run per guess, like guessing
//! against the ciphertext.
//!
//! The plaintext is a sequence of entries, each a `u64` length and the bytes of the key (the
//! [`EntryKey::user`](super::EntryKey::user) string), then a `u64` length and the bytes of the
//! value. A hand-rolled encoding rather than JSON so that every buffer holding plaintext is one
//! this file allocates at its final size and zeroizes.

use std::collections::BTreeMap;
use std::fmt;
use std::io;

use argon2::{Algorithm, Argon2, Version};
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::secret::Secret;

const MAGIC: &[u8; 8] = b"ATMOSENC";
const FORMAT_VERSION: u8 = 1;
const KDF_ARGON2ID_V13: u8 = 1;
const SALT_LEN: usize = 16;
const CHECK_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;
const SALT_AT: usize = MAGIC.len() + 2 + 12;
const CHECK_AT: usize = SALT_AT + SALT_LEN;
const NONCE_AT: usize = CHECK_AT + CHECK_LEN;
/// Everything before the ciphertext.
pub(super) const HEADER_LEN: usize = NONCE_AT + NONCE_LEN;

/// The entries of one file, by [`EntryKey::user`](super::EntryKey::user).
pub(super) type Entries = BTreeMap<String, Secret<String>>;

/// Argon2id cost. New files get [`KdfParams::DEFAULT`]. An existing file is read with the cost
/// in its header if that is at least [`KdfParams::FLOOR`], and rewritten at the current cost on
/// its next write if it is lower (see `file.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl KdfParams {
    /// 64 MiB, 4 passes, 1 lane: about 150 ms in a release build on a 2-core x86-64 VM. One
    /// derivation per process and file, so every command pays it once. `parallelism` stays 1: the
    /// argon2 crate runs lanes one after another unless built with its `parallel` feature.
    pub const DEFAULT: Self = Self {
        memory_kib: 64 * 1024,
        iterations: 4,
        parallelism: 1,
    };

    /// The most a header may ask for. A damaged or hostile header must not make us allocate
    /// terabytes or spin for hours; anything beyond is [`Damage::BadKdf`].
    const MAX: Self = Self {
        memory_kib: 4 * 1024 * 1024,
        iterations: 64,
        parallelism: 16,
    };

    /// The least a header may ask for: OWASP's minimum for Argon2id (19 MiB, 2 passes). A file
    /// below it is refused as [`Damage::WeakKdf`] rather than read: [`KdfParams::DEFAULT`] is far
    /// above it, so such a header was not written by atmos-auth's default settings.
    pub const FLOOR: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Whether `self` costs less than `other` in memory or passes (lanes do not change the work:
    /// the argon2 crate runs them one after another).
    pub(super) fn weaker_than(self, other: Self) -> bool {
        self.memory_kib < other.memory_kib || self.iterations < other.iterations
    }

    /// The larger of the two in each part, so upgrading a file to `other` never lowers any part.
    pub(super) fn at_least(self, other: Self) -> Self {
        Self {
            memory_kib: self.memory_kib.max(other.memory_kib),
            iterations: self.iterations.max(other.iterations),
            parallelism: self.parallelism.max(other.parallelism),
        }
    }

    fn within_limits(self) -> bool {
        self.memory_kib <= Self::MAX.memory_kib
            && self.iterations <= Self::MAX.iterations
            && self.parallelism <= Self::MAX.parallelism
    }
}

/// Why a file could not be read, apart from a wrong password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Damage {
    #[error("it is not an atmos-auth credential file")]
    NotOurs,
    #[error("it uses format {version}, which this atmos-auth does not know")]
    UnknownFormat { version: u8 },
    #[error("it uses key derivation {id}, which this atmos-auth does not know")]
    UnknownKdf { id: u8 },
    #[error("its key derivation cost is out of range")]
    BadKdf,
    #[error("its key derivation cost is below the minimum, so it may have been tampered with")]
    WeakKdf,
    #[error("it is truncated")]
    Truncated,
    #[error("its contents fail authentication")]
    Tampered,
    #[error("its decrypted contents are malformed")]
    Malformed,
}

/// Why [`unseal`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unseal {
    WrongPassword,
    Damaged(Damage),
}

impl From<Damage> for Unseal {
    fn from(damage: Damage) -> Self {
        Self::Damaged(damage)
    }
}

/// A key derived from the password for one salt and cost.
pub(super) struct Key {
    salt: [u8; SALT_LEN],
    kdf: KdfParams,
    check: [u8; CHECK_LEN],
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl Key {
    /// A key for a new file: fresh random salt, cost `kdf`.
    pub(super) fn generate(password: &Secret<String>, kdf: KdfParams) -> io::Result<Self> {
        let mut salt = [0; SALT_LEN];
        getrandom::fill(&mut salt).map_err(io::Error::other)?;
        Self::derive(password, salt, kdf).map_err(|damage| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("key derivation cost {kdf:?}: {damage}"),
            )
        })
    }

    /// The key for the file whose header is `header`. `Err` only for a cost Argon2 refuses.
    fn derive(
        password: &Secret<String>,
        salt: [u8; SALT_LEN],
        kdf: KdfParams,
    ) -> Result<Self, Damage> {
        let params = argon2::Params::new(
            kdf.memory_kib,
            kdf.iterations,
            kdf.parallelism,
            Some(KEY_LEN + CHECK_LEN),
        )
        .map_err(|_| Damage::BadKdf)?;
        let mut output = Zeroizing::new([0; KEY_LEN + CHECK_LEN]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(password.expose().as_bytes(), &salt, &mut output[..])
            .map_err(|_| Damage::BadKdf)?;
        let mut key = Zeroizing::new([0; KEY_LEN]);
        key.copy_from_slice(&output[..KEY_LEN]);
        let mut check = [0; CHECK_LEN];
        check.copy_from_slice(&output[KEY_LEN..]);
        Ok(Self {
            salt,
            kdf,
            check,
            key,
        })
    }

    /// The cost this key was derived with.
    pub(super) fn kdf(&self) -> KdfParams {
        self.kdf
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new_from_slice(&self.key[..]).expect("the key is 32 bytes")
    }
}

/// Shows which file the key belongs to, never the key or the password check.
impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kdf", &self.kdf)
            .field("key", &format_args!("<redacted>"))
            .finish_non_exhaustive()
    }
}

/// A parsed, still encrypted file.
pub(super) struct Sealed<'a> {
    header: &'a [u8],
    salt: [u8; SALT_LEN],
    kdf: KdfParams,
    check: [u8; CHECK_LEN],
    nonce: XNonce,
    ciphertext: &'a [u8],
    tag: Tag,
}

impl<'a> Sealed<'a> {
    /// Checks the header; does not decrypt.
    pub(super) fn parse(bytes: &'a [u8]) -> Result<Self, Damage> {
        if !bytes.starts_with(MAGIC) {
            return Err(if MAGIC.starts_with(bytes) {
                Damage::Truncated
            } else {
                Damage::NotOurs
            });
        }
        if bytes.len() < HEADER_LEN + TAG_LEN {
            return Err(Damage::Truncated);
        }
        let version = bytes[MAGIC.len()];
        if version != FORMAT_VERSION {
            return Err(Damage::UnknownFormat { version });
        }
        let kdf_id = bytes[MAGIC.len() + 1];
        if kdf_id != KDF_ARGON2ID_V13 {
            return Err(Damage::UnknownKdf { id: kdf_id });
        }
        let cost = |index: usize| {
            let at = MAGIC.len() + 2 + 4 * index;
            u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
        };
        let kdf = KdfParams {
            memory_kib: cost(0),
            iterations: cost(1),
            parallelism: cost(2),
        };
        if !kdf.within_limits() {
            return Err(Damage::BadKdf);
        }
        let (header, rest) = bytes.split_at(HEADER_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        Ok(Self {
            header,
            salt: header[SALT_AT..CHECK_AT].try_into().expect("salt length"),
            kdf,
            check: header[CHECK_AT..NONCE_AT].try_into().expect("check length"),
            nonce: XNonce::try_from(&header[NONCE_AT..]).expect("nonce length"),
            ciphertext,
            tag: Tag::try_from(tag).expect("tag length"),
        })
    }

    /// The key derivation cost in the header.
    pub(super) fn kdf(&self) -> KdfParams {
        self.kdf
    }

    /// Whether `key` was derived for this file's salt and cost, so it can be reused.
    pub(super) fn fits(&self, key: &Key) -> bool {
        key.salt == self.salt && key.kdf == self.kdf
    }

    /// Derives this file's key from `password`, checking it against the header.
    pub(super) fn derive_key(&self, password: &Secret<String>) -> Result<Key, Unseal> {
        let key = Key::derive(password, self.salt, self.kdf)?;
        self.check_key(&key)?;
        Ok(key)
    }

    fn check_key(&self, key: &Key) -> Result<(), Unseal> {
        // Not secret-dependent timing that matters: the check is public in the file.
        if self.fits(key) && key.check == self.check {
            Ok(())
        } else {
            Err(Unseal::WrongPassword)
        }
    }

    /// Decrypts the entries with `key`, which must come from [`Sealed::derive_key`] on this
    /// file or on one with the same salt and cost.
    pub(super) fn unseal(&self, key: &Key) -> Result<Entries, Unseal> {
        self.check_key(key)?;
        let mut plaintext = Zeroizing::new(self.ciphertext.to_vec());
        key.cipher()
            .decrypt_inout_detached(
                &self.nonce,
                self.header,
                plaintext.as_mut_slice().into(),
                &self.tag,
            )
            .map_err(|_| Damage::Tampered)?;
        Ok(decode(&plaintext)?)
    }
}

/// Encrypts `entries` under `key` with a fresh nonce.
pub(super) fn seal(entries: &Entries, key: &Key) -> io::Result<Vec<u8>> {
    let mut nonce = [0; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(io::Error::other)?;
    let mut plaintext = encode(entries);
    let mut sealed = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    sealed.extend_from_slice(MAGIC);
    sealed.extend_from_slice(&[FORMAT_VERSION, KDF_ARGON2ID_V13]);
    for cost in [key.kdf.memory_kib, key.kdf.iterations, key.kdf.parallelism] {
        sealed.extend_from_slice(&cost.to_le_bytes());
    }
    sealed.extend_from_slice(&key.salt);
    sealed.extend_from_slice(&key.check);
    sealed.extend_from_slice(&nonce);
    debug_assert_eq!(sealed.len(), HEADER_LEN);
    let tag = key
        .cipher()
        .encrypt_inout_detached(
            &XNonce::from(nonce),
            &sealed,
            plaintext.as_mut_slice().into(),
        )
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too much data to encrypt"))?;
    sealed.extend_from_slice(&plaintext);
    sealed.extend_from_slice(&tag);
    Ok(sealed)
}

/// The plaintext, in a buffer allocated once at its final size.
fn encode(entries: &Entries) -> Zeroizing<Vec<u8>> {
    let len = entries
        .iter()
        .map(|(key, value)| 16 + key.len() + value.expose().len())
        .sum();
    let mut plaintext = Zeroizing::new(Vec::with_capacity(len));
    for (key, value) in entries {
        for field in [key.as_bytes(), value.expose().as_bytes()] {
            plaintext.extend_from_slice(&(field.len() as u64).to_le_bytes());
            plaintext.extend_from_slice(field);
        }
    }
    debug_assert_eq!(plaintext.len(), len);
    plaintext
}

fn decode(mut plaintext: &[u8]) -> Result<Entries, Damage> {
    let mut entries = Entries::new();
    while !plaintext.is_empty() {
        let key = take_field(&mut plaintext)?.to_owned();
        let value = Secret::new(take_field(&mut plaintext)?.to_owned());
        entries.insert(key, value);
    }
    Ok(entries)
}

/// Splits one length-prefixed UTF-8 field off the front of `input`.
fn take_field<'a>(input: &mut &'a [u8]) -> Result<&'a str, Damage> {
    let (len, rest) = input.split_first_chunk::<8>().ok_or(Damage::Malformed)?;
    let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| Damage::Malformed)?;
    if rest.len() < len {
        return Err(Damage::Malformed);
    }
    let (field, rest) = rest.split_at(len);
    *input = rest;
    // `from_utf8` borrows, so no copy of the bytes is left behind on error.
    std::str::from_utf8(field).map_err(|_| Damage::Malformed)
}

/// Property tests: no byte string makes the parser or the decryption panic. Cases: 256 by
/// default, `PROPTEST_CASES=N` for a longer run.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    /// The cheapest key derivation argon2 accepts, so each case stays fast.
    const CHEAP: KdfParams = KdfParams {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };

    fn sealed_file() -> (Vec<u8>, Key) {
        let password = Secret::new("correct horse battery".to_owned());
        let key = Key::generate(&password, CHEAP).unwrap();
        let mut entries = Entries::new();
        entries.insert("sso-session:a".into(), Secret::new("{\"t\":1}".to_owned()));
        entries.insert("role:b".into(), Secret::new("value".to_owned()));
        (seal(&entries, &key).unwrap(), key)
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Sealed::parse(&bytes);
        }

        #[test]
        fn parse_never_panics_behind_the_magic(tail in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&tail);
            let _ = Sealed::parse(&bytes);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
        }

        /// Any flipped byte or cut is refused (never a silent partial read), and never panics.
        #[test]
        fn damage_is_detected(at in any::<prop::sample::Index>(), flip in 1u8.., cut in any::<bool>()) {
            let (mut bytes, key) = sealed_file();
            let at = at.index(bytes.len());
            if cut {
                bytes.truncate(at);
            } else {
                bytes[at] ^= flip;
            }
            let result = Sealed::parse(&bytes).map_err(Unseal::from).and_then(|s| s.unseal(&key));
            prop_assert!(result.is_err());
        }
    }
}
