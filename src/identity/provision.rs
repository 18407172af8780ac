//! Auto-provisioned identities (`auto_provision_identities: true` on an Identity Center
//! provider): after login, every account the user can see and every permission set they hold
//! there become identities named `<account-name>/<PermissionSet>`. The list is not secret; it is
//! cached as an index (`provisioned.rs`, 0600, written atomically) and refreshed at login or
//! with `list --refresh` (`provisioned::refresh`, which lists through `fetch` here). Identities
//! written in the profile always win over provisioned ones of the same name.
//!
//! Account names are chosen by each member account's administrators and may hold any
//! printable character; identity names may not (see `config::name_problem`). Each character
//! outside the identity-name set (`/` included, the separator) becomes `-`, with a warning when
//! the list is fetched. A name that is still invalid, or that two accounts would share, is
//! skipped with a warning rather than guessed.
//!
//! AWS lets two accounts share a name. Their identities are then named
//! `<account-name>-<account-id>/<PermissionSet>`, so that neither hides the other and no name
//! stands for a guess between them. Names that differ only in case are shared too: identity
//! names are found in any case, so `Plat-Dev/Admin` would otherwise answer for `plat-dev/Admin`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::{is_name_char, name_problem};
use crate::provider::ProviderError;
use crate::provider::sso::{AccountRoles, Portal};
use crate::secret::Secret;

/// One permission set in one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub account_id: String,
    pub account_name: String,
    pub permission_set: String,
}

#[cfg(test)]
impl Assignment {
    /// An assignment for tests, here and in `provisioned.rs`.
    pub(super) fn new(account_id: &str, account_name: &str, permission_set: &str) -> Self {
        Self {
            account_id: account_id.into(),
            account_name: account_name.into(),
            permission_set: permission_set.into(),
        }
    }
}

/// List every assignment through the portal, in a fixed order: by account name, then account
/// id, then the order the portal lists the permission sets in, and warn once about the names
/// that had to change. The accounts' permission sets are listed concurrently, and throttled
/// pages are waited for rather than lost (see `Portal::assignments`), so the list is complete
/// or the fetch fails. Caching it is `provisioned::refresh`'s part.
pub async fn fetch(
    portal: &Portal,
    token: &Secret<String>,
) -> Result<Vec<Assignment>, ProviderError> {
    let assignments: Vec<Assignment> = portal
        .assignments(token)
        .await?
        .into_iter()
        .flat_map(|account| {
            let AccountRoles {
                account_id,
                account_name,
                permission_sets,
            } = account;
            permission_sets
                .into_iter()
                .map(move |permission_set| Assignment {
                    account_id: account_id.clone(),
                    account_name: account_name.clone(),
                    permission_set,
                })
        })
        .collect();
    warn_about_names(&assignments);
    Ok(assignments)
}

/// `text` with every character that identity names cannot hold replaced by `-`.
fn safe_part(text: &str) -> String {
    text.chars()
        .map(|c| if is_name_char(c) && c != '/' { c } else { '-' })
        .collect()
}

/// The account names, made safe and folded to ASCII lower case, that more than one account id
/// carries, with those ids. Identity names are found in any case, so `Plat-Dev` and `plat-dev`
/// are one name: without the ids, the account listed first would answer for both.
fn shared_account_names(assignments: &[Assignment]) -> BTreeMap<String, BTreeSet<&str>> {
    let mut ids: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for assignment in assignments {
        ids.entry(safe_part(&assignment.account_name).to_ascii_lowercase())
            .or_default()
            .insert(assignment.account_id.as_str());
    }
    ids.retain(|_, ids| ids.len() > 1);
    ids
}

/// The identity name for `assignment`: `<account>/<permission set>`, made safe, with the
/// account id after the account name where several accounts carry that name in any case
/// (`shared`).
fn name_of(assignment: &Assignment, shared: &BTreeMap<String, BTreeSet<&str>>) -> String {
    let account = safe_part(&assignment.account_name);
    let permission_set = safe_part(&assignment.permission_set);
    if shared.contains_key(&account.to_ascii_lowercase()) {
        format!("{account}-{}/{permission_set}", assignment.account_id)
    } else {
        format!("{account}/{permission_set}")
    }
}

/// Longest provisioned identity name. AWS caps account names at 50 characters and permission
/// set names at 32; this leaves room for an account id, and keeps a portal's 100,000-character
/// name out of every table, key description and AWS config that shows identity names.
const MAX_NAME_CHARS: usize = 128;

/// Lines of each kind of warning about names; the rest are counted in one more line.
const MAX_WARNINGS: usize = 10;

/// Characters of a name from the portal that a warning quotes.
const QUOTED_CHARS: usize = 64;

/// The identity name of each usable assignment. Left out: names that are still invalid or too
/// long, and names that assignments in different accounts would still share (which account is
/// meant cannot be told from the name).
pub(super) fn usable(assignments: &[Assignment]) -> Vec<(String, &Assignment)> {
    let shared = shared_account_names(assignments);
    let named: Vec<(String, &Assignment)> = assignments
        .iter()
        .map(|a| (name_of(a, &shared), a))
        .filter(|(name, _)| name.chars().count() <= MAX_NAME_CHARS && name_problem(name).is_none())
        .collect();
    let mut accounts: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, assignment) in &named {
        accounts
            .entry(name)
            .or_default()
            .insert(&assignment.account_id);
    }
    named
        .iter()
        .filter(|(name, _)| accounts[name.as_str()].len() == 1)
        .cloned()
        .collect()
}

