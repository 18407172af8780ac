//! The organisation the emulator pretends to be: the signed-in user, the accounts and permission
//! sets assigned to them, assumable roles, IAM users with long-term keys, and service settings.
//!
//! It is plain data, deserializable from the JSON file `--org` names, with lookups used by the
//! service handlers. It holds no runtime state (tokens and sessions live elsewhere).

use serde::Deserialize;
use std::fmt;

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// User name of the person who signs in; it ends SSO role-session ARNs.
    pub user: String,
    pub accounts: Vec<Account>,
    /// When set, StartDeviceAuthorization rejects any other start URL, which catches config
    /// wiring mistakes that a permissive emulator would hide.
    #[serde(default)]
    pub start_url: Option<String>,
    /// Roles with special rules. Any other `role/...` ARN in an org account may be assumed with
    /// the AWS default maximum session duration.
    #[serde(default)]
    pub roles: Vec<RoleDef>,
    #[serde(default)]
    pub iam_users: Vec<IamUser>,
    /// Web identity tokens AssumeRoleWithWebIdentity accepts; empty accepts any non-empty token.
    #[serde(default)]
    pub web_identity_tokens: Vec<String>,
    #[serde(default)]
    pub settings: Settings,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
    /// Permission sets assigned to the user in this account, i.e. the SSO role names.
    pub permission_sets: Vec<String>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDef {
    pub arn: String,
    /// When set, AssumeRole must pass exactly this ExternalId.
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default = "default_max_session_duration_secs")]
    pub max_session_duration_secs: u64,
    /// A role whose trust policy rejects every caller.
    #[serde(default)]
    pub deny: bool,
}

/// An IAM user with a long-term access key: the only caller GetSessionToken accepts.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamUser {
    pub name: String,
    pub account_id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// MFA device serial; when a request names it, TokenCode must be six digits other than
    /// `000000` (the code tests use for a wrong one).
    #[serde(default)]
    pub mfa_serial: Option<String>,
}

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub access_token_ttl_secs: u64,
    pub role_credentials_ttl_secs: u64,
    pub client_secret_ttl_secs: u64,
    pub device_code_ttl_secs: u64,
    pub poll_interval_secs: u64,
    /// The portal's page-size ceiling: pages are never longer, whatever `max_result` asks.
    pub page_size: usize,
    /// Answer SlowDownException to CreateToken polls that come faster than the interval.
    pub enforce_poll_interval: bool,
    /// Invalidate a refresh token once it has been used, so only the newest one works.
    pub single_use_refresh_tokens: bool,
    /// The expiry (epoch seconds) stated for every client secret, access token and credential
    /// issued, whatever the TTLs above: a hostile endpoint claiming year 3000, say.
    pub stated_expiry: Option<u64>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            access_token_ttl_secs: 8 * 3600,
            role_credentials_ttl_secs: 3600,
            client_secret_ttl_secs: 90 * 24 * 3600,
            device_code_ttl_secs: 600,
            poll_interval_secs: 1,
            page_size: 2,
            enforce_poll_interval: true,
            single_use_refresh_tokens: false,
            stated_expiry: None,
        }
    }
}

/// IAM's default MaxSessionDuration for a role.
fn default_max_session_duration_secs() -> u64 {
    3600
}

#[derive(Debug)]
pub enum OrgError {
    Json(serde_json::Error),
    AccountId { id: String },
    NoPageSize,
}

impl fmt::Display for OrgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrgError::Json(err) => write!(f, "invalid organisation JSON: {err}"),
            OrgError::AccountId { id } => write!(f, "account id `{id}` is not 12 digits"),
            OrgError::NoPageSize => write!(f, "`settings.page_size` must be at least 1"),
        }
    }
}

impl std::error::Error for OrgError {}

impl Organization {
    pub fn from_json(text: &str) -> Result<Organization, OrgError> {
        let org: Organization = serde_json::from_str(text).map_err(OrgError::Json)?;
        if let Some(bad) = org.accounts.iter().find(|a| !is_account_id(&a.id)) {
            return Err(OrgError::AccountId { id: bad.id.clone() });
        }
        if org.settings.page_size == 0 {
            return Err(OrgError::NoPageSize);
        }
        Ok(org)
    }

