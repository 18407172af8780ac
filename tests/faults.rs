//! Faults a user could hit, injected through the emulator: server errors, throttling, hung
//! endpoints, broken bodies, captive portals, refused sessions. Each ends in one clear `error:`
//! line (and maybe a `hint:`), the documented exit code, nothing on stdout, and no state that
//! stops the next run from working. (Device-code denial, expiry and slow_down are in login.rs;
//! retried 500s and persistent throttling of GetRoleCredentials in env.rs.)

use std::time::{Duration, Instant};

use crate::emulator::{Fault, Op};
use crate::harness::{Outcome, World, test_org};

/// The failure as a user sees it: exit `code`, stdout empty, stderr exactly `error: …` followed
/// by an optional `hint: …`. Returns the error line.
#[track_caller]
fn one_clear_error(out: &Outcome, code: i32) -> String {
    assert_eq!(
        out.code,
        Some(code),
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(out.stdout, "", "nothing half-written to stdout");
    let lines: Vec<&str> = out.stderr.lines().filter(|l| !l.is_empty()).collect();
    assert!(
        matches!(lines.as_slice(), [first] | [first, _] if first.starts_with("error: "))
            && lines.get(1).is_none_or(|l| l.starts_with("hint: ")),
        "one error line and an optional hint:\n{}",
        out.stderr
    );
    lines[0].to_owned()
}

/// The next run works: credentials come out, whatever the failure before left behind.
#[track_caller]
fn next_run_works(world: &World) {
    world.emulator.clear_faults();
    let out = world.run(&["env", "dev", "--format", "json"]).success();
    assert!(out.json_vars()["AWS_SECRET_ACCESS_KEY"].is_string());
}

#[test]
fn sts_server_errors_are_retried_then_succeed() {
    let world = World::new();
    world.login();
    world
        .emulator
        .inject_n(Op::GetCallerIdentity, Fault::Status(503), 2);
    world.run(&["whoami", "dev"]).success();
    assert_eq!(world.emulator.calls(Op::GetCallerIdentity), 3);
}

#[test]
fn persistent_server_errors_give_up_after_four_attempts() {
    let world = World::new();
    world.login();
    world
        .emulator
        .inject_n(Op::GetRoleCredentials, Fault::Status(500), 10);
    let started = Instant::now();
    let line = one_clear_error(&world.run(&["env", "dev"]), 1);
    assert!(line.contains("GetRoleCredentials"), "{line}");
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 4);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "bounded backoff"
    );
    next_run_works(&world);
}

#[test]
fn throttled_sts_is_retried_with_backoff() {
    let world = World::new();
    world.login();
    world
        .emulator
        .inject_n(Op::GetCallerIdentity, Fault::Throttle, 3);
    world.run(&["whoami", "dev"]).success();
    assert_eq!(world.emulator.calls(Op::GetCallerIdentity), 4);
}

#[test]
fn throttled_device_authorization_is_retried() {
    let world = World::new();
    world
        .emulator
        .inject_n(Op::StartDeviceAuthorization, Fault::Throttle, 2);
    world.login();
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 3);
}

#[test]
fn a_slow_answer_within_the_timeout_is_waited_for() {
    let world = World::new();
    world.login();
    world.emulator.inject(
        Op::GetRoleCredentials,
        Fault::Delay(Duration::from_millis(1500)),
    );
    world
        .cmd(&["env", "dev"])
        .env("ATMOS_HTTP_TIMEOUT", "5s")
        .run()
        .success();
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
}

#[test]
fn a_hung_endpoint_times_out_and_the_retry_succeeds() {
    let world = World::new();
    world.login();
    world
        .emulator
        .inject(Op::GetRoleCredentials, Fault::Delay(Duration::from_secs(5)));
    world
        .cmd(&["env", "dev"])
        .env("ATMOS_HTTP_TIMEOUT", "1s")
        .run()
        .success();
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 2);
}

#[test]
fn an_endpoint_that_always_hangs_fails_in_bounded_time() {
    let world = World::new();
    world.login();
    world.emulator.inject_n(
        Op::GetRoleCredentials,
        Fault::Delay(Duration::from_secs(30)),
        4,
    );
    let started = Instant::now();
    let out = world
        .cmd(&["env", "dev"])
        .env("ATMOS_HTTP_TIMEOUT", "1s")
        .run();
    let elapsed = started.elapsed();
    let line = one_clear_error(&out, 1);
    assert!(line.contains("GetRoleCredentials"), "{line}");
    assert!(
        out.stderr.contains("hint: check the network"),
        "{}",
        out.stderr
    );
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    next_run_works(&world);
}

#[test]
fn malformed_json_is_one_clear_line() {
    let world = World::new();
    world.login();
    world
        .emulator
        .inject_n(Op::GetRoleCredentials, Fault::MalformedBody, 4);
    let line = one_clear_error(&world.run(&["env", "dev"]), 1);
    assert!(line.contains("GetRoleCredentials"), "{line}");
    next_run_works(&world);
}

#[test]
fn malformed_sts_xml_is_one_clear_line() {
    let world = World::new();
    world.login();
    world
        .emulator
        .inject_n(Op::GetCallerIdentity, Fault::MalformedBody, 4);
    let line = one_clear_error(&world.run(&["whoami", "dev"]), 1);
    assert!(line.contains("GetCallerIdentity"), "{line}");
    world.emulator.clear_faults();
    world.run(&["whoami", "dev"]).success();
}

