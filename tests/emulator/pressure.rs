//! Load the emulator puts on a client, as IAM Identity Center does for a large organisation: a
//! round-trip time added to every AWS call, and throttling of the portal's listings.
//!
//! Throttling is by page, so that it is repeatable whatever order a concurrent client asks in:
//! a page is an operation with its `account_id` and `next_token`, and every `every`-th page
//! asked for the first time is answered `TooManyRequestsException` (429) on its first `times`
//! asks, then served.

use super::call::Call;
use super::op::Op;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

#[derive(Default)]
pub struct Pressure {
    /// Slept before every AWS call is answered (control routes are not delayed).
    pub latency: Duration,
    throttles: BTreeMap<Op, PageThrottle>,
}

struct PageThrottle {
    every: usize,
    times: usize,
    /// Distinct pages asked for so far.
    pages: usize,
    /// Refusals each page asked for has still to receive.
    refusals: HashMap<String, usize>,
}

impl Pressure {
    /// Throttles every `every`-th new page of `op` (ListAccounts or ListAccountRoles) on its
    /// first `times` asks. `every` 0 or `times` 0 turns throttling of `op` off. Counting
    /// starts again.
    pub fn throttle_pages(&mut self, op: Op, every: usize, times: usize) {
        if every == 0 || times == 0 {
            self.throttles.remove(&op);
            return;
        }
        self.throttles.insert(
            op,
            PageThrottle {
                every,
                times,
                pages: 0,
                refusals: HashMap::new(),
            },
        );
    }

    /// Whether this call of `op` is answered with throttling.
    pub fn throttled(&mut self, op: Op, call: &Call) -> bool {
        let Some(throttle) = self.throttles.get_mut(&op) else {
            return false;
        };
        let page = format!(
            "{}|{}",
            call.query("account_id").unwrap_or_default(),
            call.query("next_token").unwrap_or_default()
        );
        let remaining = throttle.refusals.entry(page).or_insert_with(|| {
            throttle.pages += 1;
            if throttle.pages % throttle.every == 0 {
                throttle.times
            } else {
                0
            }
        });
        if *remaining == 0 {
            return false;
        }
        *remaining -= 1;
        true
    }
}