    /// A small platform-team organisation: five accounts (three portal pages at the default page
    /// size), Terraform permission sets, a chained role with an ExternalId and a denied one.
    pub fn demo() -> Organization {
        let account = |id: &str, name: &str, sets: &[&str]| Account {
            id: id.into(),
            name: name.into(),
            email: format!("aws+{name}@example.com"),
            permission_sets: sets.iter().map(|s| s.to_string()).collect(),
        };
        let role = |arn: &str, external_id: Option<&str>, deny: bool| RoleDef {
            arn: arn.into(),
            external_id: external_id.map(Into::into),
            max_session_duration_secs: default_max_session_duration_secs(),
            deny,
        };
        Organization {
            user: "demo.user".into(),
            accounts: vec![
                account(
                    "111111111111",
                    "core-identity",
                    &["ReadOnlyAccess", "TerraformStateAccess"],
                ),
                account(
                    "222222222222",
                    "plat-dev",
                    &[
                        "TerraformApplyAccess",
                        "TerraformPlanAccess",
                        "ReadOnlyAccess",
                    ],
                ),
                account(
                    "333333333333",
                    "plat-staging",
                    &["TerraformPlanAccess", "ReadOnlyAccess"],
                ),
                account(
                    "444444444444",
                    "plat-prod",
                    &["TerraformPlanAccess", "ReadOnlyAccess"],
                ),
                account("555555555555", "core-audit", &["ReadOnlyAccess"]),
            ],
            start_url: None,
            roles: vec![
                role(
                    "arn:aws:iam::444444444444:role/terraform",
                    Some("atmos-demo"),
                    false,
                ),
                role("arn:aws:iam::444444444444:role/break-glass", None, true),
            ],
            iam_users: vec![IamUser {
                name: "ci-bot".into(),
                account_id: "111111111111".into(),
                access_key_id: "AKIAFAKEEMULATORBOT1".into(),
                secret_access_key: "EMULATORSECRETciBotDemoKey00000000000000".into(),
                mfa_serial: Some("arn:aws:iam::111111111111:mfa/ci-bot".into()),
            }],
            web_identity_tokens: Vec::new(),
            settings: Settings::default(),
        }
    }

    /// An organisation of `accounts` accounts, each assigning the user `permission_sets`
    /// permission sets, at a page size of 20. The portal lists accounts by id while their
    /// names run the other way (`team-0499` first for 500 accounts), and each account lists
    /// its permission sets in a rotated order, so a client that keeps either order, or sorts
    /// where it should not, shows it.
    pub fn scaled(accounts: usize, permission_sets: usize) -> Organization {
        let accounts = (0..accounts)
            .map(|n| {
                let name = format!("team-{:04}", accounts - 1 - n);
                Account {
                    id: format!("{:012}", 100_000_000_000 + n),
                    email: format!("aws+{name}@example.com"),
                    name,
                    permission_sets: (0..permission_sets)
                        .map(|k| format!("PermissionSet{:02}", (k + n) % permission_sets))
                        .collect(),
                }
            })
            .collect();
        Organization {
            user: "scale.user".into(),
            accounts,
            start_url: None,
            roles: Vec::new(),
            iam_users: Vec::new(),
            web_identity_tokens: Vec::new(),
            settings: Settings {
                page_size: 20,
                ..Settings::default()
            },
        }
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn is_assigned(&self, account_id: &str, permission_set: &str) -> bool {
        self.account(account_id)
            .is_some_and(|a| a.permission_sets.iter().any(|p| p == permission_set))
    }

    pub fn role(&self, arn: &str) -> Option<&RoleDef> {
        self.roles.iter().find(|r| r.arn == arn)
    }

    pub fn iam_user_by_key(&self, access_key_id: &str) -> Option<&IamUser> {
        self.iam_users
            .iter()
            .find(|u| u.access_key_id == access_key_id)
    }
}

pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fills_defaults_and_checks_account_ids() {
        let org = Organization::from_json(
            r#"{"user":"u","accounts":[{"id":"123456789012","name":"a","email":"e","permission_sets":["P"]}],
                "settings":{"page_size":5}}"#,
        )
        .unwrap();
        assert!(org.is_assigned("123456789012", "P"));
        assert_eq!(org.settings.page_size, 5);
        assert_eq!(org.settings.poll_interval_secs, 1);
        let bad =
            r#"{"user":"u","accounts":[{"id":"12","name":"a","email":"e","permission_sets":[]}]}"#;
        assert!(matches!(
            Organization::from_json(bad),
            Err(OrgError::AccountId { .. })
        ));
    }
}
