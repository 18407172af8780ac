//! `Portal`: the SSO portal calls made with an access token — listing accounts and the
//! permission sets held in each (to resolve an account name the static map lacks, and to
//! provision identities), and exchanging the token for role credentials.
//!
//! Lists are followed with the SDK's paginators. Their own guard only notices a token equal to
//! the one just sent, and then ends the list silently (a truncated list that looks complete);
//! so every page's `nextToken` passes `Pages` first: a token seen before anywhere in the
//! listing, or a list longer than `MAX_PAGES`, is an error.
//!
//! Throttling. The SDK's standard retry mode already asks a call refused with
//! `TooManyRequestsException` (429) again, up to its attempt limit, with jittered backoff and a
//! retry quota shared by the process. A page that is still refused after that is not the end of
//! the listing: [`Backoff`] waits (exponential, full jitter) and the paginator starts again from
//! that page's own token, keeping the pages already read, until one time budget for the whole
//! listing runs out. Only throttling is asked again here; every other error has had the SDK's
//! retries and ends the listing.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use aws_sdk_sso::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use futures_util::{StreamExt, TryStreamExt};

use crate::credentials::{Credentials, capped_role_expiry};
use crate::provider::ProviderError;
use crate::secret::Secret;
use crate::upstream::UpstreamError;

/// What the portal said when the token itself was refused.
pub const UNAUTHORIZED: &str = "UnauthorizedException";

/// Items asked for per page: the most both listings accept.
const PAGE_SIZE: i32 = 100;
/// Most pages one listing may take: 100,000 accounts (or permission sets in one account) at
/// full pages, 20,000 if the portal answers with pages of 20. Far above any organisation
/// (Organizations caps accounts in the low thousands, Identity Center permission sets at
/// 2,000), and a bound on how long an endpoint that invents tokens can keep us paging.
pub const MAX_PAGES: usize = 1000;

/// Accounts whose permission sets are listed at once. IAM Identity Center documents a
/// collective throttle of 20 transactions per second for its APIs; 20 calls in flight is one
/// second of that quota, and at a 50 ms round trip lists 500 accounts in about 1.3 s. Where the
/// portal throttles a run, the refused pages wait (see [`Backoff`]), so the run slows down to
/// what the portal grants instead of failing.
const CONCURRENT_LISTINGS: usize = 20;
/// From its start, how long one listing (accounts, then every account's permission sets) may
/// go on asking throttled pages again before the throttling error is the answer: enough for
/// 2,000 accounts at a sustained 10 calls per second, and an end to waiting on a portal that
/// never stops refusing.
const THROTTLE_BUDGET: Duration = Duration::from_secs(300);
/// The first wait's ceiling after a page is throttled; each further wait doubles it.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
/// The most any one wait's ceiling grows to.
const BACKOFF_CAP: Duration = Duration::from_secs(20);

/// Why a listing was abandoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PagingFault {
    /// A `nextToken` came back that an earlier page had already sent.
    RepeatedToken,
    /// More than `MAX_PAGES` pages.
    TooManyPages,
}

impl std::fmt::Display for PagingFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::RepeatedToken => f.write_str("the portal sent a page token it had sent before"),
            Self::TooManyPages => write!(f, "the list ran past {MAX_PAGES} pages"),
        }
    }
}

/// The page tokens of one listing so far.
struct Pages {
    operation: &'static str,
    seen: HashSet<String>,
    pages: usize,
}

impl Pages {
    fn new(operation: &'static str) -> Self {
        Self {
            operation,
            seen: HashSet::new(),
            pages: 0,
        }
    }

    /// After a page that ended with `token`: the token to ask for the next page with, or
    /// `None` when the list is complete.
    fn next(&mut self, token: Option<String>) -> Result<Option<String>, ProviderError> {
        self.pages += 1;
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let fault = if self.seen.contains(&token) {
            PagingFault::RepeatedToken
        } else if self.pages >= MAX_PAGES {
            PagingFault::TooManyPages
        } else {
            self.seen.insert(token.clone());
            return Ok(Some(token));
        };
        Err(ProviderError::Paging {
            operation: self.operation,
            fault,
        })
    }
}

/// The waits before a throttled page is asked again: exponential backoff with full jitter (a
/// random wait between zero and `BACKOFF_BASE · 2^n`, that ceiling at most `BACKOFF_CAP`), all
/// within one deadline shared by every listing of a run.
struct Backoff {
    budget: Duration,
    deadline: tokio::time::Instant,
    /// Set once the user has been told that the portal throttles this run.
    told: AtomicBool,
}

