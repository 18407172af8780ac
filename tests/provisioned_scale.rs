//! Issue 13: an organisation of 500 accounts × 20 permission sets (10,000 provisioned
//! identities). One identity resolves as with five; `list` finds rows by glob; `list` shows
//! the configuration where the credential store cannot be reached. Timings are in
//! examples/bench/run.sh, not here.

use crate::emulator::{Account, Op, Organization};
use crate::harness::{World, test_org};

const ACCOUNTS: usize = 500;
const PERMISSION_SETS: usize = 20;

fn account_id(index: usize) -> String {
    format!("{}", 600_000_000_000 + index)
}

/// The demo organisation plus `ACCOUNTS` accounts `org-NNN` holding `PERMISSION_SETS`
/// permission sets `Set-NN` each, listed 100 to a page.
fn large_org() -> Organization {
    let mut org = test_org();
    org.settings.page_size = 100;
    org.accounts.extend((0..ACCOUNTS).map(|index| {
        Account {
            id: account_id(index),
            name: format!("org-{index:03}"),
            email: format!("aws+org-{index:03}@example.com"),
            permission_sets: (0..PERMISSION_SETS)
                .map(|n| format!("Set-{n:02}"))
                .collect(),
        }
    }));
    org
}

/// A world whose provider provisions every assignment of `large_org`, logged in.
fn large_world() -> World {
    let world = World::with_org(large_org());
    world.auto_provision();
    world
        .login()
        .stderr_has("Found 10010 permission sets across your accounts.");
    world
}

fn process_json(world: &World, identity: &str) -> serde_json::Value {
    let out = world.run(&["credential-process", identity]).success();
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[test]
fn one_of_ten_thousand_provisioned_identities_resolves_and_is_served_from_the_cache() {
    let world = large_world();
    let first = process_json(&world, "org-421/Set-07");
    assert!(
        first["AccessKeyId"].as_str().is_some_and(|v| !v.is_empty()),
        "{first}"
    );
    assert_eq!(
        world.fetched_roles(),
        [(account_id(421), "Set-07".to_owned())],
        "the role of that account and permission set, nothing else"
    );
    // Any case finds it, as written names are found (issue 15); the cache answers.
    assert_eq!(process_json(&world, "ORG-421/set-07"), first);
    world.run(&["env", "org-421/Set-07"]).success();
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
    // Written identities resolve beside them, and the last provisioned one as the first.
    process_json(&world, "dev");
    process_json(&world, "org-499/Set-19");
    process_json(&world, "org-000/Set-00");
    assert_eq!(
        &world.fetched_roles()[1..],
        [
            ("222222222222".to_owned(), "TerraformApplyAccess".to_owned()),
            (account_id(499), "Set-19".to_owned()),
            (account_id(0), "Set-00".to_owned()),
        ]
    );
    // A name nobody has is still answered with the closest provisioned ones.
    world
        .run(&["credential-process", "org-421/Set-7"])
        .code(2)
        .stderr_has("did you mean")
        .stderr_has("`org-421/Set-07`");
}

#[test]
fn a_written_identity_differing_in_case_from_a_provisioned_one_is_refused_on_the_cached_path() {
    let world = large_world();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!(
            "{}    ORG-300/set-03:\n      kind: aws/permission-set\n      via:\n        provider: sso\n      principal:\n        name: Set-03\n        account:\n          id: \"{}\"\n",
            crate::harness::DEV_PROFILE,
            account_id(300)
        ),
    );
    // Not only when that name is asked for: any identity of the profile, as with the whole list.
    world
        .run(&["credential-process", "dev"])
        .code(2)
        .stderr_has("identity `ORG-300/set-03` differs from the provisioned identity `org-300/Set-03` only in case");
}

#[test]
fn list_with_patterns_shows_exactly_the_matching_identities() {
    let world = large_world();
    let table = world
        .run(&["list", "ORG-12?/set-1[89]", "*staging*"])
        .success()
        .stdout;
    let names: Vec<&str> = table
        .lines()
        .skip_while(|line| !line.starts_with("  IDENTITY"))
        .skip(1)
        .map(|line| line.split_whitespace().next().unwrap_or_default())
        .collect();
    let mut expected: Vec<String> = (120..130)
        .flat_map(|account| [18, 19].map(|set| format!("org-{account}/Set-{set}")))
        .collect();
    expected.extend(
        [
            "plat-staging/ReadOnlyAccess",
            "plat-staging/TerraformPlanAccess",
        ]
        .map(String::from),
    );
    expected.sort();
    assert_eq!(names, expected, "{table}");
    assert!(table.contains("sso "), "providers are still shown: {table}");
    // `--filter` is the same selection as a flag.
    let filtered = world
        .run(&[
            "list",
            "--filter",
            "ORG-12?/set-1[89]",
            "--filter=*staging*",
        ])
        .success()
        .stdout;
    assert_eq!(filtered, table);
    // An alias matches too, and every row carries what it is.
    let dev = world.run(&["list", "DEV"]).success().stdout;
    assert!(dev.contains("* plat-dev/terraform (alias dev)"), "{dev}");
    assert_eq!(dev.matches("aws/permission-set").count(), 1, "{dev}");
    world
        .run(&["list", "org-[1"])
        .code(2)
        .stderr_has("invalid pattern `org-[1`");
}

#[test]
fn list_without_a_reachable_store_shows_the_configuration_and_says_why() {
    let world = World::new();
    world.auto_provision();
    world.login();
    let out = world
        .cmd(&["list"])
        .env("ATMOS_KEYRING_TYPE", "secret-service")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/atmos-auth-test-bus",
        )
        .env("ATMOS_KEYRING_TIMEOUT", "2s")
        .run()
        .success()
        .stdout;
    assert!(
        out.contains("sessions and credentials unknown: "),
        "the reason comes first: {out}"
    );
    for row in [
        "sso ",
        "* plat-dev/terraform (alias dev)",
        "  plat-prod/admin ",
    ] {
        let line = out
            .lines()
            .find(|line| line.starts_with(row))
            .unwrap_or_else(|| panic!("a row for `{row}`: {out}"));
        assert!(line.contains("  unknown: store unreachable"), "{line}");
    }
    let json = world
        .cmd(&["list", "--format", "json"])
        .env("ATMOS_KEYRING_TYPE", "secret-service")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/atmos-auth-test-bus",
        )
        .run()
        .success()
        .stdout;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        json["store_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{json}"
    );
    assert_eq!(json["identities"][0]["credentials"]["status"], "unknown");
    // Refreshing the list needs the store: that still fails as a store error.
    world
        .cmd(&["list", "--refresh"])
        .env("ATMOS_KEYRING_TYPE", "secret-service")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/atmos-auth-test-bus",
        )
        .run()
        .code(4);
}
