//! `Resolver`: identity → credentials, along the identity's `Plan`.
//!
//! The cached path is synchronous and cheap: one credential-store read and an expiry check, no
//! async runtime, no TLS, no SDK client. On a miss, the link's cross-process lock is taken and
//! the store read again, so that many processes missing at once (Terraform starts one provider
//! per account in parallel) make one upstream call; the others wait and reuse its answer. A
//! chain walks toward its root only as far as it must: every link still valid is reused.

use std::cell::OnceCell;
use std::time::Duration;

use super::plan::{Ambient, Plan, Source};
use crate::clock::{Clock, SystemClock};
use crate::config::{AccountRef, Config, Identity, IdentityCenter};
use crate::credentials::{AccessKeys, Credentials};
use crate::prompt::{Prompt, TerminalPrompt};
use crate::provider::ProviderError;
use crate::provider::entry_lock::lock_entry;
use crate::provider::github_oidc::{self, GithubEnv};
use crate::provider::sdk::{self, Clients};
use crate::provider::sso::{LoginPolicy, Portal, SsoSession, UNAUTHORIZED};
use crate::provider::{process, sts};
use crate::secret::Secret;
use crate::store::{CredentialStore, EntryKey, Namespace};
use crate::typed_entry;

/// Reuse cached credentials while they have more than this left (`auth.refresh_margin`).
const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(15 * 60);
/// A link in the middle of a chain only has to outlive the call that uses it.
const LINK_MARGIN: Duration = Duration::from_secs(60);
/// What resolving takes from outside the configuration and the store: the time, and a person
/// to ask (an MFA code). Identity and provider logic read neither the system clock nor the
/// terminal themselves, so tests can set both.
pub struct ResolveContext<'a> {
    pub clock: &'a dyn Clock,
    pub prompt: &'a dyn Prompt,
}

impl ResolveContext<'static> {
    /// The system clock and the terminal.
    pub fn process() -> Self {
        Self {
            clock: &SystemClock,
            prompt: &TerminalPrompt,
        }
    }
}

pub struct Resolver<'a> {
    config: &'a Config,
    store: &'a CredentialStore,
    context: ResolveContext<'a>,
    margin: Duration,
    ambient: Ambient,
    mfa_code: Option<String>,
    runtime: OnceCell<tokio::runtime::Runtime>,
}

impl<'a> Resolver<'a> {
    pub fn new(config: &'a Config, store: &'a CredentialStore) -> Self {
        Self::with_context(config, store, ResolveContext::process())
    }

    pub fn with_context(
        config: &'a Config,
        store: &'a CredentialStore,
        context: ResolveContext<'a>,
    ) -> Self {
        let margin = config.auth.refresh_margin.unwrap_or(DEFAULT_REFRESH_MARGIN);
        Self {
            config,
            store,
            context,
            margin,
            ambient: Ambient::from_process(),
            mfa_code: None,
            runtime: OnceCell::new(),
        }
    }

    /// The MFA code for an `aws/user` identity, when given on the command line.
    pub fn with_mfa_code(mut self, code: Option<String>) -> Self {
        self.mfa_code = code;
        self
    }

    /// Cached credentials with no more than this left are renewed (`auth.refresh_margin`).
    pub fn margin(&self) -> Duration {
        self.margin
    }

    /// Credentials for `identity`: cached, or fetched (and stored) when too close to expiry.
    pub fn resolve(
        &self,
        identity: &Identity,
        policy: LoginPolicy,
    ) -> Result<Credentials, ProviderError> {
        let plan = Plan::new(self.config, identity, &self.ambient);
        self.obtain(&plan, plan.keys.len() - 1, policy, self.margin)
    }

    /// The credentials stored for `identity`, however old, with no network access.
    pub fn stored(&self, identity: &Identity) -> Result<Option<Credentials>, ProviderError> {
        let plan = Plan::new(self.config, identity, &self.ambient);
        Ok(typed_entry::load(
            self.store,
            &key(&plan, plan.keys.len() - 1),
        )?)
    }

    /// The store entry holding the identity's credentials (for `list`, which lists the store's
    /// entries once instead of reading one per identity).
    pub fn stored_key(&self, identity: &Identity) -> EntryKey {
        let plan = Plan::new(self.config, identity, &self.ambient);
        key(&plan, plan.keys.len() - 1)
    }

