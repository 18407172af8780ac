use crate::emulator::{Fault, Op};
use crate::harness::{World, test_org};

#[test]
fn login_prints_the_url_and_code_then_stores_a_session() {
    let world = World::new();
    let out = world.login();
    assert!(out.stderr.contains("/device?user_code="), "{}", out.stderr);
    assert!(out.stderr.contains("Logged in to"), "{}", out.stderr);
    assert_eq!(world.emulator.calls(Op::RegisterClient), 1);
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 1);
    // The session is usable without another login.
    world.run(&["env", "plat-dev/terraform"]).success();
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 1);
}

#[test]
fn a_second_login_reuses_the_valid_session() {
    let world = World::new();
    world.login();
    world.login().stderr_has("session valid until");
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 1);
}

#[test]
fn forced_login_reuses_the_registered_client() {
    let world = World::new();
    world.login();
    world.run(&["login", "--force"]).success();
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 2);
    assert_eq!(world.emulator.calls(Op::RegisterClient), 1);
}

#[test]
fn login_waits_for_approval() {
    let world = World::new();
    world.emulator.set_auto_approve(false);
    let emulator = &world.emulator;
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for _ in 0..100 {
                if let Some(code) = emulator.pending_user_codes().first() {
                    std::thread::sleep(std::time::Duration::from_millis(1500));
                    emulator.approve(code);
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        });
        world
            .run(&["login"])
            .success()
            .stderr_has("Waiting for approval");
    });
    assert!(
        world.emulator.calls(Op::CreateToken) >= 2,
        "polled while pending"
    );
}

#[test]
fn denied_login_says_so() {
    let world = World::new();
    world.emulator.inject(Op::CreateToken, Fault::AccessDenied);
    world
        .run(&["login"])
        .code(1)
        .stderr_has("sign-in was denied")
        .stderr_has("hint: run `atmos-auth login` again");
}

#[test]
fn expired_device_code_says_so() {
    let world = World::new();
    world.emulator.inject(Op::CreateToken, Fault::ExpiredToken);
    world
        .run(&["login"])
        .code(1)
        .stderr_has("the sign-in code expired before it was approved");
}

#[test]
fn slow_down_backs_off_and_still_logs_in() {
    let world = World::new();
    world.emulator.inject(Op::CreateToken, Fault::SlowDown);
    let started = std::time::Instant::now();
    world.login();
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(6),
        "interval grew by 5 s after slow_down"
    );
    assert_eq!(world.emulator.calls(Op::CreateToken), 2);
}

#[test]
fn a_stale_access_token_is_refreshed_silently() {
    let mut org = test_org();
    org.settings.access_token_ttl_secs = 60; // inside the 5-minute refresh buffer
    let world = World::with_org(org);
    world.login();
    world.run(&["env", "dev"]).success();
    assert_eq!(
        world.emulator.calls(Op::StartDeviceAuthorization),
        1,
        "no second login"
    );
    assert_eq!(
        world.emulator.calls(Op::CreateToken),
        2,
        "one device grant, one refresh"
    );
}

#[test]
fn a_revoked_refresh_token_asks_for_login() {
    let mut org = test_org();
    org.settings.access_token_ttl_secs = 60;
    let world = World::with_org(org);
    world.login();
    world.emulator.revoke_refresh_tokens();
    world
        .run(&["env", "dev"])
        .code(3)
        .stderr_has("no valid SSO session")
        .stderr_has("hint: run `atmos-auth login`");
}

#[test]
fn without_a_session_credential_commands_ask_for_login() {
    let world = World::new();
    let out = world.run(&["env", "plat-dev/terraform"]).code(3);
    assert_eq!(out.stdout, "", "nothing half-written to stdout");
    assert!(
        out.stderr.contains("you have not logged in"),
        "{}",
        out.stderr
    );
    assert_eq!(
        world.emulator.calls(Op::StartDeviceAuthorization),
        0,
        "never prompts without --login"
    );
}

#[test]
fn env_login_flag_logs_in_first() {
    let world = World::new();
    world
        .run(&["env", "--login", "dev"])
        .success()
        .stdout_has("AWS_ACCESS_KEY_ID");
}

#[test]
fn login_with_an_identity_fetches_its_credentials() {
    let world = World::new();
    world
        .run(&["login", "plat-dev/terraform"])
        .success()
        .stderr_has("Credentials for plat-dev/terraform");
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
    world.run(&["env", "dev"]).success();
    assert_eq!(
        world.emulator.calls(Op::GetRoleCredentials),
        1,
        "served from the store"
    );
}
