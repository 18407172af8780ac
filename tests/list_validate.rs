//! `list` and `validate`: seeing and checking the profile without the network.

use crate::emulator::Op;
use crate::harness::{DEV_PROFILE, World};

#[test]
fn list_shows_sessions_and_credentials_but_no_secret() {
    let world = World::new();
    world
        .run(&["list"])
        .success()
        .stdout_has("logged out")
        .stdout_has("* plat-dev/terraform (alias dev)");
    world.login();
    let secrets = {
        let vars = world
            .run(&["env", "dev", "--format", "json"])
            .success()
            .json_vars();
        [
            vars["AWS_SECRET_ACCESS_KEY"].as_str().unwrap().to_owned(),
            vars["AWS_SESSION_TOKEN"].as_str().unwrap().to_owned(),
        ]
    };
    let calls = world.emulator.calls_total();
    for format in ["table", "tree", "json", "yaml", "dot", "mermaid"] {
        let out = world.run(&["list", "--format", format]).success();
        assert!(
            out.stdout.contains("plat-dev/terraform"),
            "{format}: {}",
            out.stdout
        );
        for secret in &secrets {
            assert!(
                !out.stdout.contains(secret.as_str()),
                "{format} printed a secret"
            );
        }
    }
    assert_eq!(
        world.emulator.calls_total(),
        calls,
        "list makes no network call"
    );
    let table = world.run(&["list"]).success().stdout;
    assert!(table.contains("logged in until"), "{table}");
    let row = table
        .lines()
        .find(|l| l.contains("plat-dev/terraform"))
        .unwrap();
    assert!(
        row.contains("TerraformApplyAccess @ plat-dev (222222222222)")
            && row.contains("valid until"),
        "{row}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&world.run(&["list", "--format", "json"]).success().stdout).unwrap();
    let prod = json["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "plat-prod/terraform")
        .unwrap();
    assert_eq!(prod["credentials"]["status"], "none");
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
}

#[test]
fn validate_is_clean_on_a_good_profile_and_lists_every_problem_otherwise() {
    let world = World::new();
    world
        .run(&["validate"])
        .success()
        .stdout_has("ok: profile `dev`: 1 providers, 4 identities");
    world.write(
        "repo/profiles/broken/atmos.yaml",
        &DEV_PROFILE.replace(
            "kind: aws/permission-set\n      default",
            "kind: aws/permision-set\n      default",
        ),
    );
    let out = world.run(&["validate", "--all-profiles"]).code(2);
    assert!(out.stdout.contains("ok: profile `dev`"), "{}", out.stdout);
    assert!(
        out.stderr.contains("error: profile `broken`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("profiles/broken/atmos.yaml:5:13: unknown kind `aws/permision-set`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("1 of 2 profiles have problems"),
        "{}",
        out.stderr
    );
    assert_eq!(
        world.emulator.calls_total(),
        0,
        "validate never touches the network"
    );
}

#[test]
fn validate_needs_no_credential_store() {
    let world = World::new();
    world
        .cmd(&["validate"])
        .env("ATMOS_KEYRING_TYPE", "secret-service")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .run()
        .success();
}
