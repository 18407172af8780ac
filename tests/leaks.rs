use crate::harness::{World, test_org};

/// Run the whole flow at the highest log levels and look for every secret the emulator issued in
/// everything a user could see except the outputs whose job is to carry credentials.
#[test]
fn no_secret_reaches_logs_at_any_level() {
    let mut org = test_org();
    org.settings.access_token_ttl_secs = 60; // forces a refresh, another place tokens flow
    let world = World::with_org(org);
    let mut seen = String::new();
    for args in [
        vec!["login", "-vvv"],
        vec!["env", "dev", "-vvv", "--format", "json"],
        vec!["whoami", "dev", "-vvv"],
        vec!["login", "--force", "-vvv"],
        vec!["env", "plat-prod/admin", "-vvv"],
    ] {
        let out = world.cmd(&args).env("RUST_LOG", "trace").run();
        seen.push_str(&out.stderr);
        if args[0] != "env" || out.code != Some(0) {
            seen.push_str(&out.stdout);
        }
    }
    assert!(
        seen.contains("TRACE") || seen.contains("DEBUG"),
        "logging was on: {seen}"
    );
    for secret in world.emulator.issued_secrets() {
        assert!(!seen.contains(&secret), "a secret reached the logs");
    }
}