    /// Delete the cached credentials of every link of the identity's chain.
    pub fn forget(&self, identity: &Identity) -> Result<(), ProviderError> {
        let plan = Plan::new(self.config, identity, &self.ambient);
        for index in 0..plan.keys.len() {
            self.store.delete(&key(&plan, index))?;
        }
        Ok(())
    }

    fn load(&self, key: &EntryKey, margin: Duration) -> Result<Option<Credentials>, ProviderError> {
        let cached: Option<Credentials> = typed_entry::load(self.store, key)?;
        let usable = cached.filter(|c| c.usable(margin, self.context.clock.now()));
        tracing::debug!(entry = %key, hit = usable.is_some(), "credential cache");
        Ok(usable)
    }

    /// Link `index` of the plan, from the store or fetched under its lock.
    fn obtain(
        &self,
        plan: &Plan<'_>,
        index: usize,
        policy: LoginPolicy,
        margin: Duration,
    ) -> Result<Credentials, ProviderError> {
        let key = key(plan, index);
        if let Some(credentials) = self.load(&key, margin)? {
            return Ok(credentials);
        }
        let _lock = lock_entry(&key, "fetching the same credentials")?;
        if let Some(credentials) = self.load(&key, margin)? {
            tracing::debug!(entry = %key, "fetched by another process meanwhile");
            return Ok(credentials);
        }
        let fresh = match index {
            0 => self.fetch_source(plan, policy)?,
            _ => {
                let parent = self.obtain(plan, index - 1, policy, LINK_MARGIN)?;
                let hop = &plan.hops[index - 1];
                tracing::info!(identity = hop.identity, "assuming role");
                self.sts(plan, async |clients| {
                    let now = self.context.clock.now();
                    sts::assume_role(clients, &plan.endpoints, &parent, hop, now).await
                })?
            }
        };
        // The kernel keyring drops the entry when the credentials expire.
        let lifetime = fresh
            .expiration()
            .duration_since(self.context.clock.now())
            .unwrap_or_default();
        typed_entry::save_expiring(self.store, &key, &fresh, lifetime)?;
        Ok(fresh)
    }

    fn block_on<T>(
        &self,
        future: impl Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        if self.runtime.get().is_none() {
            let runtime = sdk::runtime().map_err(ProviderError::Runtime)?;
            let _ = self.runtime.set(runtime);
        }
        self.runtime.get().expect("just set").block_on(future)
    }

    /// An STS call along the plan's chain, with clients for its region; the call is made at
    /// `plan.endpoints`, which the link's key is bound to.
    fn sts<T>(
        &self,
        plan: &Plan<'_>,
        call: impl AsyncFnOnce(&Clients) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        self.block_on(async {
            let clients = Clients::new(plan.region)?;
            call(&clients).await
        })
    }

    fn fetch_source(
        &self,
        plan: &Plan<'_>,
        policy: LoginPolicy,
    ) -> Result<Credentials, ProviderError> {
        match &plan.source {
            Source::PermissionSet {
                provider,
                permission_set,
                account,
            } => self.block_on(self.permission_set(provider, permission_set, account, policy)),
            Source::WebIdentity { provider, role } => {
                let token =
                    github_oidc::fetch_token(&GithubEnv::from_process(), &provider.audience)?;
                self.sts(plan, async |clients| {
                    let now = self.context.clock.now();
                    sts::assume_role_with_web_identity(clients, &plan.endpoints, &token, role, now)
                        .await
                })
            }
            Source::User {
                identity,
                keys_id,
                mfa_arn,
                duration,
            } => {
                let keys: AccessKeys = typed_entry::load(
                    self.store,
                    &EntryKey::new(Namespace::UserKeys, keys_id.clone()),
                )?
                .ok_or_else(|| ProviderError::UserKeysMissing {
                    identity: (*identity).to_owned(),
                })?;
                let code = match mfa_arn {
                    Some(arn) => Some(self.mfa_code(identity, arn)?),
                    None => None,
                };
                let mfa = mfa_arn.zip(code.as_ref().map(|c| c.expose().as_str()));
                self.sts(plan, async |clients| {
                    let now = self.context.clock.now();
                    sts::get_session_token(clients, &plan.endpoints, &keys, mfa, *duration, now)
                        .await
                })
            }
            Source::Process { command, timeout } => {
                Ok(process::run(command, *timeout, self.context.clock)?)
            }
        }
    }

