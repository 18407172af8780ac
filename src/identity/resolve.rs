//! `Resolver`: identity → credentials.
//!
//! The cached path is synchronous and cheap: one credential-store read and an expiry check, no
//! async runtime, no TLS, no SDK client. Only when the cached credentials are missing or too close
//! to expiry does it build a runtime and ask the provider for new ones.

use std::time::{Duration, SystemTime};

use crate::cache;
use crate::config::{AccountRef, Config, Identity, IdentityCenter, IdentityKind, ProviderKind};
use crate::credentials::Credentials;
use crate::provider::ProviderError;
use crate::provider::sso::{LoginPolicy, Portal, SsoSession};
use crate::sdk::{self, Clients};
use crate::store::{CredentialStore, EntryKey, Namespace};

/// Reuse cached credentials while they have more than this left (`auth.refresh_margin`).
const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(15 * 60);

pub struct Resolver<'a> {
    config: &'a Config,
    store: &'a CredentialStore,
    margin: Duration,
}

/// The pieces of a permission-set identity, looked up once.
struct PermissionSet<'a> {
    provider: &'a IdentityCenter,
    permission_set: &'a str,
    account: &'a AccountRef,
}

impl<'a> Resolver<'a> {
    pub fn new(config: &'a Config, store: &'a CredentialStore) -> Self {
        let margin = config.auth.refresh_margin.unwrap_or(DEFAULT_REFRESH_MARGIN);
        Self {
            config,
            store,
            margin,
        }
    }

    fn permission_set(&self, identity: &'a Identity) -> PermissionSet<'a> {
        let IdentityKind::PermissionSet {
            permission_set,
            account,
            ..
        } = &identity.kind;
        let ProviderKind::IdentityCenter(provider) = &self.config.provider_for(identity).kind;
        PermissionSet {
            provider,
            permission_set,
            account,
        }
    }

    /// Credentials are shared by every identity naming the same session, account and
    /// permission set.
    fn credentials_key(target: &PermissionSet<'_>) -> EntryKey {
        let account = match target.account {
            AccountRef::Id(id) => id.to_string(),
            AccountRef::Name(name) => name.clone(),
        };
        EntryKey::new(
            Namespace::RoleCredentials,
            format!(
                "{}|{}|{}|{}",
                target.provider.region, target.provider.start_url, account, target.permission_set
            ),
        )
    }

    /// Cached credentials still good for the refresh margin, with no network access.
    pub fn cached(
        &self,
        identity: &Identity,
        now: SystemTime,
    ) -> Result<Option<Credentials>, ProviderError> {
        let key = Self::credentials_key(&self.permission_set(identity));
        let cached: Option<Credentials> = cache::load(self.store, &key)?;
        let usable = cached.filter(|c| c.usable(self.margin, now));
        tracing::debug!(identity = %identity.name, hit = usable.is_some(), "credential cache");
        Ok(usable)
    }

    /// Credentials for `identity`: cached, or fetched (and stored) when too close to expiry.
    pub fn resolve(
        &self,
        identity: &Identity,
        policy: LoginPolicy,
    ) -> Result<Credentials, ProviderError> {
        let now = SystemTime::now();
        if let Some(credentials) = self.cached(identity, now)? {
            return Ok(credentials);
        }
        sdk::runtime()
            .map_err(ProviderError::Runtime)?
            .block_on(self.fetch(identity, policy, now))
    }

    async fn fetch(
        &self,
        identity: &Identity,
        policy: LoginPolicy,
        now: SystemTime,
    ) -> Result<Credentials, ProviderError> {
        let target = self.permission_set(identity);
        let clients = Clients::new(
            &target.provider.region,
            target.provider.endpoint_url.as_deref(),
        )
        .await;
        let session = SsoSession::new(target.provider, self.store);
        let portal = Portal::new(clients.sso_portal());
        let mut token = session.access_token(&clients, policy, now).await?;
        let (account_id, label) = match target.account {
            AccountRef::Id(id) => (id.to_string(), id.to_string()),
            AccountRef::Name(name) => (self.account_id(&portal, &token, name).await?, name.clone()),
        };
        let fetched = match portal
            .role_credentials(&token, &account_id, &label, target.permission_set)
            .await
        {
            // The portal refused a token we believed valid (revoked, or a clock that runs
            // behind): renew the session once and try again.
            Err(ProviderError::Upstream(error))
                if error.code() == Some(crate::provider::sso::UNAUTHORIZED) =>
            {
                tracing::info!("the SSO portal rejected the cached session; renewing it");
                session.invalidate_access_token()?;
                token = session.access_token(&clients, policy, now).await?;
                portal
                    .role_credentials(&token, &account_id, &label, target.permission_set)
                    .await?
            }
            other => other?,
        };
        cache::save(self.store, &Self::credentials_key(&target), &fetched)?;
        Ok(fetched)
    }

    /// An account's id from the static `accounts:` map, or else from the portal's list.
    async fn account_id(
        &self,
        portal: &Portal,
        token: &crate::secret::Secret<String>,
        name: &str,
    ) -> Result<String, ProviderError> {
        if let Some(id) = self.config.accounts.get(name) {
            return Ok(id.to_string());
        }
        let visible = portal.accounts(token).await?;
        visible
            .get(name)
            .cloned()
            .ok_or_else(|| ProviderError::AccountNotFound {
                name: name.to_owned(),
                visible: visible.into_keys().collect(),
            })
    }
}
