//! Identity names offered by shell completion, read from the profile the shell would select.

use clap_complete::engine::CompletionCandidate;

use super::variables;
use crate::config;

/// Identity names and aliases of the profile selected by `ATMOS_PROFILE` and the working
/// directory; nothing when it does not load (completion must never print errors).
pub fn identity_candidates() -> Vec<CompletionCandidate> {
    let options = variables::load_options(
        std::env::var(variables::PROFILE).ok(),
        std::env::var_os(variables::CONFIG_DIR).map(Into::into),
    );
    let Ok(config) = config::load(&options) else {
        return Vec::new();
    };
    let mut candidates = Vec::new();
    for identity in config.auth.identities.values() {
        candidates.push(CompletionCandidate::new(&identity.name));
        if let Some(alias) = &identity.alias {
            candidates.push(
                CompletionCandidate::new(alias)
                    .help(Some(format!("alias of {}", identity.name).into())),
            );
        }
    }
    candidates
}
