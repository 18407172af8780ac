//! Issue 13: an organisation of hundreds of accounts, provisioned concurrently, with the portal
//! throttling some of the pages. Timings live in the benchmark (examples/bench/run.sh).

use std::collections::BTreeMap;

use crate::emulator::{Op, Organization};
use crate::harness::{Outcome, World, test_org};

fn auto_provisioning(org: Organization) -> World {
    let world = World::with_org(org);
    world.auto_provision();
    world
}

/// Runs atmos-auth with the encrypted file store: `list` looks up the cached credentials of
/// each of 10,000 identities, which the default store would ask the Secret Service for one by
/// one, loading the test session's one gnome-keyring under every test running beside this one.
fn run(world: &World, args: &[&str]) -> Outcome {
    world
        .cmd(args)
        .env("ATMOS_KEYRING_TYPE", "file")
        .env("ATMOS_KEYRING_PASSWORD", "scale-test-password")
        .run()
        .success()
}

/// `<account name>/<permission set>` of every assignment in `org`, sorted as `list` sorts.
fn assignments(org: &Organization) -> Vec<String> {
    let mut names: Vec<String> = org
        .accounts
        .iter()
        .flat_map(|a| a.permission_sets.iter().map(|p| format!("{}/{p}", a.name)))
        .collect();
    names.sort();
    names
}

/// The provisioned identities `list` (with `options`) shows, each with its target, in order.
fn provisioned(world: &World, options: &[&str]) -> Vec<(String, String)> {
    let args = [&["list", "--format", "json"], options].concat();
    let out = run(world, &args);
    let list: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    list["identities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|identity| identity["provisioned"] == true)
        .map(|identity| {
            let text = |key: &str| identity[key].as_str().unwrap().to_owned();
            (text("name"), text("target"))
        })
        .collect()
}

/// How many times each account's roles were listed with a 200 answer, by account id.
fn roles_served(world: &World) -> BTreeMap<String, usize> {
    let mut served = BTreeMap::new();
    for call in world.emulator.requests() {
        if call.op == Op::ListAccountRoles && call.status == 200 {
            *served
                .entry(call.account_id.unwrap_or_default())
                .or_default() += 1;
        }
    }
    served
}

/// Throttles ListAccounts pages once each (the SDK's own retry asks again) and every 25th
/// ListAccountRoles page on four asks in a row: the SDK's whole attempt budget, so only a
/// client that waits and asks again past it gets those permission sets.
fn throttle(world: &World) {
    world.emulator.throttle_pages(Op::ListAccounts, 10, 1);
    world.emulator.throttle_pages(Op::ListAccountRoles, 25, 4);
}

#[test]
fn five_hundred_accounts_are_provisioned_completely_and_once_while_the_portal_throttles() {
    let org = Organization::scaled(500, 20);
    let expected = assignments(&org);
    let targets: BTreeMap<String, String> = org
        .accounts
        .iter()
        .flat_map(|a| {
            a.permission_sets
                .iter()
                .map(|p| (format!("{}/{p}", a.name), a.id.clone()))
        })
        .collect();
    let world = auto_provisioning(org);
    throttle(&world);

    run(&world, &["login"]).stderr_has("Found 10000 permission sets across your accounts.");
    let throttled = world
        .emulator
        .requests()
        .iter()
        .filter(|call| call.status == 429)
        .count();
    // 25 ListAccounts pages (2 refused once), 500 ListAccountRoles pages (20 refused 4 times).
    assert_eq!(throttled, 2 + 20 * 4);
    let listed = provisioned(&world, &[]);
    let names: Vec<&str> = listed.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, expected);
    for (name, target) in &listed {
        assert!(
            target.contains(&targets[name]),
            "{name} is not in account {}: {target}",
            targets[name]
        );
    }
    // Each account's single page was read once: nothing asked again after it was served.
    let served = roles_served(&world);
    assert_eq!(served.len(), 500);
    assert!(served.values().all(|&n| n == 1), "{served:?}");

    // `list --refresh` lists everything again, with the same throttling, to the same result.
    world.emulator.reset_calls();
    throttle(&world);
    assert_eq!(provisioned(&world, &["--refresh"]), listed);
    assert!(roles_served(&world).values().all(|&n| n == 1));
}

#[test]
fn a_page_throttled_past_the_sdks_retries_is_asked_again_and_keeps_its_roles() {
    let org = test_org();
    let expected = assignments(&org);
    let world = auto_provisioning(org);
    // Every ListAccountRoles page is refused four times in a row before it is served; plat-dev
    // holds three permission sets, two pages at the emulator's page size of 2.
    world.emulator.throttle_pages(Op::ListAccountRoles, 1, 4);
    let login = run(&world, &["login"]);
    // Once, however many pages wait: the listing can take minutes, and says why.
    let notice = "WARN the SSO portal is throttling `ListAccountRoles`: asking again after \
                  pauses, for up to 5 minutes\n";
    assert_eq!(login.stderr.matches(notice).count(), 1, "{}", login.stderr);
    let names: Vec<String> = provisioned(&world, &[])
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, expected);
    // plat-dev's second page was asked again from its own token: the first page was read once.
    assert_eq!(roles_served(&world)["222222222222"], 2);
    run(&world, &["env", "plat-dev/TerraformPlanAccess"]);
    assert_eq!(
        world.fetched_roles(),
        [("222222222222".to_owned(), "TerraformPlanAccess".to_owned())]
    );
}