/// STS answers cut short must not yield credentials: the SDK's XML reader returns what it read.
#[test]
fn malformed_assume_role_xml_stores_no_credentials() {
    let world = World::new();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!("{}{CHAIN}", crate::harness::DEV_PROFILE),
    );
    world.login();
    world
        .emulator
        .inject_n(Op::AssumeRole, Fault::MalformedBody, 4);
    let line = one_clear_error(&world.run(&["env", "prod/terraform"]), 1);
    assert!(line.contains("AssumeRole"), "{line}");
    world.emulator.clear_faults();
    let out = world
        .run(&["env", "prod/terraform", "--format", "json"])
        .success();
    let key = out.json_vars()["AWS_SECRET_ACCESS_KEY"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        world.emulator.issued_secrets().contains(&key),
        "a whole key, as issued"
    );
}

const CHAIN: &str = "
    prod/terraform:
      kind: aws/assume-role
      via:
        identity: plat-dev/terraform
      principal:
        assume_role: arn:aws:iam::444444444444:role/terraform
        external_id: atmos-demo
";

#[test]
fn a_malformed_token_answer_leaves_no_session_behind() {
    let world = World::new();
    world
        .emulator
        .inject_n(Op::CreateToken, Fault::MalformedBody, 4);
    let out = world.run(&["login"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("error: "), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    // No half-made session: a credential command still asks for a login.
    world.emulator.clear_faults();
    one_clear_error(&world.run(&["env", "dev"]), 3);
    world.login();
    next_run_works(&world);
}

#[test]
fn a_truncated_body_is_retried_or_one_clear_line() {
    let world = World::new();
    world.login();
    world
        .emulator
        .inject_n(Op::GetRoleCredentials, Fault::TruncatedBody, 4);
    let line = one_clear_error(&world.run(&["env", "dev"]), 1);
    assert!(line.contains("GetRoleCredentials"), "{line}");
    next_run_works(&world);
}

#[test]
fn a_truncated_sts_body_is_one_clear_line() {
    let world = World::new();
    world.login();
    world
        .emulator
        .inject_n(Op::GetCallerIdentity, Fault::TruncatedBody, 4);
    one_clear_error(&world.run(&["whoami", "dev"]), 1);
    world.emulator.clear_faults();
    world.run(&["whoami", "dev"]).success();
}

#[test]
fn a_captive_portal_page_is_one_clear_line() {
    let world = World::new();
    world.login();
    world
        .emulator
        .inject_n(Op::GetRoleCredentials, Fault::WrongContentType, 4);
    let line = one_clear_error(&world.run(&["env", "dev"]), 1);
    assert!(line.contains("GetRoleCredentials"), "{line}");
    next_run_works(&world);
}

#[test]
fn a_captive_portal_during_login_is_one_clear_line() {
    let world = World::new();
    world
        .emulator
        .inject_n(Op::RegisterClient, Fault::WrongContentType, 4);
    let out = world.run(&["login"]);
    let line = one_clear_error(&out, 1);
    assert!(line.contains("RegisterClient"), "{line}");
    world.emulator.clear_faults();
    world.login();
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 1);
}

#[test]
fn a_refused_role_is_one_clear_line() {
    let world = World::new();
    world.login();
    world
        .emulator
        .inject(Op::GetRoleCredentials, Fault::AccessDenied);
    one_clear_error(&world.run(&["env", "dev"]), 1);
    next_run_works(&world);
}

#[test]
fn a_failed_refresh_uses_the_session_while_it_lasts() {
    let mut org = test_org();
    org.settings.access_token_ttl_secs = 120; // due for refresh, still valid
    let world = World::with_org(org);
    world.login();
    world
        .emulator
        .inject_n(Op::CreateToken, Fault::Status(500), 4);
    world.run(&["env", "dev"]).success();
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 1);
}

#[test]
fn a_revoked_refresh_token_then_login_works_again() {
    let mut org = test_org();
    org.settings.access_token_ttl_secs = 60;
    let world = World::with_org(org);
    world.login();
    world.emulator.revoke_refresh_tokens();
    let line = one_clear_error(&world.run(&["env", "dev"]), 3);
    assert!(line.contains("can no longer be refreshed"), "{line}");
    world.login();
    next_run_works(&world);
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 2);
}

#[test]
fn a_server_error_during_device_login_leaves_nothing_behind() {
    let world = World::new();
    world
        .emulator
        .inject_n(Op::StartDeviceAuthorization, Fault::Status(500), 4);
    let out = world.run(&["login"]);
    let line = one_clear_error(&out, 1);
    assert!(line.contains("StartDeviceAuthorization"), "{line}");
    world.emulator.clear_faults();
    world.login();
    assert_eq!(
        world.emulator.calls(Op::RegisterClient),
        1,
        "the client registered before the failure is reused"
    );
}

/// Clock skew: the margin is judged against the server's expiry. Credentials the server issued
/// for less than the refresh margin (15 minutes) are fetched again on the next run, not handed
/// out from the store as if they had time left.
#[test]
fn credentials_inside_the_margin_are_refetched_not_handed_out() {
    let mut org = test_org();
    org.settings.role_credentials_ttl_secs = 10 * 60;
    let world = World::with_org(org);
    world.login();
    let first = world.run(&["env", "dev", "--format", "json"]).success();
    let second = world.run(&["env", "dev", "--format", "json"]).success();
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 2);
    assert_ne!(
        first.json_vars()["AWS_SECRET_ACCESS_KEY"],
        second.json_vars()["AWS_SECRET_ACCESS_KEY"]
    );
    // With a margin they outlive, the store serves them.
    world.write(
        "repo/atmos.yaml",
        &format!("{}  refresh_margin: 5m\n", world.base_config()),
    );
    world.run(&["env", "dev"]).success();
    world.run(&["env", "dev"]).success();
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 2);
}
