//! `Portal`: the SSO portal calls made with an access token — listing accounts (to resolve an
//! account name the static map lacks) and exchanging the token for role credentials.
//!
//! Lists are followed page by page by hand rather than with the SDK's paginators, which stop
//! silently on a repeated token (a truncated list that looks complete) and never on a cycle:
//! here a token seen before, or a list longer than `MAX_PAGES`, is an error.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, SystemTime};

use aws_sdk_sso::error::ProvideErrorMetadata;

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
        let mut pages = Pages::new("ListAccounts");
        let mut next_token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_accounts()
                .access_token(token.expose())
                .max_results(PAGE_SIZE)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| UpstreamError::from_sdk("ListAccounts", e))?;
            for account in out.account_list.unwrap_or_default() {
                if let (Some(id), Some(name)) = (account.account_id, account.account_name) {
                    let ids = accounts.entry(name).or_default();
                    if let Err(at) = ids.binary_search(&id) {
                        ids.insert(at, id);
                    }
                }
            }
            match pages.next(out.next_token)? {
                Some(token) => next_token = Some(token),
                None => return Ok(accounts),
            }
        }
    }

    /// Every permission set the user holds in `account_id`, following every page.
    pub async fn roles(
        &self,
        token: &Secret<String>,
        account_id: &str,
    ) -> Result<Vec<String>, ProviderError> {
        let mut roles = Vec::new();
        let mut pages = Pages::new("ListAccountRoles");
        let mut next_token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_account_roles()
                .access_token(token.expose())
                .account_id(account_id)
                .max_results(PAGE_SIZE)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| UpstreamError::from_sdk("ListAccountRoles", e))?;
            roles.extend(
                out.role_list
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|role| role.role_name),
            );
            match pages.next(out.next_token)? {
                Some(token) => next_token = Some(token),
                None => return Ok(roles),
            }
        }
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
