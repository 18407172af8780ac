//! The access matrix: the level each profile has in each account tier, computed from the
//! profiles' own identities, and compared with a declared matrix (`profiles/matrix.yaml`).
//! Rendering it as text belongs to `output::matrix`.
//!
//! It is pure: it takes loaded `Config`s and the text of the matrix file and returns values and
//! strings. Reading files, choosing profiles and printing belong to `command::matrix`; nothing
//! here touches the network or the credential store.
//!
//! An identity counts for the account its name starts with (`<account>/<purpose>`, the
//! reference architecture's convention), and its level comes from the permission set or role
//! name (`TerraformApplyAccess` is Write, …). An account's level is the highest any of the
//! profile's identities there grants; a tier's cell is the level its accounts share, or
//! `mixed: …` when they disagree. An identity whose name and target account disagree is a
//! problem of its own, since a stale account id in a role ARN silently points elsewhere.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::config::{AccountRef, Config, IdentityKind};

mod declared;

pub use declared::{Declared, MatrixError, parse};

/// The purpose every profile is expected to have an identity for in each account it reaches:
/// `<account>/terraform` is the name stacks use, whatever the profile.
pub const TERRAFORM_PURPOSE: &str = "terraform";

/// Permission sets and IAM roles by the level they grant (the seeds' "Access Levels").
const WRITE_PRINCIPALS: [&str; 3] = [
    "TerraformApplyAccess",
    "AdministratorAccess",
    "PowerUserAccess",
];
const READ_PRINCIPALS: [&str; 2] = ["TerraformPlanAccess", "ReadOnlyAccess"];
const STATE_PRINCIPALS: [&str; 1] = ["TerraformStateAccess"];

/// An access level, ordered from least to most access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum Level {
    /// No identity in the account.
    None,
    /// Read Terraform state, for outputs of components deployed there.
    State,
    /// Plan: read-only access.
    Read,
    /// Apply: full access.
    Write,
}

impl Level {
    /// The level a permission set or role of this name grants, if it is one the matrix knows.
    pub fn of_principal(name: &str) -> Option<Level> {
        if WRITE_PRINCIPALS.contains(&name) {
            Some(Level::Write)
        } else if READ_PRINCIPALS.contains(&name) {
            Some(Level::Read)
        } else if STATE_PRINCIPALS.contains(&name) {
            Some(Level::State)
        } else {
            None
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::None => "None",
            Level::State => "State",
            Level::Read => "Read",
            Level::Write => "Write",
        })
    }
}

/// A column of the matrix: a named group of accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tier {
    pub name: String,
    pub accounts: Vec<String>,
}

/// What gives a profile its level in one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub identity: String,
    /// The permission set, or the role name of a role ARN.
    pub principal: String,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {}", self.identity, self.principal)
    }
}

/// A profile's access to one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountAccess {
    pub account: String,
    pub level: Level,
    /// The identity behind `level`; `None` when the level is `None`.
    pub grant: Option<Grant>,
}

impl AccountAccess {
    /// `plat-staging/terraform → TerraformApplyAccess`, or `no identity in plat-staging`.
    fn evidence(&self) -> String {
        match &self.grant {
            Some(grant) => grant.to_string(),
            None => format!("no identity in {}", self.account),
        }
    }
}

/// A profile's access to one tier: every account of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    pub tier: String,
    pub accounts: Vec<AccountAccess>,
}

impl Cell {
    /// The level every account of the tier shares, or `None` when they disagree. A tier
    /// without accounts has level `None`.
    pub fn level(&self) -> Option<Level> {
        let mut levels = self.accounts.iter().map(|a| a.level);
        let first = levels.next().unwrap_or(Level::None);
        levels.all(|l| l == first).then_some(first)
    }

    /// `Write`, or `mixed: Write (core-identity), Read (core-dns)` with the most access first.
    pub fn text(&self) -> String {
        if let Some(level) = self.level() {
            return level.to_string();
        }
        let mut by_level: BTreeMap<std::cmp::Reverse<Level>, Vec<&str>> = BTreeMap::new();
        for access in &self.accounts {
            by_level
                .entry(std::cmp::Reverse(access.level))
                .or_default()
                .push(&access.account);
        }
        let groups: Vec<String> = by_level
            .iter()
            .map(|(level, accounts)| format!("{} ({})", level.0, accounts.join(", ")))
            .collect();
        format!("mixed: {}", groups.join(", "))
    }
}