impl Backoff {
    /// Waits that end at the latest `budget` from now.
    fn new(budget: Duration) -> Self {
        Self {
            budget,
            deadline: tokio::time::Instant::now() + budget,
            told: AtomicBool::new(false),
        }
    }

    /// Waits before the `retry`-th new ask (0 for the first) of a page refused with `refusal`;
    /// `refusal` is the answer when that wait would pass the deadline. The first wait of a run
    /// is said: a listing the portal throttles can take minutes, without another word.
    async fn wait(&self, retry: u32, refusal: UpstreamError) -> Result<(), ProviderError> {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).expect("the OS random source is available");
        let delay = backoff_delay(retry, u64::from_le_bytes(random));
        let minutes = self.budget.as_secs().div_ceil(60);
        if tokio::time::Instant::now() + delay > self.deadline {
            return Err(ProviderError::Throttled {
                minutes,
                source: refusal,
            });
        }
        if !self.told.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "the SSO portal is throttling `{}`: asking again after pauses, for up to {minutes} minutes",
                refusal.operation
            );
        }
        tracing::debug!(
            "`{}` throttled; asking again in {} ms",
            refusal.operation,
            delay.as_millis()
        );
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

/// The wait before the `retry`-th new ask: `random` scaled into `[0, ceiling]`.
fn backoff_delay(retry: u32, random: u64) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1u32 << retry.min(16))
        .min(BACKOFF_CAP);
    // The top 53 bits of `random` as a fraction in [0, 1).
    ceiling.mul_f64((random >> 11) as f64 / (1u64 << 53) as f64)
}

/// Whether the portal refused a call for its rate.
fn is_throttling<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    match error {
        SdkError::ServiceError(context) => {
            context.raw().status().as_u16() == 429
                || context.err().code() == Some("TooManyRequestsException")
        }
        _ => false,
    }
}

/// Follows a listing from its first page to its last: `start(token)` is the SDK paginator
/// from the page `token` names (`None`: the first), `page` takes each page in order. A page
/// throttled past the SDK's retries is asked again from its own token after a `backoff` wait.
async fn follow<O, E>(
    operation: &'static str,
    backoff: &Backoff,
    start: impl Fn(Option<String>) -> PaginationStream<Result<O, SdkError<E, HttpResponse>>>,
    next_token: impl Fn(&O) -> Option<&str>,
    mut page: impl FnMut(O),
) -> Result<(), ProviderError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut pages = Pages::new(operation);
    let mut resume: Option<String> = None;
    let mut retries = 0;
    'listing: loop {
        let mut stream = start(resume.clone());
        while let Some(answer) = stream.next().await {
            match answer {
                Ok(out) => {
                    let token = next_token(&out).map(str::to_owned);
                    page(out);
                    match pages.next(token)? {
                        Some(token) => resume = Some(token),
                        None => return Ok(()),
                    }
                }
                Err(error) if is_throttling(&error) => {
                    backoff
                        .wait(retries, UpstreamError::from_sdk(operation, error))
                        .await?;
                    retries += 1;
                    continue 'listing;
                }
                Err(error) => return Err(UpstreamError::from_sdk(operation, error).into()),
            }
        }
        // The paginator ends after a page without a token (returned above) or one repeating
        // the token it was asked with (an error above): nothing else is left to read.
        return Ok(());
    }
}

/// The permission sets the user holds in one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRoles {
    pub account_id: String,
    pub account_name: String,
    /// In the order the portal lists them.
    pub permission_sets: Vec<String>,
}

pub struct Portal {
    client: aws_sdk_sso::Client,
}

impl Portal {
    pub fn new(client: aws_sdk_sso::Client) -> Self {
        Self { client }
    }

    /// Every account the user can see, name → ids, following every page. AWS lets two
    /// accounts share a name, so a name can map to several ids (sorted, without repeats).
    pub async fn accounts(
        &self,
        token: &Secret<String>,
    ) -> Result<BTreeMap<String, Vec<String>>, ProviderError> {
        let mut accounts: BTreeMap<String, Vec<String>> = BTreeMap::new();
        self.each_account(token, &Backoff::new(THROTTLE_BUDGET), |name, id| {
            let ids = accounts.entry(name).or_default();
            if let Err(at) = ids.binary_search(&id) {
                ids.insert(at, id);
            }
        })
        .await?;
        Ok(accounts)
    }

