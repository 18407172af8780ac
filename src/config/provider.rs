//! `Provider`: a validated entry of `auth.providers`, the place base credentials come from.
//!
//! Each kind is a variant of `ProviderKind` holding its own settings struct, so a new kind is
//! one new variant and one new arm in the validator.

use std::time::Duration;

use super::Location;

/// A named credential source, such as an IAM Identity Center instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub name: String,
    pub kind: ProviderKind,
    /// `tags:` as written; every identity whose chain starts at this provider carries them.
    pub tags: std::collections::BTreeSet<String>,
    /// Where the provider's name is written.
    pub location: Location,
}

/// What a provider is, with the settings of that kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderKind {
    /// `aws/iam-identity-center`: browser device login against an AWS SSO start URL.
    IdentityCenter(IdentityCenter),
    /// `github/oidc`: the GitHub Actions OIDC token, exchanged through
    /// `AssumeRoleWithWebIdentity` by an `aws/assume-role` identity.
    GithubOidc(GithubOidc),
}

impl ProviderKind {
    /// The `kind:` words the validator accepts, for "expected one of" hints.
    pub const NAMES: [&'static str; 2] = [IdentityCenter::KIND, GithubOidc::KIND];

    /// The `kind:` word this provider was written with.
    pub fn name(&self) -> &'static str {
        match self {
            Self::IdentityCenter(_) => IdentityCenter::KIND,
            Self::GithubOidc(_) => GithubOidc::KIND,
        }
    }

    /// The region the provider's credentials are for, when it has one.
    pub fn region(&self) -> Option<&str> {
        match self {
            Self::IdentityCenter(provider) => Some(&provider.region),
            Self::GithubOidc(provider) => provider.region.as_deref(),
        }
    }
}

/// Settings of an `aws/iam-identity-center` provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityCenter {
    pub region: String,
    /// The AWS access portal URL, checked to be `http://` or `https://`.
    pub start_url: String,
    /// `session.duration`: how long an SSO session should be trusted before logging in again.
    pub session_duration: Option<Duration>,
    /// `spec.endpoint_url`: overrides the AWS endpoints, for emulators and private links.
    pub endpoint_url: Option<String>,
    /// Add an identity for every permission set the portal offers. Accepted now, used later.
    pub auto_provision_identities: bool,
    /// `login:`: how an interactive sign-in runs.
    pub login: LoginMethod,
}

impl IdentityCenter {
    pub const KIND: &'static str = "aws/iam-identity-center";
}

/// The `login:` setting of an `aws/iam-identity-center` provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LoginMethod {
    /// `browser` (the default): the authorization code with PKCE when a browser can be opened,
    /// else the device code.
    #[default]
    Browser,
    /// `device-code`: always the device code, for organisations that want the code on screen
    /// or machines whose browser cannot reach the loopback listener.
    DeviceCode,
}

impl LoginMethod {
    /// The words the validator accepts, in the order of the variants.
    pub const NAMES: [&'static str; 2] = ["browser", "device-code"];
}

/// Settings of a `github/oidc` provider. It needs no login: the token comes from the Actions
/// runtime when credentials are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubOidc {
    /// The region STS is called in and the credentials default to; `None` leaves it to the
    /// identity or the environment.
    pub region: Option<String>,
    /// `spec.audience`: the `aud` claim requested for the token. It must match the audience
    /// registered on the AWS IAM OIDC provider.
    pub audience: String,
}

impl GithubOidc {
    pub const KIND: &'static str = "github/oidc";
    pub const DEFAULT_AUDIENCE: &'static str = "sts.amazonaws.com";
}
