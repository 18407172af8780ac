//! `atmos-auth whoami`: ask STS who the identity's credentials belong to.

use super::{Context, print};
use super::{Error, exit};
use crate::identity::region_for;
use crate::output::whoami::{self, Format, Report};
use crate::provider::sdk::Endpoints;
use crate::provider::sso::LoginPolicy;
use crate::provider::sts;

pub fn run(context: &Context, identity: Option<&str>, format: Format) -> Result<i32, Error> {
    let identity = context.identity(identity)?;
    let credentials = context.resolver().resolve(identity, LoginPolicy::Never)?;
    let region = region_for(&context.config, identity);
    let endpoint = crate::identity::endpoint_for(&context.config, identity);
    let endpoints = Endpoints::from_process(region, endpoint);
    let caller = sts::caller_identity(region, &endpoints, &credentials)?;
    let report = Report {
        identity: identity.name.clone(),
        account: caller.account,
        arn: caller.arn,
        user_id: caller.user_id,
        expiration: credentials.expiration_rfc3339(),
    };
    print(whoami::render(&report, format).as_bytes())?;
    Ok(exit::SUCCESS)
}
