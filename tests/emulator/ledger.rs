//! What happened: per-operation call counters, a record of every AWS call with the account,
//! role and key it used, and the queue of faults waiting for upcoming calls.
//!
//! Tests assert against this ("exactly one GetRoleCredentials", "plat-dev with
//! TerraformApplyAccess"); it never influences answers except by handing out queued faults.

use super::call::Call;
use super::fault::Fault;
use super::op::Op;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

/// One answered AWS call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordedCall {
    pub op: Op,
    pub status: u16,
    /// `account_id` of a portal call, or the account in an STS `RoleArn`.
    pub account_id: Option<String>,
    /// `role_name` (the permission set) of a portal call, or the role name in a `RoleArn`.
    pub role_name: Option<String>,
    pub role_arn: Option<String>,
    pub session_name: Option<String>,
    /// The SigV4 access key id that signed an STS call.
    pub access_key_id: Option<String>,
    /// The injected fault this call received, if any.
    pub fault: Option<String>,
    /// Every secret the call carried: bearer token, client secret, refresh token, device code,
    /// web-identity token, session token. Tests check which endpoint was shown which secret.
    pub presented: Vec<String>,
}

impl RecordedCall {
    pub fn new(op: Op, call: &Call, status: u16, fault: Option<&Fault>) -> RecordedCall {
        let role_arn = call.param("RoleArn");
        // arn:aws:iam::ACCOUNT:role/path/NAME
        let arn_parts = role_arn.map(|arn| {
            let account = arn.split(':').nth(4).unwrap_or_default().to_string();
            let name = arn.rsplit('/').next().unwrap_or_default().to_string();
            (account, name)
        });
        RecordedCall {
            op,
            status,
            account_id: call
                .query("account_id")
                .map(Into::into)
                .or(arn_parts.as_ref().map(|p| p.0.clone())),
            role_name: call
                .query("role_name")
                .map(Into::into)
                .or(arn_parts.map(|p| p.1)),
            role_arn: role_arn.map(Into::into),
            session_name: call.param("RoleSessionName").map(Into::into),
            access_key_id: call.access_key_id().map(Into::into),
            fault: fault.map(|f| format!("{f:?}")),
            presented: presented(call),
        }
    }
}

/// The secret values in a call, wherever the protocols put them.
fn presented(call: &Call) -> Vec<String> {
    let body = call.json().unwrap_or_default();
    let headers = ["x-amz-sso_bearer_token", "x-amz-security-token"]
        .into_iter()
        .filter_map(|name| call.header(name));
    let fields = ["clientSecret", "refreshToken", "deviceCode"]
        .into_iter()
        .filter_map(|name| body.get(name).and_then(|v| v.as_str()));
    headers
        .chain(fields)
        .chain(call.param("WebIdentityToken"))
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Default)]
pub struct Ledger {
    calls: BTreeMap<Op, usize>,
    requests: Vec<RecordedCall>,
    /// Per operation: faults in the order they fire, each with how many calls it still hits.
    faults: BTreeMap<Op, VecDeque<(Fault, usize)>>,
}

impl Ledger {
    /// Counts a call as it arrives (before any delay), so a test sees calls in flight.
    pub fn count(&mut self, op: Op) {
        *self.calls.entry(op).or_default() += 1;
    }

    pub fn record(&mut self, call: RecordedCall) {
        self.requests.push(call);
    }

    pub fn inject(&mut self, op: Op, fault: Fault, times: usize) {
        if times > 0 {
            self.faults.entry(op).or_default().push_back((fault, times));
        }
    }

    /// The fault for the call of `op` now arriving, if one is queued.
    pub fn take_fault(&mut self, op: Op) -> Option<Fault> {
        let queue = self.faults.get_mut(&op)?;
        let (fault, remaining) = queue.front_mut()?;
        let fault = fault.clone();
        *remaining -= 1;
        if *remaining == 0 {
            queue.pop_front();
        }
        Some(fault)
    }

    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    pub fn calls(&self, op: Op) -> usize {
        self.calls.get(&op).copied().unwrap_or(0)
    }

    pub fn calls_total(&self) -> usize {
        self.calls.values().sum()
    }

    pub fn counters(&self) -> &BTreeMap<Op, usize> {
        &self.calls
    }

    pub fn requests(&self) -> &[RecordedCall] {
        &self.requests
    }

    /// Forgets counters and recordings (not queued faults), e.g. between benchmark phases.
    pub fn reset(&mut self) {
        self.calls.clear();
        self.requests.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_fire_in_order_for_their_count() {
        let mut ledger = Ledger::default();
        ledger.inject(Op::AssumeRole, Fault::Throttle, 2);
        ledger.inject(Op::AssumeRole, Fault::Status(500), 1);
        let fired: Vec<_> = (0..4).map(|_| ledger.take_fault(Op::AssumeRole)).collect();
        assert_eq!(
            fired,
            [
                Some(Fault::Throttle),
                Some(Fault::Throttle),
                Some(Fault::Status(500)),
                None
            ]
        );
        assert_eq!(ledger.take_fault(Op::ListAccounts), None);
    }
}
