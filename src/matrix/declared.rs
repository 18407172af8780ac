//! The declared matrix (`profiles/matrix.yaml`): the account tiers, the columns, and per
//! profile the expected level in each tier, the rows. Both keep the order they are written in.
//! Parsing is from text; reading the file belongs to the command.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::{Level, Tier};

/// The matrix file: the tiers and, per profile, the expected level in each tier. Both keep
/// the order they are written in, which is the order rows and columns are shown in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    pub path: PathBuf,
    pub tiers: Vec<Tier>,
    pub expected: Vec<(String, Vec<(String, Level)>)>,
}

impl Declared {
    /// The profiles the file declares, in its order.
    pub fn profiles(&self) -> impl Iterator<Item = &str> {
        self.expected.iter().map(|(profile, _)| profile.as_str())
    }
}

/// Why the matrix file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    #[error("matrix file `{}` does not exist", path.display())]
    Missing { path: PathBuf },

    #[error("failed to read `{}`", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    // `reason` is not a `source`: its text is the message, shown without `-v`.
    #[error("invalid matrix file `{}`: {}", path.display(), reason.without_snippet())]
    Parse {
        path: PathBuf,
        reason: Box<serde_saphyr::Error>,
    },

    #[error("invalid matrix file `{}`: `tiers` is empty", path.display())]
    NoTiers { path: PathBuf },

    #[error("invalid matrix file `{}`: account `{account}` is in tier `{first}` and in tier `{second}`", path.display())]
    AccountInTwoTiers {
        path: PathBuf,
        account: String,
        first: String,
        second: String,
    },

    #[error("invalid matrix file `{}`: `expected.{profile}` names tier `{tier}`, which `tiers` does not declare", path.display())]
    UnknownTier {
        path: PathBuf,
        profile: String,
        tier: String,
    },

    #[error("invalid matrix file `{}`: `expected.{profile}` gives no level for tier `{tier}`", path.display())]
    MissingTier {
        path: PathBuf,
        profile: String,
        tier: String,
    },
}

impl MatrixError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Missing { .. } => Some(
                "create it with `tiers:` and `expected:` (see profiles/matrix.yaml in the atmos-auth repository), or pass `--check FILE`".into(),
            ),
            Self::UnknownTier { .. } | Self::MissingTier { .. } => Some(
                "every row of `expected` gives one level (Write, Read, State or None) for each tier".into(),
            ),
            Self::Read { .. }
            | Self::Parse { .. }
            | Self::NoTiers { .. }
            | Self::AccountInTwoTiers { .. } => None,
        }
    }
}

/// The raw file, with maps read in order.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeclared {
    tiers: Ordered<Vec<String>>,
    expected: Ordered<Ordered<Level>>,
}

/// A YAML map read as a list of pairs, keeping the written order.
struct Ordered<T>(Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Pairs<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs: Vec<(String, T)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, T>()? {
                    if pairs.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
                    }
                    pairs.push((key, value));
                }
                Ok(Ordered(pairs))
            }
        }
        deserializer.deserialize_map(Pairs(std::marker::PhantomData))
    }
}

/// Reads the matrix file's text (`path` is for messages) and checks that every row gives one
/// level for each declared tier and that no account is in two tiers.
pub fn parse(path: &Path, text: &str) -> Result<Declared, MatrixError> {
    let raw: RawDeclared = serde_saphyr::from_str(text).map_err(|reason| MatrixError::Parse {
        path: path.to_owned(),
        reason: Box::new(reason),
    })?;
    let path = path.to_owned();
    if raw.tiers.0.is_empty() {
        return Err(MatrixError::NoTiers { path });
    }
    let mut tier_of: BTreeMap<&str, &str> = BTreeMap::new();
    for (tier, accounts) in &raw.tiers.0 {
        for account in accounts {
            if let Some(first) = tier_of.insert(account, tier) {
                return Err(MatrixError::AccountInTwoTiers {
                    path,
                    account: account.clone(),
                    first: first.to_owned(),
                    second: tier.clone(),
                });
            }
        }
    }
    let tiers: Vec<Tier> = raw
        .tiers
        .0
        .iter()
        .map(|(name, accounts)| Tier {
            name: name.clone(),
            accounts: accounts.clone(),
        })
        .collect();
    let mut expected = Vec::new();
    for (profile, levels) in raw.expected.0 {
        if let Some((tier, _)) = levels
            .0
            .iter()
            .find(|(tier, _)| !tiers.iter().any(|t| t.name == *tier))
        {
            return Err(MatrixError::UnknownTier {
                path,
                profile,
                tier: tier.clone(),
            });
        }
        // In the tiers' order, whatever order the row was written in.
        let mut row = Vec::new();
        for tier in &tiers {
            match levels.0.iter().find(|(name, _)| *name == tier.name) {
                Some((_, level)) => row.push((tier.name.clone(), *level)),
                None => {
                    return Err(MatrixError::MissingTier {
                        path,
                        profile,
                        tier: tier.name.clone(),
                    });
                }
            }
        }
        expected.push((profile, row));
    }
    Ok(Declared {
        path,
        tiers,
        expected,
    })
}
