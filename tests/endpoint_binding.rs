//! Secrets bound to the endpoint that issued them (issue 11, item 2): two emulators side by side,
//! one playing AWS and one a hostile endpoint that a second profile, a variable or the shared AWS
//! config points at. The hostile one must never be shown a secret the first one issued, nothing
//! it answers may be served to the legitimate profile, and absurd expiries are capped.

use std::time::{Duration, SystemTime};

use crate::emulator::Emulator;
use crate::harness::{Outcome, World, test_org};

/// 3000-01-01T00:00:00Z, the expiry a hostile endpoint states for everything it issues.
const YEAR_3000: u64 = 32_503_680_000;

/// An endpoint that answers like AWS, approves every login, and claims its secrets last forever.
fn hostile_endpoint() -> Emulator {
    let mut org = test_org();
    org.settings.stated_expiry = Some(YEAR_3000);
    let emulator = Emulator::start(org);
    emulator.set_auto_approve(true);
    emulator
}

/// A profile with its own provider for the victim's start URL, at `endpoint`.
fn profile_at(start_url: &str, endpoint: &str) -> String {
    format!(
        "auth:\n  providers:\n    corp:\n      kind: aws/iam-identity-center\n      region: us-east-1\n      \
         start_url: {start_url}\n      spec:\n        endpoint_url: {endpoint}\n  identities:\n    \
         plat-dev/terraform:\n      kind: aws/permission-set\n      default: true\n      via:\n        \
         provider: corp\n      principal:\n        name: TerraformApplyAccess\n        account:\n          \
         name: plat-dev\n"
    )
}

/// Fails if `endpoint` was ever shown a secret that `issuer` issued.
#[track_caller]
fn never_shown(endpoint: &Emulator, issuer: &Emulator, what: &str) {
    let issued = issuer.issued_secrets();
    for call in endpoint.requests() {
        for secret in &call.presented {
            assert!(
                !issued.contains(secret),
                "{what} was sent a secret it did not issue, in {:?}",
                call.op
            );
        }
    }
}

/// Every secret `endpoint` was shown.
fn shown(endpoint: &Emulator) -> Vec<String> {
    endpoint
        .requests()
        .into_iter()
        .flat_map(|call| call.presented)
        .collect()
}

/// The `AWS_CREDENTIAL_EXPIRATION` of `env --format json` output.
#[track_caller]
fn expiration(out: &Outcome) -> SystemTime {
    let vars = out.json_vars();
    let text = vars["AWS_CREDENTIAL_EXPIRATION"]
        .as_str()
        .expect("an expiry");
    humantime::parse_rfc3339(text).expect("RFC 3339")
}

#[track_caller]
fn at_most(time: SystemTime, limit: Duration) {
    let latest = SystemTime::now() + limit;
    assert!(
        time <= latest,
        "{} is later than {}",
        humantime::format_rfc3339_seconds(time),
        humantime::format_rfc3339_seconds(latest)
    );
}

#[test]
fn a_profile_with_another_endpoint_gets_no_secret_and_feeds_no_cache() {
    let world = World::new();
    let hostile = hostile_endpoint();
    world.write(
        "repo/atmos.yaml",
        &format!(
            "{}      spec:\n        endpoint_url: {}\n",
            world.base_config(),
            world.emulator.url()
        ),
    );
    world.write(
        "repo/profiles/evil/atmos.yaml",
        &profile_at(&world.start_url, &hostile.url()),
    );
    let run = |profile: &str, args: &[&str]| {
        world
            .cmd(args)
            .env("AWS_ENDPOINT_URL", "")
            .env("ATMOS_PROFILE", profile)
            .run()
    };
    run("dev", &["login"]).success();
    let legit = run("dev", &["env", "--format", "json"])
        .success()
        .json_vars();

    // The victim's session is not the hostile profile's: it has to log in at its own endpoint.
    run("evil", &["env", "--format", "json"])
        .code(3)
        .stderr_has("login");
    never_shown(&hostile, &world.emulator, "the hostile endpoint");
    run("evil", &["login", "plat-dev/terraform"]).success();
    let planted = run("evil", &["env", "--format", "json"]).success();
    at_most(expiration(&planted), Duration::from_secs(12 * 3600));
    never_shown(&hostile, &world.emulator, "the hostile endpoint");
    assert!(
        !shown(&hostile).is_empty(),
        "the hostile endpoint was never shown its own secrets: nothing was tested"
    );

    // What the hostile endpoint answered is never served to the legitimate profile, whose
    // session still works.
    let again = run("dev", &["env", "--format", "json"])
        .success()
        .json_vars();
    assert_eq!(
        again["AWS_SECRET_ACCESS_KEY"], legit["AWS_SECRET_ACCESS_KEY"],
        "the legitimate profile was served another endpoint's credentials"
    );
    run("dev", &["env", "plat-prod/terraform"]).success();
    never_shown(&world.emulator, &hostile, "the legitimate endpoint");
}

