//! `StoreKind`: which credential store holds the secrets, parsed from the user's choice.
//!
//! This file owns the names users type (`ATMOS_KEYRING_TYPE`, `--keyring`) and nothing else: it
//! must not open, probe or guess a store.

use std::fmt;
use std::str::FromStr;

/// A credential store backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreKind {
    /// The platform's own store: the Keychain on macOS, the Credential Manager on Windows. On
    /// Linux, the Secret Service, with short-lived role credentials kept in the kernel keyring
    /// in front of it (see `layered.rs`).
    System,
    /// The freedesktop Secret Service (gnome-keyring, KeePassXC, KWallet) over D-Bus. Linux only.
    SecretService,
    /// The Linux kernel key retention service. Linux only.
    Keyutils,
    /// A process-local map, for tests. Nothing outlives the process.
    Memory,
    /// One password-encrypted file, for hosts without a usable keyring (headless Linux,
    /// containers, WSL).
    File,
}

impl StoreKind {
    pub const ALL: [StoreKind; 5] = [
        Self::System,
        Self::SecretService,
        Self::Keyutils,
        Self::Memory,
        Self::File,
    ];

    /// Every name users can type, in [`StoreKind::ALL`]'s order: the one list that messages,
    /// hints and suggestions show.
    pub fn names() -> [&'static str; 5] {
        Self::ALL.map(Self::as_str)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::SecretService => "secret-service",
            Self::Keyutils => "keyutils",
            Self::Memory => "memory",
            Self::File => "file",
        }
    }
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StoreKind {
    type Err = ParseStoreKindError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == input)
            .ok_or_else(|| ParseStoreKindError {
                input: input.to_owned(),
            })
    }
}

/// A store name that is not one of [`StoreKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseStoreKindError {
    pub input: String,
}

impl fmt::Display for ParseStoreKindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expected: Vec<String> = StoreKind::names()
            .iter()
            .map(|name| format!("`{name}`"))
            .collect();
        write!(
            f,
            "unknown credential store `{}`: expected one of {}",
            self.input,
            expected.join(", ")
        )
    }
}
