//! Auto-provisioned identities (`auto_provision_identities: true` on an Identity Center
//! provider): after login, every account the user can see and every permission set they hold
//! there become identities named `<account-name>/<PermissionSet>`. The list is not secret; it is
//! cached as JSON (0600, written atomically) and refreshed at login or with `list --refresh`.
//! Identities written in the profile always win over provisioned ones of the same name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{AccountRef, Config, Identity, IdentityCenter, IdentityKind, ProviderKind};
use crate::paths;
use crate::provider::ProviderError;
use crate::provider::sso::Portal;
use crate::secret::Secret;
use crate::store::{DirFile, PRIVATE_FILE_MODE};

/// One permission set in one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub account_id: String,
    pub account_name: String,
    pub permission_set: String,
}

/// The cache file for a provider's assignments.
fn cache_file(provider: &IdentityCenter) -> std::io::Result<DirFile> {
    let dir = paths::cache_subdir("provisioned")?;
    Ok(dir.file(format!(
        "{}.json",
        paths::file_name_for(&format!("{}|{}", provider.region, provider.start_url))
    )))
}

/// List every assignment through the portal and cache it.
pub async fn refresh(
    provider: &IdentityCenter,
    portal: &Portal,
    token: &Secret<String>,
) -> Result<usize, ProviderError> {
    let mut assignments = Vec::new();
    for (account_name, account_id) in portal.accounts(token).await? {
        for permission_set in portal.roles(token, &account_id).await? {
            assignments.push(Assignment {
                account_id: account_id.clone(),
                account_name: account_name.clone(),
                permission_set,
            });
        }
    }
    let file = cache_file(provider).map_err(ProviderError::CacheDir)?;
    let json = serde_json::to_vec_pretty(&assignments).expect("assignments serialize");
    file.write_atomic(&json, PRIVATE_FILE_MODE)
        .map_err(ProviderError::CacheDir)?;
    Ok(assignments.len())
}

/// Add the cached assignments of every auto-provisioning provider to `config` as identities,
/// and return the names added.
pub fn extend(config: &mut Config) -> Vec<String> {
    let mut added = Vec::new();
    let mut new: BTreeMap<String, Identity> = BTreeMap::new();
    for provider in config.auth.providers.values() {
        let ProviderKind::IdentityCenter(sso) = &provider.kind else {
            continue;
        };
        if !sso.auto_provision_identities {
            continue;
        }
        let Some(assignments) = cache_file(sso)
            .ok()
            .and_then(|file| file.read().ok())
            .and_then(|bytes| serde_json::from_slice::<Vec<Assignment>>(&bytes).ok())
        else {
            continue;
        };
        for assignment in assignments {
            let name = format!("{}/{}", assignment.account_name, assignment.permission_set);
            let Ok(account_id) = assignment.account_id.parse() else {
                continue;
            };
            if config.auth.identities.contains_key(&name) || new.contains_key(&name) {
                continue;
            }
            added.push(name.clone());
            new.insert(
                name.clone(),
                Identity {
                    name,
                    kind: IdentityKind::PermissionSet {
                        provider: provider.name.clone(),
                        permission_set: assignment.permission_set,
                        account: AccountRef::Id(account_id),
                    },
                    default: false,
                    alias: None,
                    env: BTreeMap::new(),
                    region: None,
                    location: provider.location.clone(),
                },
            );
        }
    }
    config.auth.identities.extend(new);
    added
}