#[test]
fn a_changed_endpoint_variable_is_shown_nothing_cached() {
    let world = World::new();
    let hostile = hostile_endpoint();
    world.login();
    world.run(&["env"]).success();
    world
        .cmd(&["env", "plat-prod/terraform"])
        .env("AWS_ENDPOINT_URL", &hostile.url())
        .run()
        .code(3)
        .stderr_has("login");
    never_shown(
        &hostile,
        &world.emulator,
        "the endpoint in AWS_ENDPOINT_URL",
    );
    assert!(
        hostile.requests().is_empty(),
        "the endpoint in AWS_ENDPOINT_URL was called with nothing to call it with"
    );
    // The session and credentials stay with the endpoint that issued them.
    world.run(&["env", "plat-prod/terraform"]).success();
}

#[test]
fn expiries_a_server_states_are_capped() {
    let mut org = test_org();
    org.settings.stated_expiry = Some(YEAR_3000);
    let world = World::with_org(org);
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!(
            "{}    prod/terraform:\n      kind: aws/assume-role\n      via:\n        identity: plat-dev/terraform\n      \
             principal:\n        assume_role: arn:aws:iam::444444444444:role/terraform\n        \
             external_id: atmos-demo\n",
            crate::harness::DEV_PROFILE
        ),
    );
    let login = world.login();
    let until = login
        .stderr
        .split("session valid until ")
        .nth(1)
        .and_then(|rest| rest.trim().strip_suffix('.'))
        .unwrap_or_else(|| panic!("no session expiry in {}", login.stderr));
    at_most(
        humantime::parse_rfc3339(until).unwrap(),
        Duration::from_secs(24 * 3600),
    );
    for identity in ["plat-dev/terraform", "prod/terraform"] {
        let out = world.run(&["env", identity, "--format", "json"]).success();
        at_most(expiration(&out), Duration::from_secs(12 * 3600));
    }
}

/// `~/.aws/config` sets endpoints for every profile, the one `AWS_PROFILE` selects and its
/// services section: none of them is used, and STS, which nothing else names here, goes to AWS's
/// own endpoint (unreachable in tests, or refusing the emulator's credentials).
#[test]
fn endpoints_in_the_shared_aws_config_are_never_used() {
    let world = World::new();
    let hostile = hostile_endpoint();
    let url = hostile.url();
    world.write(
        ".aws/config",
        &format!(
            "[default]\nendpoint_url = {url}\n\n[profile work]\nendpoint_url = {url}\nservices = work\n\n\
             [services work]\nsts =\n  endpoint_url = {url}\nsso =\n  endpoint_url = {url}\n\
             sso_oidc =\n  endpoint_url = {url}\n"
        ),
    );
    let cmd = |args: &[&str]| {
        let mut run = world
            .cmd(args)
            .env("AWS_PROFILE", "work")
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &world.emulator.url())
            .env("AWS_ENDPOINT_URL_SSO", &world.emulator.url())
            .env("ATMOS_HTTP_TIMEOUT", "1s");
        run.command.env_remove("AWS_ENDPOINT_URL");
        run.run()
    };
    cmd(&["login"]).success();
    cmd(&["env"]).success();
    cmd(&["whoami"]).code(1);
    assert!(
        hostile.requests().is_empty(),
        "an endpoint from ~/.aws/config was used"
    );
}

/// Settings in the shared AWS config that change how the SDK picks endpoints do not apply.
#[test]
fn a_fips_setting_in_the_shared_aws_config_changes_nothing() {
    let world = World::new();
    world.write(
        ".aws/config",
        "[profile work]\nuse_fips_endpoint = true\nuse_dualstack_endpoint = true\n",
    );
    world
        .cmd(&["login"])
        .env("AWS_PROFILE", "work")
        .run()
        .success();
    world
        .cmd(&["env"])
        .env("AWS_PROFILE", "work")
        .run()
        .success();
}
