//! `atmos-auth login`: make sure the provider has a valid SSO session — silently refreshed when
//! possible, otherwise through the device-code login — and, given an identity, fetch its
//! credentials so the next command is instant.

use std::time::SystemTime;

use super::Context;
use crate::config::ProviderKind;
use crate::error::{Error, exit};
use crate::identity::Resolver;
use crate::provider::ProviderError;
use crate::provider::sso::{BrowserPolicy, LoginPolicy, SsoSession};
use crate::sdk::{self, Clients};

pub fn run(
    context: &Context,
    identity: Option<&str>,
    provider: Option<&str>,
    browser: BrowserPolicy,
    force: bool,
) -> Result<i32, Error> {
    let identity = identity
        .map(|name| context.identity(Some(name)))
        .transpose()?;
    let provider = match identity {
        Some(identity) => context.config.provider_for(identity),
        None => context.provider(provider)?,
    };
    let ProviderKind::IdentityCenter(sso) = &provider.kind;
    let session = SsoSession::new(sso, &context.store);
    let now = SystemTime::now();
    let token = sdk::runtime()
        .map_err(ProviderError::Runtime)?
        .block_on(async {
            let clients = Clients::new(&sso.region, sso.endpoint_url.as_deref()).await;
            if force {
                session.login(&clients, browser, now).await
            } else {
                session
                    .access_token(&clients, LoginPolicy::Interactive(browser), now)
                    .await?;
                Ok(session.cached()?.expect("a session was just stored"))
            }
        })?;
    eprintln!(
        "Logged in to {} ({}); session valid until {}.",
        sso.start_url,
        sso.region,
        humantime::format_rfc3339_seconds(token.expiration())
    );
    if let Some(identity) = identity {
        let credentials =
            Resolver::new(&context.config, &context.store).resolve(identity, LoginPolicy::Never)?;
        eprintln!(
            "Credentials for {} valid until {}.",
            identity.name,
            credentials.expiration_rfc3339()
        );
    }
    Ok(exit::SUCCESS)
}
