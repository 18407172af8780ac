//! `SsoSession`: the one SSO session for a (start URL, region) pair at one pair of endpoints
//! (SSO OIDC and portal). It hands out a usable access token, refreshing it silently with the
//! refresh token when it is stale, and starts a device-code login only when that fails and the
//! caller allows it: through the browser (authorization code with PKCE) or the device code, as
//! [`LoginRequest::flow`] decides.
//!
//! The session and its client registrations (one per grant type) are stored under ids bound to the endpoints, and
//! every call is made at those same endpoints: the access token, refresh token and client secret
//! are only ever presented to the endpoints that issued them.
//!
//! Renewing the session (refresh or login) happens under a cross-process lock on the session,
//! and the cached token is read again once the lock is held: two terminals running `login` at
//! once make one device authorization, and many processes finding a stale token make one
//! refresh call. That matters where refresh tokens are single-use: a second refresh with the
//! same refresh token would be refused and end the session.

use std::time::{Duration, SystemTime};

use aws_sdk_ssooidc::error::ProvideErrorMetadata;

use super::UNAUTHORIZED;
use super::auth_code;
use super::device::{self, BrowserPolicy, Grant};
use super::flow::{Flow, LoginRequest};
use super::registration::{ClientRegistration, GRANT_REFRESH_TOKEN, GrantKind};
use super::token::{self, SsoToken, TokenState};
use crate::clock::{Clock, SystemClock};
use crate::config::IdentityCenter;
use crate::credentials::epoch_secs;
use crate::fs::FileLock;
use crate::provider::ProviderError;
use crate::provider::entry_lock::lock_entry;
use crate::provider::sdk::{Clients, Endpoints};
use crate::secret::Secret;
use crate::store::{CredentialStore, EntryKey, Namespace, bound_id};
use crate::typed_entry;
use crate::upstream::UpstreamError;

/// May this run start an interactive login when the session cannot be renewed silently?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginPolicy {
    /// Fail with `LoginRequired` (the default for `env`, `exec`, `whoami`).
    Never,
    /// Run an interactive login: the flow is chosen from the request and the provider.
    Interactive(LoginRequest),
}

/// The id of the session of `provider` at `endpoints`: `<region>|<start URL>@<digest>`, bound
/// to the SSO OIDC and portal endpoints. Role credentials obtained with the session bind to it.
/// Where the client registered for `kind` is kept for the session `session_id`: the
/// device-code one under the session id (where it has always been), the authorization-code one
/// under `<session id>#authorization-code`.
pub fn client_key(session_id: &str, kind: GrantKind) -> EntryKey {
    match kind {
        GrantKind::DeviceCode => EntryKey::new(Namespace::SsoClient, session_id),
        GrantKind::AuthorizationCode => EntryKey::new(
            Namespace::SsoClient,
            format!("{session_id}#authorization-code"),
        ),
    }
}

pub fn session_id(provider: &IdentityCenter, endpoints: &Endpoints) -> String {
    bound_id(
        &format!("{}|{}", provider.region, provider.start_url),
        &[&endpoints.sso_oidc, &endpoints.sso_portal],
    )
}

/// The effective endpoints of `provider`, as this process sees them.
pub fn endpoints_of(provider: &IdentityCenter) -> Endpoints {
    Endpoints::from_process(&provider.region, provider.endpoint_url.as_deref())
}

pub struct SsoSession<'a> {
    provider: &'a IdentityCenter,
    store: &'a CredentialStore,
    endpoints: Endpoints,
    clock: &'a dyn Clock,
}

impl<'a> SsoSession<'a> {
    /// The session of `provider` at its effective endpoints.
    pub fn new(provider: &'a IdentityCenter, store: &'a CredentialStore) -> Self {
        Self {
            provider,
            store,
            endpoints: endpoints_of(provider),
            clock: &SystemClock,
        }
    }

    /// The same session, judged by `clock` (the resolver's) rather than the system clock.
    pub fn with_clock(self, clock: &'a dyn Clock) -> Self {
        Self { clock, ..self }
    }

