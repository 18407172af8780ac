//! `AccountId`: a validated 12-digit AWS account id.
//!
//! Ids are kept as text, never as numbers, because leading zeros are significant.

use std::fmt;
use std::str::FromStr;

/// A 12-digit AWS account id such as `012345678901`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(String);

/// The text given is not exactly 12 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an AWS account id: it must be exactly 12 digits")]
pub struct InvalidAccountId(pub String);

impl AccountId {
    pub const LENGTH: usize = 12;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AccountId {
    type Err = InvalidAccountId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() == Self::LENGTH && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidAccountId(text.to_owned()))
        }
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