    /// Calls `found(name, id)` for each account of each ListAccounts page, in the portal's order.
    async fn each_account(
        &self,
        token: &Secret<String>,
        backoff: &Backoff,
        mut found: impl FnMut(String, String),
    ) -> Result<(), ProviderError> {
        follow(
            "ListAccounts",
            backoff,
            |from| {
                self.client
                    .list_accounts()
                    .access_token(token.expose())
                    .max_results(PAGE_SIZE)
                    .set_next_token(from)
                    .into_paginator()
                    .send()
            },
            |out| out.next_token.as_deref(),
            |out| {
                for account in out.account_list.unwrap_or_default() {
                    if let (Some(id), Some(name)) = (account.account_id, account.account_name) {
                        found(name, id);
                    }
                }
            },
        )
        .await
    }

    /// Every permission set the user holds in `account_id`, following every page.
    async fn roles(
        &self,
        token: &Secret<String>,
        account_id: &str,
        backoff: &Backoff,
    ) -> Result<Vec<String>, ProviderError> {
        let mut roles = Vec::new();
        follow(
            "ListAccountRoles",
            backoff,
            |from| {
                self.client
                    .list_account_roles()
                    .access_token(token.expose())
                    .account_id(account_id)
                    .max_results(PAGE_SIZE)
                    .set_next_token(from)
                    .into_paginator()
                    .send()
            },
            |out| out.next_token.as_deref(),
            |out| {
                roles.extend(
                    out.role_list
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|role| role.role_name),
                );
            },
        )
        .await?;
        Ok(roles)
    }

    /// Every account the user can see with the permission sets they hold there, sorted by
    /// account name, then id; each (name, id) once. The permission sets of up to
    /// `CONCURRENT_LISTINGS` accounts are listed at once, starting as soon as ListAccounts
    /// names each account, while its later pages are still being read.
    pub async fn assignments(
        &self,
        token: &Secret<String>,
    ) -> Result<Vec<AccountRoles>, ProviderError> {
        let backoff = &Backoff::new(THROTTLE_BUDGET);
        let (found, accounts) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
        let list_accounts = async move {
            let mut seen = HashSet::new();
            self.each_account(token, backoff, |name, id| {
                if seen.insert((name.clone(), id.clone())) {
                    // The receiver lives until this listing ends, or both end on an error.
                    let _ = found.send((name, id));
                }
            })
            .await
            // `found` is dropped here, which ends the stream of accounts below.
        };
        let list_roles = futures_util::stream::unfold(accounts, |mut accounts| async move {
            let account = accounts.recv().await?;
            Some((account, accounts))
        })
        .map(|(account_name, account_id)| async move {
            let permission_sets = self.roles(token, &account_id, backoff).await?;
            Ok::<_, ProviderError>(AccountRoles {
                account_id,
                account_name,
                permission_sets,
            })
        })
        .buffer_unordered(CONCURRENT_LISTINGS)
        .try_collect::<Vec<_>>();
        let ((), mut assignments) =
            futures_util::future::try_join(list_accounts, list_roles).await?;
        assignments.sort_by(|a, b| {
            (&a.account_name, &a.account_id).cmp(&(&b.account_name, &b.account_id))
        });
        Ok(assignments)
    }

    /// GetRoleCredentials for a permission set in an account, with the stated expiry believed
    /// up to 12 hours from `now`, the longest a permission set's session lasts.
    pub async fn role_credentials(
        &self,
        token: &Secret<String>,
        account_id: &str,
        account_label: &str,
        permission_set: &str,
        now: SystemTime,
    ) -> Result<Credentials, ProviderError> {
        let out = self
            .client
            .get_role_credentials()
            .access_token(token.expose())
            .account_id(account_id)
            .role_name(permission_set)
            .send()
            .await
            .map_err(|error| {
                // Not in the service model, so matched by its code string.
                if error.as_service_error().and_then(|e| e.code()) == Some("ForbiddenException") {
                    ProviderError::NotAssigned {
                        account: account_label.to_owned(),
                        permission_set: permission_set.to_owned(),
                    }
                } else {
                    UpstreamError::from_sdk("GetRoleCredentials", error).into()
                }
            })?;
        let missing = |field| UpstreamError::missing_field("GetRoleCredentials", field);
        let role = out
            .role_credentials
            .ok_or_else(|| missing("roleCredentials"))?;
        Ok(Credentials {
            access_key_id: role.access_key_id.ok_or_else(|| missing("accessKeyId"))?,
            secret_access_key: Secret::new(
                role.secret_access_key
                    .ok_or_else(|| missing("secretAccessKey"))?,
            ),
            session_token: Secret::new(role.session_token.ok_or_else(|| missing("sessionToken"))?),
            // The portal states expiry in epoch milliseconds; an absent one reads as 0.
            expires_at: u64::try_from(role.expiration / 1000)
                .ok()
                .filter(|secs| *secs > 0)
                .map(|secs| capped_role_expiry(secs, Duration::ZERO, now))
                .ok_or_else(|| missing("expiration"))?,
            account_id: Some(account_id.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_waits_grow_to_the_cap_with_full_jitter() {
        let top = u64::MAX;
        let ceilings: Vec<u64> = (0..8)
            .map(|retry| backoff_delay(retry, top).as_millis() as u64)
            .collect();
        // The top of the random range reaches each ceiling: 1 s, 2 s, 4 s, … capped at 20 s.
        assert_eq!(
            ceilings,
            [1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000]
        );
        assert_eq!(backoff_delay(3, 0), Duration::ZERO);
        assert_eq!(backoff_delay(1, 1 << 63), Duration::from_secs(1));
        assert_eq!(backoff_delay(u32::MAX, top), backoff_delay(7, top));
    }

    /// A portal that never stops throttling: once the budget is spent the run ends, exit 1,
    /// with the portal's refusal, how long it was asked again and what to do.
    #[test]
    fn a_listing_throttled_past_its_budget_ends_with_exit_1_and_a_hint() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let backoff = Backoff::new(Duration::from_secs(300));
        let backoff = Backoff {
            deadline: tokio::time::Instant::now(),
            ..backoff
        };
        let refusal = UpstreamError::missing_field("ListAccountRoles", "roleList");
        let error = runtime.block_on(backoff.wait(5, refusal)).unwrap_err();
        assert_eq!(error.exit_code(), 1);
        assert_eq!(
            error.to_string(),
            "the SSO portal kept throttling for 5 minutes: `ListAccountRoles` returned a \
             response that could not be read: the response has no `roleList`"
        );
        assert_eq!(
            error.hint().as_deref(),
            Some(
                "IAM Identity Center limits the calls of a whole organisation (about 20 a \
                 second); try again later"
            )
        );
    }

    fn fault(result: Result<Option<String>, ProviderError>) -> PagingFault {
        match result {
            Err(ProviderError::Paging { fault, .. }) => fault,
            other => panic!("not a paging error: {other:?}"),
        }
    }

    #[test]
    fn a_missing_or_empty_token_ends_the_list() {
        assert_eq!(Pages::new("ListAccounts").next(None).unwrap(), None);
        assert_eq!(
            Pages::new("ListAccounts")
                .next(Some(String::new()))
                .unwrap(),
            None
        );
    }

    #[test]
    fn a_token_seen_before_is_an_error_even_after_others() {
        let mut pages = Pages::new("ListAccounts");
        for token in ["a", "b", "c"] {
            assert_eq!(
                pages.next(Some(token.into())).unwrap().as_deref(),
                Some(token)
            );
        }
        assert_eq!(
            fault(pages.next(Some("b".into()))),
            PagingFault::RepeatedToken
        );
    }

    #[test]
    fn the_list_stops_at_the_page_cap() {
        let mut pages = Pages::new("ListAccountRoles");
        for n in 1..MAX_PAGES {
            assert!(pages.next(Some(format!("t{n}"))).unwrap().is_some());
        }
        // The last allowed page may end the list, but may not ask for one more.
        let mut last = Pages {
            pages: MAX_PAGES - 1,
            ..Pages::new("ListAccountRoles")
        };
        assert_eq!(last.next(None).unwrap(), None);
        assert_eq!(
            fault(pages.next(Some("more".into()))),
            PagingFault::TooManyPages
        );
        assert_eq!(
            ProviderError::Paging {
                operation: "ListAccountRoles",
                fault: PagingFault::TooManyPages
            }
            .to_string(),
            "`ListAccountRoles` did not end: the list ran past 1000 pages"
        );
    }
}
