//! `Identity`: a validated entry of `auth.identities`, something a user can become.
//!
//! Identity names are free-form but must be non-empty, hold no whitespace or control
//! characters and not start with `-` (so they never look like a flag on the command line).
//! The reference architecture's convention is `<account>/<purpose>`, e.g. `plat-dev/terraform`,
//! but it is not enforced: names such as `superadmin` are valid Atmos identities too.

use std::collections::BTreeMap;

use super::{AccountId, Location};

/// A named identity and how to obtain its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub kind: IdentityKind,
    /// Marked `default: true`. Several identities may be; choosing among them happens later.
    pub default: bool,
    /// A short extra name, unique among all identity names and aliases.
    pub alias: Option<String>,
    /// Extra environment variables for `env` and `exec`.
    pub env: BTreeMap<String, String>,
    /// Where the identity's name is written.
    pub location: Location,
}

/// How an identity gets its credentials. New kinds (`aws/assume-role` chained through
/// `via.identity`, `aws/user`, `credential_process`) become new variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityKind {
    /// `aws/permission-set`: role credentials for a permission set in one account, obtained
    /// through an Identity Center provider.
    PermissionSet {
        provider: String,
        permission_set: String,
        account: AccountRef,
    },
}

impl IdentityKind {
    pub const PERMISSION_SET: &'static str = "aws/permission-set";

    /// The `kind:` words the validator accepts, for "expected one of" hints.
    pub const NAMES: [&'static str; 1] = [Self::PERMISSION_SET];
}

/// The account a permission set is used in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRef {
    /// Given as an id, or as a name found in the top-level `accounts:` map.
    Id(AccountId),
    /// A name missing from `accounts:`. It is resolved later through the portal's account
    /// list, which needs the network, so the config layer leaves it as a name.
    Name(String),
}