    /// The clock the session's expiry is judged by.
    pub fn clock(&self) -> &'a dyn Clock {
        self.clock
    }

    /// Where the session's calls go, and where its access token may be used.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    fn id(&self) -> String {
        session_id(self.provider, &self.endpoints)
    }

    fn token_key(&self) -> EntryKey {
        EntryKey::new(Namespace::SsoSession, self.id())
    }

    fn client_key(&self, kind: GrantKind) -> EntryKey {
        client_key(&self.id(), kind)
    }

    fn login_required(&self, reason: &'static str) -> ProviderError {
        ProviderError::LoginRequired {
            start_url: self.provider.start_url.clone(),
            region: self.provider.region.clone(),
            reason,
        }
    }

    /// The cached token, without any network call.
    pub fn cached(&self) -> Result<Option<SsoToken>, ProviderError> {
        Ok(typed_entry::load(self.store, &self.token_key())?)
    }

    /// Forget the access token the service rejected, but keep the refresh token. A token
    /// another process has renewed meanwhile is left alone.
    pub async fn invalidate_access_token(
        &self,
        rejected: &Secret<String>,
    ) -> Result<(), ProviderError> {
        let _lock = self.lock().await?;
        if let Some(mut token) = self.cached()?
            && token.access_token.expose() == rejected.expose()
        {
            token.expires_at = 0;
            typed_entry::save(self.store, &self.token_key(), &token)?;
        }
        Ok(())
    }

    /// The session's cross-process lock (`entry_lock`), waited for off the async thread.
    async fn lock(&self) -> Result<FileLock, ProviderError> {
        let key = self.token_key();
        tokio::task::spawn_blocking(move || lock_entry(&key, "to renew the SSO session"))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// Ends the session at the portal (`Logout`), at the session's own endpoints; true when
    /// the portal was told, false when it no longer knew the session. An access token that has
    /// expired, or that the portal rejects, is renewed with the refresh token first (once): the
    /// refresh token keeps the server-side session alive, so a stale access token must not
    /// leave it open. A session that cannot be renewed is over at the portal already.
    pub fn end_at_portal(&self) -> Result<bool, ProviderError> {
        let runtime = crate::provider::sdk::runtime().map_err(ProviderError::Runtime)?;
        runtime.block_on(async {
            let clients = Clients::new(&self.provider.region)?;
            for attempt in 0..2 {
                let token = match self
                    .access_token(&clients, LoginPolicy::Never, self.clock.now())
                    .await
                {
                    Ok(token) => token,
                    Err(ProviderError::LoginRequired { .. }) => return Ok(false),
                    Err(error) => return Err(error),
                };
                let sent = clients
                    .sso_portal(&self.endpoints)
                    .logout()
                    .access_token(token.expose())
                    .send()
                    .await;
                match sent {
                    Ok(_) => return Ok(true),
                    Err(error)
                        if error.as_service_error().and_then(|e| e.code())
                            == Some(UNAUTHORIZED) =>
                    {
                        tracing::info!(attempt, "the portal rejected the access token");
                        self.invalidate_access_token(&token).await?;
                    }
                    Err(error) => return Err(UpstreamError::from_sdk("Logout", error).into()),
                }
            }
            Ok(false)
        })
    }

    /// A usable access token: cached, refreshed, or from a new login, as `policy` allows.
    pub async fn access_token(
        &self,
        clients: &Clients,
        policy: LoginPolicy,
        now: SystemTime,
    ) -> Result<Secret<String>, ProviderError> {
        let cached = self.cached()?;
        let state = cached.as_ref().map(|t| t.state(now));
        tracing::debug!(cached = cached.is_some(), ?state, "sso session");
        if let (Some(token), Some(TokenState::Fresh)) = (&cached, state) {
            return Ok(token.access_token.clone());
        }
        // Renewal: one process at a time, and whoever waited may find it done.
        let _lock = self.lock().await?;
        // The wait may have lasted minutes: judge the token by the clock as it is now.
        let now = now.max(self.clock.now());
        let cached = self.cached()?;
        let state = cached.as_ref().map(|t| t.state(now));
        if let (Some(token), Some(TokenState::Fresh)) = (&cached, state) {
            tracing::debug!("the SSO session was renewed by another process meanwhile");
            return Ok(token.access_token.clone());
        }
        let mut reason = "you have not logged in";
        if let (Some(token), Some(TokenState::Refreshable)) = (&cached, state) {
            match self.refresh(clients, token, now).await {
                Ok(renewed) => return Ok(renewed.access_token),
                Err(Refresh::Rejected) => reason = "the session can no longer be refreshed",
                Err(Refresh::Failed(error)) if token.valid(now) => {
                    tracing::warn!(
                        "could not refresh the SSO session, using it while it lasts: {error}"
                    );
                    return Ok(token.access_token.clone());
                }
                Err(Refresh::Failed(error)) => return Err(error),
            }
        } else if cached.is_some() {
            reason = "the session has expired";
        }
        match policy {
            LoginPolicy::Never => Err(self.login_required(reason)),
            LoginPolicy::Interactive(request) => Ok(self
                .interactive_login(clients, request, now)
                .await?
                .access_token),
        }
    }

    /// Renew the access token with the refresh token and store the result.
    async fn refresh(
        &self,
        clients: &Clients,
        token: &SsoToken,
        now: SystemTime,
    ) -> Result<SsoToken, Refresh> {
        let Some(refresh_token) = &token.refresh_token else {
            return Err(Refresh::Rejected);
        };
        let client_key = self.client_key(token.client);
        let Some(client) = typed_entry::load::<ClientRegistration>(self.store, &client_key)
            .map_err(|e| Refresh::Failed(e.into()))?
        else {
            return Err(Refresh::Rejected);
        };
        let response = clients
            .sso_oidc(&self.endpoints)
            .create_token()
            .client_id(&client.client_id)
            .client_secret(client.client_secret.expose())
            .grant_type(GRANT_REFRESH_TOKEN)
            .refresh_token(refresh_token.expose())
            .send()
            .await;
        let out = match response {
            Ok(out) => out,
            Err(error) => {
                let code = error
                    .as_service_error()
                    .and_then(|e| e.code())
                    .unwrap_or_default()
                    .to_owned();
                tracing::debug!(code, "refresh failed");
                return Err(match code.as_str() {
                    // A client the service no longer knows: it must be registered again, and a
                    // refresh token bound to it is worthless.
                    "InvalidClientException" => {
                        let _ = self.store.delete(&client_key);
                        Refresh::Rejected
                    }
                    "InvalidGrantException"
                    | "ExpiredTokenException"
                    | "AccessDeniedException"
                    | "UnauthorizedClientException" => Refresh::Rejected,
                    _ => Refresh::Failed(UpstreamError::from_sdk("CreateToken", error).into()),
                });
            }
        };
        let access_token = out.access_token.ok_or_else(|| {
            Refresh::Failed(UpstreamError::missing_field("CreateToken", "accessToken").into())
        })?;
        let expires_in = Duration::from_secs(u64::try_from(out.expires_in).unwrap_or(0));
        let renewed = token.refreshed(access_token, out.refresh_token, expires_in, now);
        typed_entry::save(self.store, &self.token_key(), &renewed)
            .map_err(|e| Refresh::Failed(e.into()))?;
        tracing::info!("refreshed the SSO session");
        Ok(renewed)
    }

    /// A new interactive login whatever the cached session (`login --force`), under the
    /// session's lock.
    pub async fn login(
        &self,
        clients: &Clients,
        request: LoginRequest,
        now: SystemTime,
    ) -> Result<SsoToken, ProviderError> {
        let _lock = self.lock().await?;
        self.interactive_login(clients, request, now).await
    }

    /// The login `request` calls for with this provider; the caller holds the session's lock.
    /// Choosing the device code is said in one line, with the reason, when its prompt shows.
    async fn interactive_login(
        &self,
        clients: &Clients,
        request: LoginRequest,
        now: SystemTime,
    ) -> Result<SsoToken, ProviderError> {
        match request.flow(self.provider) {
            Flow::AuthorizationCode { timeout } => self.browser_login(clients, timeout, now).await,
            Flow::DeviceCode { why, browser } => {
                self.device_login(clients, browser, &why.to_string(), now)
                    .await
            }
        }
    }

    /// The authorization-code login with PKCE. A client the service no longer knows is
    /// forgotten, so the next login registers a new one; a fresh browser round-trip is needed
    /// for it anyway.
    async fn browser_login(
        &self,
        clients: &Clients,
        timeout: Duration,
        now: SystemTime,
    ) -> Result<SsoToken, ProviderError> {
        let kind = GrantKind::AuthorizationCode;
        let oidc = clients.sso_oidc(&self.endpoints);
        let client = self.registration(&oidc, kind, now).await?;
        let grant = auth_code::authorize(
            &oidc,
            &client,
            &self.endpoints.sso_oidc,
            &self.provider.start_url,
            timeout,
        )
        .await;
        if let Err(ProviderError::Upstream(error)) = &grant
            && error.code() == Some("InvalidClientException")
        {
            tracing::info!("the registered client was rejected; the next login registers again");
            let _ = self.store.delete(&self.client_key(kind));
        }
        self.save_grant(grant?, kind)
    }

    /// The device-code login. Reuses the registered client while it is valid, and registers
    /// again once if the service no longer knows it.
    async fn device_login(
        &self,
        clients: &Clients,
        browser: BrowserPolicy,
        why: &str,
        now: SystemTime,
    ) -> Result<SsoToken, ProviderError> {
        let kind = GrantKind::DeviceCode;
        let oidc = clients.sso_oidc(&self.endpoints);
        let client = self.registration(&oidc, kind, now).await?;
        let start_url = &self.provider.start_url;
        let grant = match device::authorize(&oidc, &client, start_url, browser, why).await {
            Err(ProviderError::Upstream(error))
                if error.code() == Some("InvalidClientException") =>
            {
                tracing::info!("the registered client was rejected; registering again");
                let client = self.register(&oidc, kind, now).await?;
                device::authorize(&oidc, &client, start_url, browser, why).await?
            }
            other => other?,
        };
        self.save_grant(grant, kind)
    }

    /// Store the session a login obtained, with the grant whose client can refresh it.
    fn save_grant(&self, grant: Grant, client: GrantKind) -> Result<SsoToken, ProviderError> {
        // The login may have waited minutes for approval: expiry counts from now, not from
        // when the command started.
        let approved_at = self.clock.now();
        let token = SsoToken {
            access_token: grant.access_token,
            refresh_token: grant.refresh_token,
            expires_at: token::capped_expiry(approved_at, grant.expires_in),
            session_expires_at: self
                .provider
                .session_duration
                .map(|d| epoch_secs(approved_at + d)),
            client,
        };
        typed_entry::save(self.store, &self.token_key(), &token)?;
        Ok(token)
    }

    /// The stored registration for `kind` while it is usable, else a new one.
    async fn registration(
        &self,
        oidc: &aws_sdk_ssooidc::Client,
        kind: GrantKind,
        now: SystemTime,
    ) -> Result<ClientRegistration, ProviderError> {
        match typed_entry::load::<ClientRegistration>(self.store, &self.client_key(kind))? {
            Some(client) if client.usable(now) => Ok(client),
            _ => self.register(oidc, kind, now).await,
        }
    }

    async fn register(
        &self,
        oidc: &aws_sdk_ssooidc::Client,
        kind: GrantKind,
        now: SystemTime,
    ) -> Result<ClientRegistration, ProviderError> {
        let client =
            ClientRegistration::register(oidc, kind, &self.provider.start_url, now).await?;
        typed_entry::save(self.store, &self.client_key(kind), &client)?;
        Ok(client)
    }
}

enum Refresh {
    /// The service said no: only a new login helps.
    Rejected,
    /// Anything else (network, throttling, store).
    Failed(ProviderError),
}
