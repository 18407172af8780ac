//! `Portal`: the SSO portal calls made with an access token — listing accounts (to resolve an
//! account name the static map lacks) and exchanging the token for role credentials.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_sso::error::ProvideErrorMetadata;

use crate::credentials::{Credentials, capped_role_expiry};
use crate::provider::ProviderError;
use crate::secret::Secret;
use crate::upstream::UpstreamError;

/// What the portal said when the token itself was refused.
pub const UNAUTHORIZED: &str = "UnauthorizedException";

pub struct Portal {
    client: aws_sdk_sso::Client,
}

impl Portal {
    pub fn new(client: aws_sdk_sso::Client) -> Self {
        Self { client }
    }

    /// Every account the user can see, name → id, following every page.
    pub async fn accounts(
        &self,
        token: &Secret<String>,
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        let mut accounts = BTreeMap::new();
        let mut next_token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_accounts()
                .access_token(token.expose())
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| UpstreamError::from_sdk("ListAccounts", e))?;
            for account in out.account_list.unwrap_or_default() {
                if let (Some(id), Some(name)) = (account.account_id, account.account_name) {
                    accounts.insert(name, id);
                }
            }
            match out.next_token.filter(|t| !t.is_empty()) {
                Some(token) => next_token = Some(token),
                None => return Ok(accounts),
            }
        }
    }

    /// Every permission set the user holds in `account_id`, following every page.
    pub async fn roles(
        &self,
        token: &Secret<String>,
        account_id: &str,
    ) -> Result<Vec<String>, ProviderError> {
        let mut roles = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_account_roles()
                .access_token(token.expose())
                .account_id(account_id)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| UpstreamError::from_sdk("ListAccountRoles", e))?;
            roles.extend(
                out.role_list
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|role| role.role_name),
            );
            match out.next_token.filter(|t| !t.is_empty()) {
                Some(token) => next_token = Some(token),
                None => return Ok(roles),
            }
        }
    }

    /// GetRoleCredentials for a permission set in an account, with the stated expiry believed
    /// up to 12 hours from `now`, the longest a permission set's session lasts.
    pub async fn role_credentials(
        &self,
        token: &Secret<String>,
        account_id: &str,
        account_label: &str,
        permission_set: &str,
        now: SystemTime,
    ) -> Result<Credentials, ProviderError> {
        let out = self
            .client
            .get_role_credentials()
            .access_token(token.expose())
            .account_id(account_id)
            .role_name(permission_set)
            .send()
            .await
            .map_err(|error| {
                // Not in the service model, so matched by its code string.
                if error.as_service_error().and_then(|e| e.code()) == Some("ForbiddenException") {
                    ProviderError::NotAssigned {
                        account: account_label.to_owned(),
                        permission_set: permission_set.to_owned(),
                    }
                } else {
                    UpstreamError::from_sdk("GetRoleCredentials", error).into()
                }
            })?;
        let missing = |field| UpstreamError::missing_field("GetRoleCredentials", field);
        let role = out
            .role_credentials
            .ok_or_else(|| missing("roleCredentials"))?;
        Ok(Credentials {
            access_key_id: role.access_key_id.ok_or_else(|| missing("accessKeyId"))?,
            secret_access_key: Secret::new(
                role.secret_access_key
                    .ok_or_else(|| missing("secretAccessKey"))?,
            ),
            session_token: Secret::new(role.session_token.ok_or_else(|| missing("sessionToken"))?),
            // The portal states expiry in epoch milliseconds; an absent one reads as 0.
            expires_at: u64::try_from(role.expiration / 1000)
                .ok()
                .filter(|secs| *secs > 0)
                .map(|secs| capped_role_expiry(secs, Duration::ZERO, now))
                .ok_or_else(|| missing("expiration"))?,
            account_id: Some(account_id.to_owned()),
        })
    }
}
