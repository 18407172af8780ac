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