    /// The MFA code: given with `--mfa-code`, or asked for through the context's prompt.
    fn mfa_code(&self, identity: &str, mfa_arn: &str) -> Result<Secret<String>, ProviderError> {
        if let Some(code) = &self.mfa_code {
            return Ok(Secret::new(code.clone()));
        }
        match self
            .context
            .prompt
            .ask(&format!("MFA code for {mfa_arn}: "))
        {
            Some(code) if !code.is_empty() => Ok(Secret::new(code)),
            _ => Err(ProviderError::MfaCodeRequired {
                identity: identity.to_owned(),
                mfa_arn: mfa_arn.to_owned(),
            }),
        }
    }

    /// SSO: a session token (refreshed or from a login, as `policy` allows), the account id,
    /// then GetRoleCredentials, at the session's own portal endpoint.
    async fn permission_set(
        &self,
        provider: &IdentityCenter,
        permission_set: &str,
        account: &AccountRef,
        policy: LoginPolicy,
    ) -> Result<Credentials, ProviderError> {
        let now = self.context.clock.now();
        let clients = Clients::new(&provider.region)?;
        let session = SsoSession::new(provider, self.store).with_clock(self.context.clock);
        let portal = Portal::new(clients.sso_portal(session.endpoints()));
        let mut token = session.access_token(&clients, policy, now).await?;
        let label = match account {
            AccountRef::Id(id) => id.to_string(),
            AccountRef::Name(name) => name.clone(),
        };
        let account_id = match account {
            AccountRef::Id(id) => id.to_string(),
            AccountRef::Name(name) => {
                renewing(&session, &clients, policy, &mut token, async |token| {
                    self.account_id(&portal, token, name).await
                })
                .await?
            }
        };
        renewing(&session, &clients, policy, &mut token, async |token| {
            portal
                .role_credentials(
                    token,
                    &account_id,
                    &label,
                    permission_set,
                    self.context.clock.now(),
                )
                .await
        })
        .await
    }

    /// An account's id from the static `accounts:` map, or else from the portal's list.
    async fn account_id(
        &self,
        portal: &Portal,
        token: &Secret<String>,
        name: &str,
    ) -> Result<String, ProviderError> {
        // Names in the static `accounts:` map were turned into ids when the profile loaded;
        // a name that reaches this point is looked up in the portal.
        // AWS lets two accounts share a name: that is an error, never a guess.
        let mut visible = portal.accounts(token).await?;
        match visible.remove(name) {
            Some(mut ids) if ids.len() == 1 => Ok(ids.remove(0)),
            Some(ids) if !ids.is_empty() => Err(ProviderError::AmbiguousAccount {
                name: name.to_owned(),
                ids,
            }),
            _ => Err(ProviderError::AccountNotFound {
                name: name.to_owned(),
                visible: visible.into_keys().collect(),
            }),
        }
    }
}

/// Make a portal call with the session's token. When the portal refuses a token we believed
/// valid (revoked, or a clock that runs behind), renew the session once and call again.
async fn renewing<T>(
    session: &SsoSession<'_>,
    clients: &Clients,
    policy: LoginPolicy,
    token: &mut Secret<String>,
    call: impl AsyncFn(&Secret<String>) -> Result<T, ProviderError>,
) -> Result<T, ProviderError> {
    match call(token).await {
        Err(ProviderError::Upstream(error)) if error.code() == Some(UNAUTHORIZED) => {
            tracing::info!("the SSO portal rejected the cached session; renewing it");
            session.invalidate_access_token(token).await?;
            *token = session
                .access_token(clients, policy, session.clock().now())
                .await?;
            call(token).await
        }
        other => other,
    }
}

fn key(plan: &Plan<'_>, index: usize) -> EntryKey {
    EntryKey::new(Namespace::RoleCredentials, plan.keys[index].clone())
}
