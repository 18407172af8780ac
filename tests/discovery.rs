//! Profile discovery and stacking as Atmos does them (issue 15): the search order, profiles of
//! several files, comma lists, and the trust checks on every location.

use std::os::unix::fs::PermissionsExt;

use crate::harness::{DEV_PROFILE, World};

fn profile(description: &str) -> String {
    DEV_PROFILE.replace(
        "description: Developers",
        &format!("description: {description}"),
    )
}

/// `plat-dev/terraform` (alias `dev`) pointed at plat-prod's plan role: an override a user
/// notices in the credentials they get.
const TO_PROD_PLAN: &str = "\
auth:
  identities:
    plat-dev/terraform:
      principal:
        name: TerraformPlanAccess
        account:
          name: plat-prod
";

#[test]
fn the_first_location_holding_a_profile_wins_and_profiles_says_where() {
    let world = World::new();
    let home = world.home.path();
    world.write(
        "repo/atmos.yaml",
        &format!(
            "{}profiles:\n  base_path: team-profiles\n",
            world.base_config()
        ),
    );
    world.write(
        "repo/team-profiles/dev/atmos.yaml",
        &profile("From base_path"),
    );
    world.write(
        "repo/.atmos/profiles/dev/atmos.yaml",
        &profile("From .atmos"),
    );
    world.write(
        ".config/atmos/profiles/dev/atmos.yaml",
        &profile("From XDG"),
    );
    world.write(".config/atmos/profiles/mine/atmos.yaml", &profile("Mine"));
    let user_dir = home.join(".config/atmos/profiles");
    let out = world.run(&["profiles"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "* dev   From base_path  from team-profiles/dev, shadows .atmos/profiles/dev, shadows {}/dev, shadows profiles/dev\n  \
             mine  Mine            from {}/mine\n",
            user_dir.display(),
            user_dir.display()
        )
    );
    // Without base_path, .atmos/profiles comes first; then the user's directory; then profiles/.
    world.write("repo/atmos.yaml", &world.base_config());
    world
        .run(&["profiles"])
        .success()
        .stdout_has("* dev   From .atmos  from .atmos/profiles/dev, shadows ");
    std::fs::remove_dir_all(world.root().join(".atmos")).unwrap();
    world
        .run(&["validate"])
        .success()
        .stdout_has(&format!("{}/dev/atmos.yaml)", user_dir.display()));
    // XDG_CONFIG_HOME moves the user's directory.
    world
        .cmd(&["validate"])
        .env("XDG_CONFIG_HOME", home.join("elsewhere").to_str().unwrap())
        .run()
        .success()
        .stdout_has(&format!(
            "{}/profiles/dev/atmos.yaml)",
            world.root().display()
        ));
}

#[test]
fn a_comma_list_merges_left_to_right() {
    let world = World::new();
    world.write("repo/profiles/to-prod/atmos.yaml", TO_PROD_PLAN);
    world.write(
        "repo/profiles/back/atmos.yaml",
        "auth:\n  identities:\n    plat-dev/terraform:\n      principal:\n        account:\n          name: plat-dev\n",
    );
    world.login();
    world
        .cmd(&["env", "dev"])
        .env("ATMOS_PROFILE", "dev,to-prod")
        .run()
        .success();
    assert_eq!(
        world.fetched_roles(),
        [("444444444444".to_owned(), "TerraformPlanAccess".to_owned())]
    );
    // Later wins: `back` restores the account, `to-prod`'s permission set stays.
    let out = world
        .run(&["--profile", "dev, to-prod ,back", "validate"])
        .success();
    let root = world.root();
    assert_eq!(
        out.stdout,
        format!(
            "ok: profile `dev, to-prod ,back`: 1 providers, 4 identities ({r}/atmos.yaml, {r}/profiles/dev/atmos.yaml, {r}/profiles/to-prod/atmos.yaml, {r}/profiles/back/atmos.yaml)\n",
            r = root.display()
        )
    );
    world
        .run(&["--profile", "dev,nope", "validate"])
        .code(2)
        .stderr_has("profile `nope` not found");
}

#[test]
fn a_profile_of_several_files_merges_atmos_yaml_first_then_by_name() {
    let world = World::new();
    // b.yml would undo a.yaml's change if it came first; it sorts after, so it adds only.
    world.write("repo/profiles/dev/b.yml", "auth:\n  identities:\n    plat-dev/terraform:\n      principal:\n        account:\n          name: plat-prod\n");
    world.write(
        "repo/profiles/dev/a.yaml",
        "auth:\n  identities:\n    plat-dev/terraform:\n      principal:\n        name: TerraformPlanAccess\n        account:\n          name: plat-dev\n",
    );
    world.write("repo/profiles/dev/notes.txt", "not: [yaml");
    let root = world.root();
    let out = world.run(&["validate"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "ok: profile `dev`: 1 providers, 4 identities ({r}/atmos.yaml, {r}/profiles/dev/atmos.yaml, {r}/profiles/dev/a.yaml, {r}/profiles/dev/b.yml)\n",
            r = root.display()
        )
    );
    world.login();
    world.run(&["env", "dev"]).success();
    assert_eq!(
        world.fetched_roles(),
        [("444444444444".to_owned(), "TerraformPlanAccess".to_owned())]
    );
}

