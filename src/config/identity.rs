//! `Identity`: a validated entry of `auth.identities`, something a user can become.
//!
//! Identity names (and aliases) are non-empty, do not start with `-` (so they never look like a
//! flag on the command line) and use only IAM's name characters, letters, digits and
//! `_+=,.@-`, plus `/`. Names end up in generated text (`[profile NAME]` headers and
//! `credential_process` command lines of the generated AWS config, `list` output),
//! and auto-provisioned ones are built from AWS account names, which any member account's
//! administrator can choose; a name that needs no quoting anywhere cannot be turned into a
//! command or a new INI section. The reference architecture's convention is
//! `<account>/<purpose>`, e.g. `plat-dev/terraform`, but it is not enforced: names such as
//! `superadmin` are valid Atmos identities too.
//!
//! Identities form a graph: `via.identity` names the identity whose credentials are used to
//! obtain this one's. Validation guarantees every such reference exists and that no chain
//! loops, so walking it (`Config::chain`) always ends at a root that needs no other identity.

use std::collections::BTreeMap;
use std::time::Duration;

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
    /// The region the credentials are used in. `Config::region_for` falls back along the
    /// chain to the root's provider when it is not set.
    pub region: Option<String>,
    /// `tags:` as written (sorted, without repeats). An identity also carries the tags of the
    /// provider its chain starts at: `Config::tags_of`.
    pub tags: std::collections::BTreeSet<String>,
    /// Where the identity's name is written.
    pub location: Location,
}

/// How an identity gets its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityKind {
    /// `aws/permission-set`: role credentials for a permission set in one account, obtained
    /// through an Identity Center provider (`via.provider`, never `via.identity`).
    PermissionSet {
        provider: String,
        permission_set: String,
        account: AccountRef,
    },
    /// `aws/assume-role`: `sts:AssumeRole` on `role_arn` with the credentials of another
    /// identity, or `AssumeRoleWithWebIdentity` with the token of a `github/oidc` provider.
    AssumeRole {
        via: Via,
        role_arn: String,
        external_id: Option<String>,
        /// The STS role session name; `None` lets the resolver choose one.
        session_name: Option<String>,
        /// Requested session length, 15 minutes to 12 hours; `None` is the STS default.
        duration: Option<Duration>,
    },
    /// `aws/user`: long-lived IAM user keys kept in the credential store (never in the config),
    /// exchanged for session credentials, with an MFA code when `mfa_arn` is set.
    User {
        mfa_arn: Option<String>,
        /// Session length, 15 minutes to 36 hours; `None` means `DEFAULT_USER_DURATION`.
        duration: Option<Duration>,
    },
    /// `credential_process`: an external program that prints credentials in the AWS CLI's
    /// `credential_process` JSON format.
    CredentialProcess {
        command: ProcessCommand,
        /// `spec.timeout`; `None` means `DEFAULT_PROCESS_TIMEOUT`.
        timeout: Option<Duration>,
    },
}

impl IdentityKind {
    pub const PERMISSION_SET: &'static str = "aws/permission-set";
    pub const ASSUME_ROLE: &'static str = "aws/assume-role";
    pub const USER: &'static str = "aws/user";
    pub const CREDENTIAL_PROCESS: &'static str = "credential_process";

    /// The `kind:` words the validator accepts, for "expected one of" hints.
    pub const NAMES: [&'static str; 4] = [
        Self::PERMISSION_SET,
        Self::ASSUME_ROLE,
        Self::USER,
        Self::CREDENTIAL_PROCESS,
    ];

    /// The `kind:` word this identity was written with.
    pub fn name(&self) -> &'static str {
        match self {
            Self::PermissionSet { .. } => Self::PERMISSION_SET,
            Self::AssumeRole { .. } => Self::ASSUME_ROLE,
            Self::User { .. } => Self::USER,
            Self::CredentialProcess { .. } => Self::CREDENTIAL_PROCESS,
        }
    }

    /// The provider named by `via.provider`, if any.
    pub fn via_provider(&self) -> Option<&str> {
        match self {
            Self::PermissionSet { provider, .. } => Some(provider),
            Self::AssumeRole {
                via: Via::Provider(provider),
                ..
            } => Some(provider),
            _ => None,
        }
    }

    /// The identity named by `via.identity`, if any: the next step toward the chain's root.
    pub fn via_identity(&self) -> Option<&str> {
        match self {
            Self::AssumeRole {
                via: Via::Identity(identity),
                ..
            } => Some(identity),
            _ => None,
        }
    }
}

/// The session length of an `aws/user` identity that sets no `principal.duration`.
pub const DEFAULT_USER_DURATION: Duration = Duration::from_secs(12 * 3600);

/// How long a `credential_process` program may run when its identity sets no `spec.timeout`.
pub const DEFAULT_PROCESS_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether `c` may appear in an identity name or alias.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-/".contains(c)
}

/// What is wrong with `name` as an identity name or alias, if anything.
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("is empty".to_owned())
    } else if name.starts_with('-') {
        Some("starts with `-`".to_owned())
    } else {
        name.chars().find(|c| !is_name_char(*c)).map(|c| {
            if c.is_whitespace() {
                "contains whitespace".to_owned()
            } else {
                format!("contains `{}`", c.escape_debug())
            }
        })
    }
}

/// Where an `aws/assume-role` identity gets the credentials or token it assumes the role with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// `via.provider`: a `github/oidc` provider.
    Provider(String),
    /// `via.identity`: another identity, of any kind.
    Identity(String),
}

/// How a `credential_process` identity runs its program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessCommand {
    /// `spec.command`: one string, run through the shell.
    Shell(String),
    /// `spec.args`: the program and its arguments, run directly without a shell.
    Args(Vec<String>),
}

impl ProcessCommand {
    /// The program alone, for messages and listings: the rest of a command line may carry
    /// arguments nobody should see repeated.
    pub fn program(&self) -> &str {
        match self {
            Self::Shell(line) => line.split_whitespace().next().unwrap_or_default(),
            Self::Args(args) => &args[0],
        }
    }
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

/// Whether `tag` is a valid tag: 1 to 64 letters, digits and `_.:/=+@-`. No comma, which
/// separates tags on the command line, and nothing that needs quoting in `list` output.
pub fn is_tag(tag: &str) -> bool {
    (1..=64).contains(&tag.len())
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:/=+@-".contains(c))
}
