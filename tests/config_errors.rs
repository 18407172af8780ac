use crate::harness::{DEV_PROFILE, World};

#[test]
fn every_problem_is_reported_with_file_line_and_fix() {
    let world = World::new();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &DEV_PROFILE
            .replace("      alias: dev\n", "      alais: dev\n")
            .replace(
                "        provider: sso\n      principal:\n        name: TerraformPlanAccess",
                "        provider: okta\n      principal:\n        name: TerraformPlanAccess",
            )
            .replace("id: \"444444444444\"", "id: \"4444\""),
    );
    let out = world.run(&["env", "dev"]).code(2);
    let e = &out.stderr;
    assert!(
        e.contains("profiles/dev/atmos.yaml:7:7: unknown field `alais`"),
        "{e}"
    );
    assert!(e.contains("help: did you mean `alias`?"), "{e}");
    assert!(e.contains("unknown provider `okta`"), "{e}");
    assert!(e.contains("help: defined providers: `sso`"), "{e}");
    assert!(e.contains("4444"), "{e}");
    assert!(e.contains("3 problems"), "all at once: {e}");
}

#[test]
fn an_unquoted_account_id_must_be_quoted() {
    let world = World::new();
    world.write(
        "repo/atmos.yaml",
        &world
            .base_config()
            .replace("plat-dev: \"222222222222\"", "plat-dev: 222222222222"),
    );
    world
        .run(&["env", "dev"])
        .code(2)
        .stderr_has("atmos.yaml:2:13")
        .stderr_has("quote");
}

#[test]
fn a_missing_profile_lists_the_available_ones() {
    let world = World::new();
    world.write("repo/profiles/devops/atmos.yaml", "auth: {}\n");
    world
        .cmd(&["env", "dev"])
        .env("ATMOS_PROFILE", "managers")
        .run()
        .code(2)
        .stderr_has("profile `managers` not found")
        .stderr_has("`dev`, `devops`");
}

#[test]
fn the_profile_flag_wins_over_the_environment_and_works_after_the_subcommand() {
    let world = World::new();
    world
        .cmd(&["env", "dev", "--profile", "nope"])
        .run()
        .code(2)
        .stderr_has("profile `nope` not found");
}

#[test]
fn the_config_root_is_found_from_a_subdirectory() {
    let world = World::new();
    world.login();
    let deep = world.root().join("components/terraform/vpc");
    std::fs::create_dir_all(&deep).unwrap();
    world
        .cmd(&["env", "dev"])
        .current_dir(&deep)
        .run()
        .success();
}

#[test]
fn a_secret_in_the_config_is_refused_without_echoing_it() {
    let world = World::new();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &DEV_PROFILE.replace("      alias: dev\n", "      alias: dev\n      env:\n        AWS_SECRET_ACCESS_KEY: not-really-a-secret-value\n"),
    );
    let out = world.run(&["env", "dev"]).code(2);
    assert!(
        !out.stderr.contains("not-really-a-secret-value"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("AWS_SECRET_ACCESS_KEY"),
        "{}",
        out.stderr
    );
}

/// Issue 11 item 7: a "billion laughs" profile of a few KiB whose aliases copy long strings
/// (few nodes, many bytes) fails at once with exit 2, instead of growing to hundreds of MB.
#[test]
fn a_profile_whose_aliases_expand_past_the_budget_is_refused() {
    let world = World::new();
    let copies = |name: &str, of: &str| {
        format!(
            "{name}: &{name} [{}]\n",
            vec![format!("*{of}"); 8].join(", ")
        )
    };
    let laughs = format!(
        "{DEV_PROFILE}x-laughs:\n  a: &a \"{}\"\n  {}  {}  {}",
        "ha".repeat(32 * 1024),
        copies("b", "a"),
        copies("c", "b"),
        copies("d", "c"),
    );
    let file = world.write("repo/profiles/dev/atmos.yaml", &laughs);
    world.run(&["validate"]).code(2).stderr_has(&format!(
        "{}:41:30: anchors and aliases expand to more than 4 MiB",
        file.display()
    ));
}

/// Issue 11 item 7: a config file over 1 MiB is refused before it is parsed.
#[test]
fn a_config_file_over_the_size_cap_is_refused() {
    let world = World::new();
    let padding = format!("# {}\n", "x".repeat(1023)).repeat(1025);
    let file = world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!("{DEV_PROFILE}{padding}"),
    );
    world.run(&["validate"]).code(2).stderr_has(&format!(
        "error: refusing `{}`: config files are limited to 1 MiB",
        file.display()
    ));
}

/// Issue 11 item 7: durations are bounded. `500000000000y` parses, and used to overflow the
/// clock where it was added (a panic); now each use states its range.
#[test]
fn a_duration_out_of_range_is_a_config_error_not_a_panic() {
    let world = World::new();
    world.write(
        "repo/atmos.yaml",
        &world.base_config().replace(
            "      start_url:",
            "      session:\n        duration: 500000000000y\n      start_url:",
        ),
    );
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &DEV_PROFILE.replace("auth:\n", "auth:\n  refresh_margin: 13h\n"),
    );
    let out = world.run(&["validate"]).code(2);
    for expected in [
        "duration `500000000000y` for `auth.providers.sso.session.duration` is outside 15m to 90d",
        "help: choose a duration from 15m to 90d; IAM Identity Center sessions last 15 minutes to 90 days",
        "duration `13h` for `auth.refresh_margin` is outside 0s to 12h",
    ] {
        assert!(out.stderr.contains(expected), "{expected}\n{}", out.stderr);
    }
    world.run(&["login"]).code(2).stderr_has("2 problems");
}

#[test]
fn duration_variables_out_of_range_are_refused_or_ignored_with_a_message() {
    let world = World::new();
    world
        .cmd(&["env", "dev"])
        .env("ATMOS_KEYRING_TIMEOUT", "500000000000y")
        .run()
        .code(2)
        .stderr_has("error: invalid ATMOS_KEYRING_TIMEOUT: `500000000000y` is outside 0s to 10m");
    world
        .cmd(&["env", "dev"])
        .env("ATMOS_KEYRING_TIMEOUT", "soon")
        .run()
        .code(2)
        .stderr_has("error: invalid ATMOS_KEYRING_TIMEOUT: `soon` is not a duration");
    // The HTTP timeout falls back to its default, saying so.
    world
        .cmd(&["login"])
        .env("ATMOS_HTTP_TIMEOUT", "500000000000y")
        .run()
        .success()
        .stderr_has("ignoring ATMOS_HTTP_TIMEOUT: `500000000000y` is outside 1ms to 10m");
}
