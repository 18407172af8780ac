//! The identity graph: `via.identity` links between identities. Loading reports every cycle in
//! it; afterwards `Config` walks it to find an identity's chain, provider and region.
//!
//! Each identity names at most one identity it is obtained through, so following the links
//! from any identity either reaches a root (an identity without `via.identity`) or runs into a
//! cycle. A loaded `Config` has no cycles, so its chains always end. Nothing here resolves
//! credentials: the chain is a plan for a later layer.

use super::validator::Validator;
use super::{Config, Identity, Location, Provider};

/// One valid `via.identity` reference, collected while reading identities.
pub(crate) struct Link {
    pub from: String,
    pub to: String,
    /// Where the `via.identity` value is written.
    pub location: Location,
}

impl Validator<'_> {
    /// Reports each cycle once, at the `via.identity` of the member written first, naming the
    /// members in chain order from that one: `a → b → c → a`.
    pub fn cycles(&mut self, links: &[Link]) {
        for cycle in find_cycles(links) {
            let first = &links[cycle[0]];
            let mut names: Vec<&str> = cycle.iter().map(|&i| links[i].from.as_str()).collect();
            names.push(&first.from);
            let hint = "one identity of the chain must get its credentials without `via.identity`: from a provider with `via.provider`, or as an `aws/user` or `credential_process` identity".to_owned();
            self.report(
                &first.location,
                format!(
                    "`auth.identities.{}.via.identity` closes a cycle: `{}`",
                    first.from,
                    names.join(" → ")
                ),
                Some(hint),
            );
        }
    }
}

/// The cycles among `links`, each as indices into `links` in chain order, starting from the
/// member with the lowest index (the one written first). Links point at most one way out of
/// each identity, so each walk meets at most one new cycle.
fn find_cycles(links: &[Link]) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnWalk,
        Done,
    }
    let next = |i: usize| links.iter().position(|link| link.from == links[i].to);
    let mut state = vec![State::New; links.len()];
    let mut cycles = Vec::new();
    for start in 0..links.len() {
        let mut walk = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            match state[i] {
                State::New => {
                    state[i] = State::OnWalk;
                    walk.push(i);
                    at = next(i);
                }
                State::OnWalk => {
                    let from = walk.iter().position(|&w| w == i).unwrap_or_default();
                    let mut cycle = walk[from..].to_vec();
                    let first = (0..cycle.len())
                        .min_by_key(|&k| cycle[k])
                        .unwrap_or_default();
                    cycle.rotate_left(first);
                    cycles.push(cycle);
                    break;
                }
                State::Done => break,
            }
        }
        for i in walk {
            state[i] = State::Done;
        }
    }
    cycles
}

impl Config {
    /// The provider named by the identity's own `via.provider`, if any. Identities chained
    /// through `via.identity`, `aws/user` and `credential_process` identities have none; use
    /// `chain` to find the root, then ask for the root's provider.
    pub fn provider_for(&self, identity: &Identity) -> Option<&Provider> {
        let name = identity.kind.via_provider()?;
        self.auth.providers.get(name)
    }

    /// The chain that obtains `identity`, root first: `[root, ..., identity]`. It follows
    /// `via.identity` until an identity that has none; an identity without one is its own
    /// one-element chain.
    pub fn chain<'c>(&'c self, identity: &'c Identity) -> Vec<&'c Identity> {
        let mut chain = vec![identity];
        let mut current = identity;
        while let Some(parent) = current
            .kind
            .via_identity()
            .and_then(|name| self.auth.identities.get(name))
        {
            // Loading rules out cycles; this keeps a hand-built `Config` from looping forever.
            if chain.iter().any(|seen| seen.name == parent.name) {
                break;
            }
            chain.push(parent);
            current = parent;
        }
        chain.reverse();
        chain
    }

    /// The identity's tags with those of the provider its chain starts at.
    pub fn tags_of(&self, identity: &Identity) -> std::collections::BTreeSet<String> {
        let chain = self.chain(identity);
        let provider = chain.first().and_then(|root| self.provider_for(root));
        identity
            .tags
            .iter()
            .chain(provider.into_iter().flat_map(|provider| &provider.tags))
            .cloned()
            .collect()
    }

    /// Whether the identity carries every one of `wanted` (`tags_of`).
    pub fn has_tags(&self, identity: &Identity, wanted: &[String]) -> bool {
        let tags = self.tags_of(identity);
        wanted.iter().all(|tag| tags.contains(tag))
    }

    /// The region the identity's credentials are for: its own `region`, else the nearest
    /// `region` toward the root of its chain, else the region of the root's provider (an
    /// Identity Center region, or a `github/oidc` region when set).
    pub fn region_for<'c>(&'c self, identity: &'c Identity) -> Option<&'c str> {
        let chain = self.chain(identity);
        chain
            .iter()
            .rev()
            .find_map(|identity| identity.region.as_deref())
            .or_else(|| {
                let root = chain.first()?;
                self.provider_for(root)?.kind.region()
            })
    }
}
