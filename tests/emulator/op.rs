//! The AWS operations the emulator answers, which service each belongs to, and how a request is
//! routed to one. Counting, faults and recordings are all keyed by `Op`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Op {
    RegisterClient,
    StartDeviceAuthorization,
    CreateToken,
    ListAccounts,
    ListAccountRoles,
    GetRoleCredentials,
    Logout,
    GetCallerIdentity,
    AssumeRole,
    AssumeRoleWithWebIdentity,
    GetSessionToken,
    GetSigninToken,
}

/// The three services share one base URL; each has its own error format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// SSO OIDC: restJson1 with OAuth-style error bodies.
    Oidc,
    /// SSO portal: restJson1 with `{"message"}` error bodies.
    Portal,
    /// STS: awsQuery, XML.
    Sts,
}

impl Op {
    pub const ALL: [Op; 12] = [
        Op::RegisterClient,
        Op::StartDeviceAuthorization,
        Op::CreateToken,
        Op::ListAccounts,
        Op::ListAccountRoles,
        Op::GetRoleCredentials,
        Op::Logout,
        Op::GetCallerIdentity,
        Op::AssumeRole,
        Op::AssumeRoleWithWebIdentity,
        Op::GetSessionToken,
        Op::GetSigninToken,
    ];

    pub fn service(self) -> Service {
        match self {
            Op::RegisterClient | Op::StartDeviceAuthorization | Op::CreateToken => Service::Oidc,
            Op::ListAccounts
            | Op::ListAccountRoles
            | Op::GetRoleCredentials
            | Op::Logout
            | Op::GetSigninToken => Service::Portal,
            Op::GetCallerIdentity
            | Op::AssumeRole
            | Op::AssumeRoleWithWebIdentity
            | Op::GetSessionToken => Service::Sts,
        }
    }

    /// The restJson1 operation at `method path`. STS is not routed here: every STS call is
    /// `POST /` and the operation is the form's `Action`.
    pub fn from_route(method: &str, path: &str) -> Option<Op> {
        Some(match (method, path) {
            ("POST", "/client/register") => Op::RegisterClient,
            ("POST", "/device_authorization") => Op::StartDeviceAuthorization,
            ("POST", "/token") => Op::CreateToken,
            ("GET", "/assignment/accounts") => Op::ListAccounts,
            ("GET", "/assignment/roles") => Op::ListAccountRoles,
            ("GET", "/federation/credentials") => Op::GetRoleCredentials,
            ("POST", "/logout") => Op::Logout,
            ("GET", "/federation") => Op::GetSigninToken,
            _ => return None,
        })
    }

    pub fn from_sts_action(action: &str) -> Option<Op> {
        Some(match action {
            "GetCallerIdentity" => Op::GetCallerIdentity,
            "AssumeRole" => Op::AssumeRole,
            "AssumeRoleWithWebIdentity" => Op::AssumeRoleWithWebIdentity,
            "GetSessionToken" => Op::GetSessionToken,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::RegisterClient => "RegisterClient",
            Op::StartDeviceAuthorization => "StartDeviceAuthorization",
            Op::CreateToken => "CreateToken",
            Op::ListAccounts => "ListAccounts",
            Op::ListAccountRoles => "ListAccountRoles",
            Op::GetRoleCredentials => "GetRoleCredentials",
            Op::Logout => "Logout",
            Op::GetCallerIdentity => "GetCallerIdentity",
            Op::AssumeRole => "AssumeRole",
            Op::AssumeRoleWithWebIdentity => "AssumeRoleWithWebIdentity",
            Op::GetSessionToken => "GetSessionToken",
            Op::GetSigninToken => "getSigninToken",
        }
    }
}