/// One profile's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub profile: String,
    pub description: Option<String>,
    pub cells: Vec<Cell>,
}

/// Something about a profile's identities that makes its row untrustworthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The identity's name says one account, its target another (or an id the `accounts:` map
    /// gives to no account of that name).
    WrongAccount {
        profile: String,
        identity: String,
        account: String,
        /// The id `accounts:` maps `account` to, when it does.
        expected_id: Option<String>,
        /// The account the identity actually targets: an id, or a name.
        target: String,
    },
    /// The profile reaches the account but has no `<account>/terraform` identity, so a stack
    /// config naming it fails for this profile only.
    NoTerraformIdentity { profile: String, account: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::WrongAccount {
                profile,
                identity,
                account,
                expected_id,
                target,
            } => {
                write!(
                    f,
                    "{profile}: `{identity}` is named for account `{account}`"
                )?;
                if let Some(id) = expected_id {
                    write!(f, " ({id} in `accounts:`)")?;
                }
                write!(f, " but targets account `{target}`")
            }
            Problem::NoTerraformIdentity { profile, account } => write!(
                f,
                "{profile}: has access to `{account}` but no `{account}/{TERRAFORM_PURPOSE}` identity"
            ),
        }
    }
}

/// The computed matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    pub tiers: Vec<Tier>,
    pub rows: Vec<Row>,
    pub problems: Vec<Problem>,
}

/// The matrix of `profiles` (name and loaded config, in row order) over `tiers`.
pub fn compute(tiers: &[Tier], profiles: &[(String, Config)]) -> Matrix {
    let mut problems = Vec::new();
    let rows = profiles
        .iter()
        .map(|(profile, config)| Row {
            profile: profile.clone(),
            description: config.description.clone(),
            cells: tiers
                .iter()
                .map(|tier| Cell {
                    tier: tier.name.clone(),
                    accounts: tier
                        .accounts
                        .iter()
                        .map(|account| access(profile, config, account, &mut problems))
                        .collect(),
                })
                .collect(),
        })
        .collect();
    Matrix {
        tiers: tiers.to_vec(),
        rows,
        problems,
    }
}

/// A profile's access to `account`: the most any identity named `<account>/…` grants, the
/// Terraform identity winning ties so that it is what messages name.
fn access(
    profile: &str,
    config: &Config,
    account: &str,
    problems: &mut Vec<Problem>,
) -> AccountAccess {
    let mut best: Option<(Level, Grant)> = None;
    let mut has_terraform = false;
    let terraform = format!("{account}/{TERRAFORM_PURPOSE}");
    let identities = config
        .auth
        .identities
        .values()
        .filter(|i| i.name.split_once('/').is_some_and(|(a, _)| a == account));
    // The Terraform identity first, then the others by name.
    let (first, rest): (Vec<_>, Vec<_>) = identities.partition(|i| i.name == terraform);
    for identity in first.into_iter().chain(rest) {
        has_terraform |= identity.name == terraform;
        let Some((principal, target)) = principal_and_target(&identity.kind) else {
            continue;
        };
        let expected_id = config.accounts.get(account).map(|id| id.to_string());
        let wrong = match &target {
            Target::Name(name) => name != account,
            Target::Id(id) => expected_id.as_ref().is_some_and(|expected| expected != id),
        };
        if wrong {
            problems.push(Problem::WrongAccount {
                profile: profile.to_owned(),
                identity: identity.name.clone(),
                account: account.to_owned(),
                expected_id,
                target: target.text().to_owned(),
            });
        }
        let Some(level) = Level::of_principal(&principal) else {
            continue;
        };
        if best.as_ref().is_none_or(|(found, _)| level > *found) {
            best = Some((
                level,
                Grant {
                    identity: identity.name.clone(),
                    principal,
                },
            ));
        }
    }
    let (level, grant) = match best {
        Some((level, grant)) => (level, Some(grant)),
        None => (Level::None, None),
    };
    if level != Level::None && !has_terraform {
        problems.push(Problem::NoTerraformIdentity {
            profile: profile.to_owned(),
            account: account.to_owned(),
        });
    }
    AccountAccess {
        account: account.to_owned(),
        level,
        grant,
    }
}