#[test]
fn the_files_of_one_configuration_are_capped_together() {
    let world = World::new();
    // Each file is under the 1 MiB cap of one file; the ninth takes them over the 8 MiB total.
    let filler = format!("# {}\n", "x".repeat(1000)).repeat(1000);
    for index in 0..9 {
        world.write(&format!("repo/profiles/dev/extra{index}.yaml"), &filler);
    }
    world.run(&["validate"]).code(2).stderr_has(
        "profiles/dev/extra8.yaml`: the configuration's files together are limited to 8 MiB",
    );
    // A comma list naming one profile again and again is capped the same way.
    let again = vec!["dev"; 20].join(",");
    world.write("repo/profiles/dev/extra8.yaml", "");
    world
        .cmd(&["--profile", &again, "validate"])
        .run()
        .code(2)
        .stderr_has("the configuration's files together are limited to 8 MiB");
}

#[test]
fn an_error_points_into_the_second_file_of_a_profile() {
    let world = World::new();
    world.write(
        "repo/profiles/dev/extra.yaml",
        "auth:\n  identities:\n    plat-dev/terraform:\n      alais: d\n",
    );
    let out = world.run(&["validate"]).code(2);
    assert!(
        out.stderr
            .contains("profiles/dev/extra.yaml:4:7: unknown field `alais`"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_untrusted_location_is_refused() {
    let world = World::new();
    let user_dir = world.home.path().join(".config/atmos/profiles");
    world.write(".config/atmos/profiles/other/atmos.yaml", &profile("Other"));
    std::os::unix::fs::chown(&user_dir, Some(12345), Some(12345)).unwrap();
    let expected = format!(
        "error: refusing `{}`: it belongs to another user (uid 12345)",
        user_dir.display()
    );
    for args in [
        &["validate"][..],
        &["profiles"],
        &["validate", "--all-profiles"],
    ] {
        world.run(args).code(2).stderr_has(&expected);
    }
    std::os::unix::fs::chown(&user_dir, Some(0), Some(0)).unwrap();
    world.run(&["validate"]).success();
    // A file of a profile directory others can write is refused too.
    let extra = world.write("repo/profiles/dev/extra.yaml", "description: x\n");
    std::fs::set_permissions(&extra, std::fs::Permissions::from_mode(0o666)).unwrap();
    world.run(&["validate"]).code(2).stderr_has(&format!(
        "error: refusing `{}`: it is writable by group or others (mode 0666)",
        extra.display()
    ));
    std::fs::remove_file(&extra).unwrap();
    // The directory holding a fixed location (`.atmos/`): others could swap its profiles/.
    world.write("repo/.atmos/profiles/dev/atmos.yaml", &profile("Dot"));
    let dot_atmos = world.root().join(".atmos");
    std::fs::set_permissions(&dot_atmos, std::fs::Permissions::from_mode(0o777)).unwrap();
    world.run(&["validate"]).code(2).stderr_has(&format!(
        "error: refusing `{}`: it is writable by group or others (mode 0777)",
        dot_atmos.display()
    ));
    std::fs::remove_dir_all(&dot_atmos).unwrap();
    // And a base_path directory others can write.
    let shared = world.home.path().join("shared");
    world.write("shared/dev/atmos.yaml", &profile("Shared"));
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    world.write(
        "repo/atmos.yaml",
        &format!(
            "{}profiles:\n  base_path: {}\n",
            world.base_config(),
            shared.display()
        ),
    );
    world.run(&["profiles"]).code(2).stderr_has(&format!(
        "error: refusing `{}`: it is writable by group or others (mode 0777)",
        shared.display()
    ));
    // And the directory holding it: others could swap base_path's directory for another.
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o700)).unwrap();
    world.run(&["profiles"]).success();
    let team = world.home.path().join("team");
    world.write("team/profiles/dev/atmos.yaml", &profile("Team"));
    std::fs::set_permissions(&team, std::fs::Permissions::from_mode(0o777)).unwrap();
    world.write(
        "repo/atmos.yaml",
        &format!(
            "{}profiles:\n  base_path: {}\n",
            world.base_config(),
            team.join("profiles").display()
        ),
    );
    world.run(&["profiles"]).code(2).stderr_has(&format!(
        "error: refusing `{}`: it is writable by group or others (mode 0777)",
        team.display()
    ));
}
