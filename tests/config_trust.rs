//! Issue 11 item 1: configuration another user could have written is never used. The search
//! for a config root stops at HOME and before directories other users control; a root, file
//! or profile directory that is another user's or writable by group/others is refused with
//! exit 2, a message naming it and the fix.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;

use crate::harness::World;

/// A uid that is neither root nor the test user (tests run as root in CI).
const OTHER_UID: u32 = 12345;

fn give_away(path: &Path) {
    std::os::unix::fs::chown(path, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A profile whose default identity runs a command that leaves `marker` behind.
fn planted_config(marker: &Path) -> String {
    format!(
        "auth:\n  identities:\n    planted:\n      kind: credential_process\n      default: true\n      spec:\n        command: touch {}; printf '{{\"Version\":1,\"AccessKeyId\":\"AKIAFAKEPLANTED00000\",\"SecretAccessKey\":\"planted\"}}'\n",
        marker.display()
    )
}

#[test]
fn a_config_in_a_parent_directory_another_user_controls_is_not_used() {
    // The other user's directory, and a shared one like /tmp (root's, world-writable, sticky).
    for shared_mode in [None, Some(0o1777)] {
        let world = World::new();
        let home = world.home.path().join("me");
        std::fs::create_dir(&home).unwrap();
        let marker = world.home.path().join("ran");
        let planted = world.write("shared/atmos.yaml", &planted_config(&marker));
        let shared = planted.parent().unwrap();
        give_away(&planted);
        match shared_mode {
            Some(mode) => chmod(shared, mode),
            None => give_away(shared),
        }
        // The victim's own directory below it, where they run atmos-auth.
        let work = shared.join("work");
        std::fs::create_dir(&work).unwrap();
        let out = world
            .cmd(&["env", "--format", "json"])
            .env("HOME", home.to_str().unwrap())
            .env("ATMOS_PROFILE", "")
            .current_dir(&work)
            .run()
            .code(2);
        assert!(
            !marker.exists(),
            "the planted command ran ({shared_mode:?}): {}",
            out.stderr
        );
        assert!(!out.stdout.contains("AKIAPLANTED"), "{}", out.stdout);
        for expected in [
            &format!(
                "ignoring the configuration in `{}`: another user could have written it",
                shared.display()
            ),
            "no configuration found",
        ] {
            assert!(out.stderr.contains(expected), "{expected}\n{}", out.stderr);
        }
    }
}

#[test]
fn the_search_stops_at_home_which_may_itself_be_the_root() {
    let world = World::new();
    // HOME inside the repository: the repository's atmos.yaml is above HOME.
    let home = world.root().join("home");
    let work = home.join("work");
    std::fs::create_dir_all(&work).unwrap();
    world
        .cmd(&["validate"])
        .env("HOME", home.to_str().unwrap())
        .current_dir(&work)
        .run()
        .code(2)
        .stderr_has(&format!(
            "profile `dev` not found in `{}`",
            world
                .home
                .path()
                .join(".config/atmos-auth/profiles")
                .display()
        ));
    // HOME is the root itself: found from below it.
    let sub = world.root().join("components");
    std::fs::create_dir_all(&sub).unwrap();
    world
        .cmd(&["validate"])
        .env("HOME", world.root().to_str().unwrap())
        .current_dir(&sub)
        .run()
        .success()
        .stdout_has("ok: profile `dev`");
}

#[test]
fn root_and_profile_files_and_directories_others_could_write_are_refused() {
    type Spoil = fn(&Path);
    let cases: [(&str, Spoil, &str); 6] = [
        (
            "atmos.yaml",
            give_away,
            "it belongs to another user (uid 12345)",
        ),
        (
            "atmos.yaml",
            |p| chmod(p, 0o666),
            "it is writable by group or others (mode 0666)",
        ),
        (
            "profiles",
            |p| chmod(p, 0o777),
            "it is writable by group or others (mode 0777)",
        ),
        (
            "profiles/dev",
            |p| chmod(p, 0o775),
            "it is writable by group or others (mode 0775)",
        ),
        (
            "profiles/dev",
            give_away,
            "it belongs to another user (uid 12345)",
        ),
        (
            "profiles/dev/atmos.yaml",
            give_away,
            "it belongs to another user (uid 12345)",
        ),
    ];
    for (relative, spoil, found) in cases {
        let world = World::new();
        let path = world.root().join(relative);
        spoil(&path);
        let out = world.run(&["validate"]).code(2);
        let expected = format!("error: refusing `{}`: {found}", path.display());
        assert!(out.stderr.contains(&expected), "{expected}\n{}", out.stderr);
        let fix = if found.contains("writable") {
            format!("run `chmod go-w {}`", path.display())
        } else {
            format!("`sudo chown $USER {}`", path.display())
        };
        assert!(out.stderr.contains(&fix), "{fix}\n{}", out.stderr);
    }
}

#[test]
fn an_explicit_config_root_gets_the_same_check() {
    let world = World::new();
    let root = world.root();
    give_away(&root);
    let elsewhere = world.home.path();
    let expected = format!(
        "error: refusing `{}`: it belongs to another user (uid 12345)",
        root.display()
    );
    world
        .cmd(&["--config-dir", root.to_str().unwrap(), "validate"])
        .current_dir(elsewhere)
        .run()
        .code(2)
        .stderr_has(&expected);
    world
        .cmd(&["validate"])
        .env("ATMOS_CLI_CONFIG_PATH", root.to_str().unwrap())
        .current_dir(elsewhere)
        .run()
        .code(2)
        .stderr_has(&expected);
    world
        .cmd(&["--config-dir", root.to_str().unwrap(), "profiles"])
        .current_dir(elsewhere)
        .run()
        .code(2)
        .stderr_has(&expected);
}

#[test]
fn every_profile_command_refuses_a_profiles_directory_others_can_write() {
    let world = World::new();
    let profiles = world.root().join("profiles");
    chmod(&profiles, 0o777);
    let expected = format!(
        "error: refusing `{}`: it is writable by group or others (mode 0777)",
        profiles.display()
    );
    for args in [
        &["validate", "--all-profiles"][..],
        &["profiles"],
        &["matrix"],
    ] {
        world.run(args).code(2).stderr_has(&expected);
    }
}

#[test]
fn a_symlinked_profiles_directory_is_judged_by_its_target() {
    let world = World::new();
    let root = world.root();
    let target = world.home.path().join("theirs");
    std::fs::rename(root.join("profiles"), &target).unwrap();
    std::os::unix::fs::symlink(&target, root.join("profiles")).unwrap();
    // The user's own target is fine through the link.
    world.run(&["validate", "--all-profiles"]).success();
    give_away(&target);
    world.run(&["validate"]).code(2).stderr_has(&format!(
        "error: refusing `{}`: it belongs to another user (uid 12345)",
        target.display()
    ));
}

/// Root can write anything anyway, so a config owned by root counts as the user's own: a shared
/// checkout owned by root still works for everyone, unless group or others can write to it.
#[test]
fn a_config_owned_by_root_is_trusted_by_other_users_unless_writable() {
    let world = World::new();
    chmod(world.home.path(), 0o755);
    let as_other_user = |world: &World| {
        let mut run = world.cmd(&["validate"]).env("HOME", "/nonexistent");
        run.command.uid(OTHER_UID).gid(OTHER_UID);
        run.run()
    };
    as_other_user(&world)
        .success()
        .stdout_has("ok: profile `dev`");
    let profile_dir = world.root().join("profiles/dev");
    chmod(&profile_dir, 0o777);
    as_other_user(&world).code(2).stderr_has(&format!(
        "error: refusing `{}`: it is writable by group or others (mode 0777)",
        profile_dir.display()
    ));
}
