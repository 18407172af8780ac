//! Auto-provisioned identities (`auto_provision_identities: true` on an Identity Center
//! provider): after login, every account the user can see and every permission set they hold
//! there become identities named `<account-name>/<PermissionSet>`. The list is not secret; it is
//! cached as an index (`provisioned.rs`, 0600, written atomically) and refreshed at login or
//! with `list --refresh`. Identities written in the profile always win over provisioned ones of
//! the same name.
//!
//! Account names are chosen by each member account's administrators and may hold any
//! printable character; identity names may not (see `config::name_problem`). Each character
//! outside the identity-name set (`/` included, the separator) becomes `-`, with a warning when
//! the list is fetched. A name that is still invalid, or that two accounts would share, is
//! skipped with a warning rather than guessed.
//!
//! AWS lets two accounts share a name. Their identities are then named
//! `<account-name>-<account-id>/<PermissionSet>`, so that neither hides the other and no name
//! stands for a guess between them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::{IdentityCenter, is_name_char, name_problem};
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

/// List every assignment through the portal and cache it, in a fixed order: by account name,
/// then account id, then the order the portal lists the permission sets in. The accounts'
/// permission sets are listed concurrently, and throttled pages are waited for rather than
/// lost (see `Portal::assignments`), so the list is complete or the refresh fails.
pub async fn refresh(
    provider: &IdentityCenter,
    portal: &Portal,
    token: &Secret<String>,
) -> Result<usize, ProviderError> {
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
    super::provisioned::save(provider, &assignments).map_err(ProviderError::CacheDir)?;
    Ok(assignments.len())
}

/// `text` with every character that identity names cannot hold replaced by `-`.
fn safe_part(text: &str) -> String {
    text.chars()
        .map(|c| if is_name_char(c) && c != '/' { c } else { '-' })
        .collect()
}

/// The account names, made safe, that more than one account id carries, with those ids.
fn shared_account_names(assignments: &[Assignment]) -> BTreeMap<String, BTreeSet<&str>> {
    let mut ids: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for assignment in assignments {
        ids.entry(safe_part(&assignment.account_name))
            .or_default()
            .insert(assignment.account_id.as_str());
    }
    ids.retain(|_, ids| ids.len() > 1);
    ids
}

/// The identity name for `assignment`: `<account>/<permission set>`, made safe, with the
/// account id after the account name where several accounts carry that name (`shared`).
fn name_of(assignment: &Assignment, shared: &BTreeMap<String, BTreeSet<&str>>) -> String {
    let account = safe_part(&assignment.account_name);
    let permission_set = safe_part(&assignment.permission_set);
    if shared.contains_key(&account) {
        format!("{account}-{}/{permission_set}", assignment.account_id)
    } else {
        format!("{account}/{permission_set}")
    }
}

/// The identity name of each usable assignment. Left out: names that are still invalid, and
/// names that assignments in different accounts would still share (which account is meant
/// cannot be told from the name).
pub(super) fn usable(assignments: &[Assignment]) -> Vec<(String, &Assignment)> {
    let shared = shared_account_names(assignments);
    let named: Vec<(String, &Assignment)> = assignments
        .iter()
        .map(|a| (name_of(a, &shared), a))
        .filter(|(name, _)| name_problem(name).is_none())
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

/// Say, once per fetch, which account names were changed and which assignments were skipped.
fn warn_about_names(assignments: &[Assignment]) {
    let kept: BTreeSet<(String, &str)> = usable(assignments)
        .into_iter()
        .map(|(name, a)| (name, a.account_id.as_str()))
        .collect();
    let shared = shared_account_names(assignments);
    for (account, ids) in &shared {
        let ids: Vec<&str> = ids.iter().copied().collect();
        tracing::warn!(
            "accounts {} share the name `{account}`: their identities are named `{account}-<account id>/…`",
            ids.join(", ")
        );
    }
    let mut renamed: Vec<(&str, String)> = Vec::new();
    for assignment in assignments {
        let name = name_of(assignment, &shared);
        if !kept.contains(&(name.clone(), assignment.account_id.as_str())) {
            tracing::warn!(
                "skipping the permission set `{}` of account {} (`{}`): the identity name `{name}` is invalid or shared with another account; write an identity for it in the profile",
                assignment.permission_set.escape_debug(),
                assignment.account_id.escape_debug(),
                assignment.account_name.escape_debug(),
            );
            continue;
        }
        let account = safe_part(&assignment.account_name);
        if account != assignment.account_name
            && !renamed
                .iter()
                .any(|(original, _)| *original == assignment.account_name)
        {
            renamed.push((&assignment.account_name, account));
        }
    }
    for (original, account) in renamed {
        tracing::warn!(
            "account name `{}` holds characters not allowed in identity names; its identities are named `{account}/…`",
            original.escape_debug()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assignment(id: &str, account: &str, permission_set: &str) -> Assignment {
        Assignment {
            account_id: id.into(),
            account_name: account.into(),
            permission_set: permission_set.into(),
        }
    }

    fn names(assignments: &[Assignment]) -> Vec<String> {
        usable(assignments).into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn account_names_are_mapped_into_the_identity_name_set() {
        assert_eq!(
            names(&[
                assignment("111111111111", "plat-dev", "Admin"),
                assignment("222222222222", "Prod $(x) `y` 'z'", "Admin"),
                assignment("333333333333", "a/b;c\n[d]", "Read\u{2019}Only"),
            ]),
            [
                "plat-dev/Admin",
                "Prod---x---y---z-/Admin",
                "a-b-c--d-/Read-Only"
            ]
        );
    }

    #[test]
    fn names_two_accounts_would_share_carry_the_account_id_and_invalid_ones_are_skipped() {
        assert_eq!(
            names(&[
                assignment("111111111111", "prod account", "Admin"),
                assignment("222222222222", "prod-account", "Admin"),
                assignment("222222222222", "prod-account", "Read"),
                assignment("333333333333", " leading", "Admin"),
            ]),
            [
                "prod-account-111111111111/Admin",
                "prod-account-222222222222/Admin",
                "prod-account-222222222222/Read"
            ]
        );
    }
}
