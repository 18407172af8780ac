//! The resolver driven by a fixed clock: cache reuse and renewal decided by the time it is told,
//! with no sleeping and no network (a `credential_process` identity is the source).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::resolve::{ResolveContext, Resolver};
use crate::clock::FixedClock;
use crate::config::Config;
use crate::prompt::Prompt;
use crate::provider::sso::LoginPolicy;
use crate::store::{CredentialStore, StoreKind};

/// Nobody at the terminal.
struct Nobody;

impl Prompt for Nobody {
    fn ask(&self, _question: &str) -> Option<String> {
        None
    }
}

/// A program that counts its runs next to itself and prints credentials numbered by the run,
/// all expiring at `expires_at`.
fn counting_program(dir: &Path, expires_at: SystemTime) -> PathBuf {
    let path = dir.join("issue.sh");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\n\
             n=$(( $(cat \"$0.count\" 2>/dev/null || echo 0) + 1 ))\n\
             echo $n > \"$0.count\"\n\
             printf '{{\"Version\":1,\"AccessKeyId\":\"AKIATEST%s\",\"SecretAccessKey\":\"FAKE\",\"Expiration\":\"{}\"}}\\n' \"$n\"\n",
            humantime::format_rfc3339(expires_at)
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn config(program: &Path) -> Config {
    let yaml = format!(
        "auth:\n  refresh_margin: 15m\n  identities:\n    clocked:\n      kind: credential_process\n      spec:\n        command: {}\n",
        program.display()
    );
    crate::config::from_sources(
        PathBuf::from("/r"),
        None,
        &[(PathBuf::from("/r/atmos.yaml"), yaml)],
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn cached_credentials_are_reused_until_the_refresh_margin_by_the_resolvers_clock() {
    let dir = tempfile::tempdir().unwrap();
    let start = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
    let program = counting_program(dir.path(), start + Duration::from_secs(3600));
    let config = config(&program);
    let store = CredentialStore::open(StoreKind::Memory, Duration::from_secs(5)).unwrap();
    let clock = FixedClock::at(start);
    let resolver = Resolver::with_context(
        &config,
        &store,
        ResolveContext {
            clock: &clock,
            prompt: &Nobody,
        },
    );
    let identity = config.identity("clocked").unwrap();
    let key_id = || {
        resolver
            .resolve(identity, LoginPolicy::Never)
            .unwrap()
            .access_key_id
    };
    assert_eq!(key_id(), "AKIATEST1", "nothing cached: the program runs");
    clock.advance(Duration::from_secs(30 * 60));
    assert_eq!(key_id(), "AKIATEST1", "30 minutes left: the cached ones");
    clock.advance(Duration::from_secs(20 * 60));
    assert_eq!(
        key_id(),
        "AKIATEST2",
        "10 minutes left, inside the margin: renewed"
    );
}