/// `text` from the portal as a warning quotes it: escaped, and cut after [`QUOTED_CHARS`].
fn quoted(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(QUOTED_CHARS).collect();
    let mut shown = head.escape_debug().to_string();
    if chars.next().is_some() {
        shown.push('…');
    }
    shown
}

/// Warnings of one kind: the first [`MAX_WARNINGS`] said, the rest counted.
struct Warnings {
    said: usize,
}

impl Warnings {
    fn new() -> Self {
        Self { said: 0 }
    }

    fn say(&mut self, line: impl FnOnce() -> String) {
        if self.said < MAX_WARNINGS {
            tracing::warn!("{}", line());
        }
        self.said += 1;
    }

    /// One line for the warnings not said, if any: `… and N more {what}`.
    fn finish(self, what: &str) {
        if let Some(more) = self.said.checked_sub(MAX_WARNINGS).filter(|more| *more > 0) {
            tracing::warn!("… and {more} more {what}");
        }
    }
}

/// Say, once per fetch, which account names were changed and which assignments were skipped.
fn warn_about_names(assignments: &[Assignment]) {
    let kept: BTreeSet<(String, &str)> = usable(assignments)
        .into_iter()
        .map(|(name, a)| (name, a.account_id.as_str()))
        .collect();
    let shared = shared_account_names(assignments);
    let mut warnings = Warnings::new();
    for (account, ids) in &shared {
        let ids: Vec<&str> = ids.iter().copied().collect();
        warnings.say(|| {
            format!(
                "accounts {} share the name `{}` (names match in any case): their identities are named `<account name>-<account id>/…`",
                ids.join(", "),
                quoted(account)
            )
        });
    }
    warnings.finish("account names shared the same way");
    let mut skipped = Warnings::new();
    let mut renamed: BTreeMap<&str, String> = BTreeMap::new();
    for assignment in assignments {
        let name = name_of(assignment, &shared);
        if !kept.contains(&(name.clone(), assignment.account_id.as_str())) {
            let why = if name.chars().count() > MAX_NAME_CHARS {
                format!("the identity name is longer than {MAX_NAME_CHARS} characters")
            } else {
                format!(
                    "the identity name `{}` is invalid or shared with another account",
                    quoted(&name)
                )
            };
            skipped.say(|| {
                format!(
                    "skipping the permission set `{}` of account {} (`{}`): {why}; write an identity for it in the profile",
                    quoted(&assignment.permission_set),
                    quoted(&assignment.account_id),
                    quoted(&assignment.account_name),
                )
            });
            continue;
        }
        let account = safe_part(&assignment.account_name);
        if account != assignment.account_name {
            renamed.entry(&assignment.account_name).or_insert(account);
        }
    }
    skipped.finish("permission sets skipped");
    let mut warnings = Warnings::new();
    for (original, account) in renamed {
        warnings.say(|| {
            format!(
                "account name `{}` holds characters not allowed in identity names; its identities are named `{account}/…`",
                quoted(original)
            )
        });
    }
    warnings.finish("account names changed the same way");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(assignments: &[Assignment]) -> Vec<String> {
        usable(assignments).into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn account_names_are_mapped_into_the_identity_name_set() {
        assert_eq!(
            names(&[
                Assignment::new("111111111111", "plat-dev", "Admin"),
                Assignment::new("222222222222", "Prod $(x) `y` 'z'", "Admin"),
                Assignment::new("333333333333", "a/b;c\n[d]", "Read\u{2019}Only"),
            ]),
            [
                "plat-dev/Admin",
                "Prod---x---y---z-/Admin",
                "a-b-c--d-/Read-Only"
            ]
        );
    }

    #[test]
    fn names_longer_than_aws_allows_are_skipped_and_quoted_short() {
        let huge = "x".repeat(100_000);
        let longest = "y".repeat(MAX_NAME_CHARS - "/Admin".len());
        assert_eq!(
            names(&[
                Assignment::new("111111111111", &huge, "Admin"),
                Assignment::new("222222222222", &longest, "Admin"),
            ]),
            [format!("{longest}/Admin")]
        );
        assert_eq!(quoted(&huge), format!("{}…", "x".repeat(QUOTED_CHARS)));
        assert_eq!(quoted("a\u{1b}b"), "a\\u{1b}b");
    }

    #[test]
    fn account_names_differing_only_in_case_are_shared_names() {
        assert_eq!(
            names(&[
                Assignment::new("111111111111", "plat-dev", "Admin"),
                Assignment::new("222222222222", "Plat-Dev", "Admin"),
                Assignment::new("333333333333", "PLAT DEV", "Read"),
            ]),
            [
                "plat-dev-111111111111/Admin",
                "Plat-Dev-222222222222/Admin",
                "PLAT-DEV-333333333333/Read"
            ]
        );
    }

    #[test]
    fn names_two_accounts_would_share_carry_the_account_id_and_invalid_ones_are_skipped() {
        assert_eq!(
            names(&[
                Assignment::new("111111111111", "prod account", "Admin"),
                Assignment::new("222222222222", "prod-account", "Admin"),
                Assignment::new("222222222222", "prod-account", "Read"),
                Assignment::new("333333333333", " leading", "Admin"),
            ]),
            [
                "prod-account-111111111111/Admin",
                "prod-account-222222222222/Admin",
                "prod-account-222222222222/Read"
            ]
        );
    }
}
