//! `atmos-auth whoami`: ask STS who the identity's credentials belong to.

use serde::Serialize;

use super::{Context, region_of};
use super::{Error, exit};
use crate::cli::WhoamiFormat;
use crate::provider::ProviderError;
use crate::provider::sdk::{self, Clients, Endpoints};
use crate::provider::sso::LoginPolicy;
use crate::upstream::UpstreamError;

#[derive(Serialize)]
struct CallerIdentity {
    identity: String,
    account: String,
    arn: String,
    user_id: String,
    expiration: String,
}

pub fn run(context: &Context, identity: Option<&str>, format: WhoamiFormat) -> Result<i32, Error> {
    let identity = context.identity(identity)?;
    let credentials = context.resolver().resolve(identity, LoginPolicy::Never)?;
    let region = region_of(&context.config, identity);
    let endpoint = crate::identity::endpoint_for(&context.config, identity);
    let endpoints = Endpoints::from_process(region, endpoint);
    let caller = sdk::runtime()
        .map_err(ProviderError::Runtime)?
        .block_on(async {
            let clients = Clients::new(region)?;
            clients
                .sts(&endpoints, credentials.to_sdk())
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| ProviderError::from(UpstreamError::from_sdk("GetCallerIdentity", e)))
        })?;
    // The SDK's XML reader accepts a document cut short and returns what it read so far: an
    // answer without all three fields was damaged on the way, and is not shown as if complete.
    let required = |value: Option<String>, field| {
        value.filter(|v| !v.is_empty()).ok_or_else(|| {
            ProviderError::from(UpstreamError::missing_field("GetCallerIdentity", field))
        })
    };
    let report = CallerIdentity {
        identity: identity.name.clone(),
        account: required(caller.account, "Account")?,
        arn: required(caller.arn, "Arn")?,
        user_id: required(caller.user_id, "UserId")?,
        expiration: credentials.expiration_rfc3339(),
    };
    match format {
        // What STS said, with DEL, C1 and bidi controls escaped too.
        WhoamiFormat::Json => println!("{}", crate::text::json_pretty(&report)),
        WhoamiFormat::Text => {
            // The account, ARN and user id are what STS said: shown terminal-safe.
            use crate::text::printable;
            println!("identity    {}", printable(&report.identity));
            println!("account     {}", printable(&report.account));
            println!("arn         {}", printable(&report.arn));
            println!("user id     {}", printable(&report.user_id));
            println!("expires     {}", report.expiration);
        }
    }
    Ok(exit::SUCCESS)
}
