//! `atmos-auth login`: make sure the provider has a valid SSO session — silently refreshed when
//! possible, otherwise through the browser login or the device code — and, given an identity, fetch its
//! credentials so the next command is instant. With `auto_provision_identities`, also list the
//! permission sets the user holds.

use std::time::SystemTime;

use super::Context;
use super::{Error, exit};
use crate::config::ProviderKind;
use crate::identity::provisioned;
use crate::provider::ProviderError;
use crate::provider::sdk::{self, Clients};
use crate::provider::sso::{LoginPolicy, LoginRequest, Portal, SsoSession};

pub fn run(
    context: &Context,
    identity: Option<&str>,
    provider: Option<&str>,
    request: LoginRequest,
    force: bool,
) -> Result<i32, Error> {
    let identity = identity
        .map(|name| context.identity(Some(name)))
        .transpose()?;
    let provider = match identity {
        Some(identity) => context
            .config
            .provider_for(context.config.chain(identity)[0]),
        None => Some(context.provider(provider)?),
    };
    let resolver = context.resolver();
    let Some(ProviderKind::IdentityCenter(sso)) = provider.map(|p| &p.kind) else {
        // Nothing to sign in to: the identity's chain starts elsewhere (GitHub OIDC, IAM user
        // keys, an external process). Fetching its credentials is all a login can do.
        let identity =
            identity.expect("a provider chosen without an identity is an Identity Center one");
        let credentials = resolver.resolve(identity, LoginPolicy::Never)?;
        eprintln!(
            "Credentials for {} valid until {}.",
            identity.name,
            credentials.expiration_rfc3339()
        );
        return Ok(exit::SUCCESS);
    };
    let session = SsoSession::new(sso, &context.store);
    let now = SystemTime::now();
    let token = sdk::runtime()
        .map_err(ProviderError::Runtime)?
        .block_on(async {
            let clients = Clients::new(&sso.region)?;
            let token =
                if force {
                    session.login(&clients, request, now).await?
                } else {
                    session
                        .access_token(&clients, LoginPolicy::Interactive(request), now)
                        .await?;
                    session.cached()?.ok_or_else(|| ProviderError::LoginRequired {
                    start_url: sso.start_url.clone(),
                    region: sso.region.clone(),
                    reason: "the new session could not be read back from the credential store",
                })?
                };
            if sso.auto_provision_identities {
                let portal = Portal::new(clients.sso_portal(session.endpoints()));
                let count = provisioned::refresh(sso, &portal, &token.access_token).await?;
                eprintln!("Found {count} permission sets across your accounts.");
            }
            Ok::<_, ProviderError>(token)
        })?;
    eprintln!(
        "Logged in to {} ({}); session valid until {}.",
        sso.start_url,
        sso.region,
        humantime::format_rfc3339_seconds(token.expiration())
    );
    if let Some(identity) = identity {
        let credentials = resolver.resolve(identity, LoginPolicy::Never)?;
        eprintln!(
            "Credentials for {} valid until {}.",
            identity.name,
            credentials.expiration_rfc3339()
        );
    }
    Ok(exit::SUCCESS)
}
