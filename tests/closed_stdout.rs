//! A reader that went away (`atmos-auth … | head -1`): every command exits as it would have,
//! with no panic and no message; `env --format github` alone fails, since its masks must reach
//! the runner before the secrets reach the file (issue 16).

use crate::harness::{Outcome, World};

/// `atmos-auth ARGS` with stdout closed exits 0 and says nothing on stderr (no panic, 101).
#[track_caller]
fn quiet(world: &World, args: &[&str]) {
    let outcome: Outcome = world.cmd(args).run_with_closed_stdout();
    assert_eq!(
        (outcome.code, outcome.stderr.as_str()),
        (Some(0), ""),
        "`atmos-auth {}` with stdout closed",
        args.join(" ")
    );
}

#[test]
fn configuration_commands_exit_quietly_on_a_closed_stdout() {
    let world = World::new();
    world.write("repo/profiles/ops/atmos.yaml", "description: Operations\n");
    for args in [
        &["validate", "--all-profiles"][..],
        &["validate"],
        &["profiles"],
        &["matrix"],
        &["list"],
        &["aws-config"],
        &["completion", "bash"],
        &["--help"],
        &["--version"],
    ] {
        quiet(&world, args);
    }
}

#[test]
fn validate_with_problems_keeps_its_exit_code_on_a_closed_stdout() {
    let world = World::new();
    world.write("repo/profiles/broken/atmos.yaml", "auth: [not, a, map]\n");
    let outcome = world
        .cmd(&["validate", "--all-profiles"])
        .run_with_closed_stdout()
        .code(2);
    assert!(
        outcome.stderr.contains("profile `broken`") && !outcome.stderr.contains("panicked"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn credential_commands_exit_quietly_on_a_closed_stdout() {
    let world = World::new();
    world.login();
    for args in [
        &["env", "plat-dev/terraform"][..],
        &["env", "plat-dev/terraform", "--format", "json"],
        &["credential-process", "plat-dev/terraform"],
        &["whoami", "plat-dev/terraform"],
        &["whoami", "plat-dev/terraform", "--format", "json"],
        &["logout", "plat-dev/terraform", "--dry-run"],
        &["logout"],
    ] {
        quiet(&world, args);
    }
}

#[test]
fn github_env_writes_nothing_when_its_masks_cannot_be_printed() {
    let world = World::new();
    world.login();
    let github_env = world.write("github_env", "");
    world
        .cmd(&["env", "plat-dev/terraform", "--format", "github"])
        .env("GITHUB_ENV", github_env.to_str().unwrap())
        .run_with_closed_stdout()
        .code(2)
        .stderr_has("error: could not write to `stdout`");
    assert_eq!(std::fs::read_to_string(&github_env).unwrap(), "");
}