/// The account an identity targets.
enum Target {
    Id(String),
    Name(String),
}

impl Target {
    fn text(&self) -> &str {
        match self {
            Target::Id(text) | Target::Name(text) => text,
        }
    }
}

/// The permission set or role name an identity becomes, and the account it is in. Kinds
/// without either (IAM users, credential processes) have no level the matrix can know.
fn principal_and_target(kind: &IdentityKind) -> Option<(String, Target)> {
    match kind {
        IdentityKind::PermissionSet {
            permission_set,
            account,
            ..
        } => {
            let target = match account {
                AccountRef::Id(id) => Target::Id(id.to_string()),
                AccountRef::Name(name) => Target::Name(name.clone()),
            };
            Some((permission_set.clone(), target))
        }
        IdentityKind::AssumeRole { role_arn, .. } => {
            // Validated as `arn:<partition>:iam::<account>:role/[<path>/]<name>`.
            let account = role_arn.split(':').nth(4)?;
            let name = role_arn.rsplit('/').next()?;
            Some((name.to_owned(), Target::Id(account.to_owned())))
        }
        IdentityKind::User { .. } | IdentityKind::CredentialProcess { .. } => None,
    }
}

/// A difference between the computed and the declared matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A cell whose level is not the declared one.
    Cell {
        profile: String,
        tier: String,
        expected: Level,
        found: String,
        /// What gives the accounts whose level differs from `expected` their level.
        evidence: Vec<String>,
    },
    /// A declared profile that does not exist.
    MissingProfile { profile: String },
    /// A profile the matrix file does not declare.
    UndeclaredProfile { profile: String },
    /// A problem with a profile's identities.
    Problem(Problem),
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Cell {
                profile,
                tier,
                expected,
                found,
                evidence,
            } => write!(
                f,
                "{profile} / {tier}: expected {expected}, found {found} ({})",
                evidence.join(", ")
            ),
            Finding::MissingProfile { profile } => write!(
                f,
                "{profile}: declared in the matrix, but there is no profile `{profile}`"
            ),
            Finding::UndeclaredProfile { profile } => write!(
                f,
                "{profile}: profile not declared in the matrix file's `expected`"
            ),
            Finding::Problem(problem) => problem.fmt(f),
        }
    }
}

/// Every difference between `matrix` and `declared`, in row and column order, then the
/// problems of the profiles' identities.
pub fn compare(matrix: &Matrix, declared: &Declared) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (profile, expected) in &declared.expected {
        let Some(row) = matrix.rows.iter().find(|row| row.profile == *profile) else {
            findings.push(Finding::MissingProfile {
                profile: profile.clone(),
            });
            continue;
        };
        for (tier, level) in expected {
            let Some(cell) = row.cells.iter().find(|cell| cell.tier == *tier) else {
                continue;
            };
            if cell.level() == Some(*level) {
                continue;
            }
            findings.push(Finding::Cell {
                profile: profile.clone(),
                tier: tier.clone(),
                expected: *level,
                found: cell.text(),
                evidence: cell
                    .accounts
                    .iter()
                    .filter(|a| a.level != *level)
                    .map(AccountAccess::evidence)
                    .collect(),
            });
        }
    }
    for row in &matrix.rows {
        if !declared.profiles().any(|p| p == row.profile) {
            findings.push(Finding::UndeclaredProfile {
                profile: row.profile.clone(),
            });
        }
    }
    findings.extend(matrix.problems.iter().cloned().map(Finding::Problem));
    findings
}

/// How many cells `compare` looked at: declared profiles that exist, times the tiers.
pub fn cells_compared(matrix: &Matrix, declared: &Declared) -> usize {
    let rows = declared
        .profiles()
        .filter(|p| matrix.rows.iter().any(|row| row.profile == *p))
        .count();
    rows * declared.tiers.len()
}

#[cfg(test)]
pub(crate) mod tests;
