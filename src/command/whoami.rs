//! `atmos-auth whoami`: ask STS who the identity's credentials belong to.

use serde::Serialize;

use super::{Context, region_of};
use crate::cli::WhoamiFormat;
use crate::error::{Error, exit};
use crate::provider::ProviderError;
use crate::provider::sso::LoginPolicy;
use crate::sdk::{self, Clients};
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
    let caller = sdk::runtime()
        .map_err(ProviderError::Runtime)?
        .block_on(async {
            let clients = Clients::new(region, endpoint).await?;
            clients
                .sts(credentials.to_sdk())
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| ProviderError::from(UpstreamError::from_sdk("GetCallerIdentity", e)))
        })?;
    let report = CallerIdentity {
        identity: identity.name.clone(),
        account: caller.account.unwrap_or_default(),
        arn: caller.arn.unwrap_or_default(),
        user_id: caller.user_id.unwrap_or_default(),
        expiration: credentials.expiration_rfc3339(),
    };
    match format {
        WhoamiFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("serializes")
        ),
        WhoamiFormat::Text => {
            println!("identity    {}", report.identity);
            println!("account     {}", report.account);
            println!("arn         {}", report.arn);
            println!("user id     {}", report.user_id);
            println!("expires     {}", report.expiration);
        }
    }
    Ok(exit::SUCCESS)
}
