//! Realms (issue 15): two users of one IAM Identity Center instance, side by side, each in a
//! realm of their own; no realm keeps today's entries.

use crate::harness::{Outcome, World};

const REALM: &str = "ATMOS_AUTH_REALM";

fn in_realm(world: &World, realm: &str, args: &[&str]) -> Outcome {
    world.cmd(args).env(REALM, realm).run()
}

/// The principal ARN `whoami` reports for the default identity.
fn principal(world: &World, realm: &str) -> String {
    let out = in_realm(world, realm, &["whoami", "--format", "json"]).success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    json["arn"].as_str().unwrap().to_owned()
}

fn access_key(world: &World, realm: &str) -> String {
    in_realm(world, realm, &["env", "--format", "json"])
        .success()
        .json_vars()["AWS_ACCESS_KEY_ID"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn two_realms_hold_two_users_sessions_for_one_start_url() {
    let world = World::new();
    world.emulator.sign_in_as("alice");
    in_realm(&world, "alice", &["login"]).success();
    world.emulator.sign_in_as("bob");
    in_realm(&world, "bob", &["login"]).success();

    // Each realm gets its own user's credentials, at once.
    assert!(principal(&world, "alice").ends_with("/alice"));
    assert!(principal(&world, "bob").ends_with("/bob"));
    assert_ne!(access_key(&world, "alice"), access_key(&world, "bob"));
    // Neither session is the realm-less one.
    world.run(&["whoami"]).code(3);

    in_realm(&world, "alice", &["list"])
        .success()
        .stdout_has("realm: alice");

    // Logging out in one realm leaves the other logged in.
    in_realm(&world, "alice", &["logout"]).success();
    in_realm(&world, "alice", &["whoami"]).code(3);
    assert!(principal(&world, "bob").ends_with("/bob"));
}

#[test]
fn two_realms_stay_apart_in_the_file_store_too() {
    let world = World::new();
    let run = |realm: &str, args: &[&str]| {
        world
            .cmd(args)
            .env(REALM, realm)
            .env("ATMOS_KEYRING_TYPE", "file")
            .env("ATMOS_KEYRING_PASSWORD", "realm-test-password")
            .run()
    };
    let principal = |realm: &str| {
        let out = run(realm, &["whoami", "--format", "json"]).success();
        let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        json["arn"].as_str().unwrap().to_owned()
    };
    world.emulator.sign_in_as("frank");
    run("frank", &["login"]).success();
    world.emulator.sign_in_as("grace");
    run("grace", &["login"]).success();
    assert!(principal("frank").ends_with("/frank"));
    assert!(principal("grace").ends_with("/grace"));
    run("other", &["whoami"]).code(3);
    run("frank", &["logout"]).success();
    run("frank", &["whoami"]).code(3);
    assert!(principal("grace").ends_with("/grace"));
}

#[test]
fn logout_all_stays_in_its_realm_unless_told() {
    let world = World::new();
    world.emulator.sign_in_as("carol");
    in_realm(&world, "realm-carol", &["login"]).success();
    in_realm(&world, "realm-carol", &["env"]).success();
    world.emulator.sign_in_as("dave");
    in_realm(&world, "realm-dave", &["login"]).success();

    let out = in_realm(&world, "realm-carol", &["logout", "--all", "--dry-run"]).success();
    assert!(out.stdout.contains("realm-carol~") || out.stderr.contains("realm-carol~"));
    assert!(!out.stdout.contains("realm-dave~") && !out.stderr.contains("realm-dave~"));
    // Without a realm, `--all` leaves every realm's entries alone.
    let out = world.run(&["logout", "--all", "--dry-run"]).success();
    assert!(!out.stdout.contains("realm-") && !out.stderr.contains("realm-"));
    let out = in_realm(
        &world,
        "realm-carol",
        &["logout", "--all", "--all-realms", "--dry-run"],
    )
    .success();
    assert!(out.stdout.contains("realm-dave~") || out.stderr.contains("realm-dave~"));
}

#[test]
fn the_realm_comes_from_the_config_and_reaches_credential_process() {
    let world = World::new();
    world.write(
        "repo/atmos.yaml",
        &format!("{}  realm: team-a\n", world.base_config()),
    );
    world.emulator.sign_in_as("erin");
    world.login();
    assert!(principal(&world, "team-a").ends_with("/erin"));
    world.run(&["list"]).success().stdout_has("realm: team-a");
    // An SDK calling back gets the same realm.
    world
        .run(&["aws-config"])
        .success()
        .stdout_has("credential-process plat-dev/terraform --config-dir")
        .stdout_has(" --realm team-a\n");
    // The variable wins over the file.
    in_realm(&world, "team-b", &["whoami"]).code(3);
}

#[test]
fn invalid_realm_names_are_refused() {
    let world = World::new();
    for bad in ["Team", "-a", "a_", "a b", "a~b", &"a".repeat(65)] {
        in_realm(&world, bad, &["list"])
            .code(2)
            .stderr_has("invalid realm");
    }
    world.write(
        "repo/atmos.yaml",
        &format!("{}  realm: \"Team-A\"\n", world.base_config()),
    );
    world
        .run(&["validate"])
        .code(2)
        .stderr_has("atmos.yaml:")
        .stderr_has("invalid realm `Team-A` for `auth.realm`");
}
