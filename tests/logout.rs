//! `logout` (issue 12): one identity, one provider (the portal told first), everything in every
//! store, `--dry-run`, and stores that cannot be reached.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::emulator::{Emulator, Fault, Op, RecordedCall};
use crate::harness::{BIN, DEV_PROFILE, Outcome, World, default_store, test_org};
use crate::trust_stores::{NobodySession, chown_tree, secret_service_labels_with};

/// Users of the base system (`games`, `backup`), one per `--all` test, whose kernel keyrings and
/// Secret Service no other test uses, so `logout --all` empties only that test's stores.
const LOGOUT_USERS: [u32; 2] = [5, 34];

/// A chain through `plat-dev/terraform`, and an identity of its own on each link.
const CHAINS: &str = "
    prod/terraform:
      kind: aws/assume-role
      via:
        identity: plat-dev/terraform
      principal:
        assume_role: arn:aws:iam::444444444444:role/terraform
        external_id: atmos-demo
    prod/deploy:
      kind: aws/assume-role
      via:
        identity: prod/terraform
      principal:
        assume_role: arn:aws:iam::333333333333:role/deploy
";

/// An IAM user whose keys `configure` stores.
const USER: &str = "
    ci/bot:
      kind: aws/user
";

fn logouts(emulator: &Emulator) -> Vec<RecordedCall> {
    emulator
        .requests()
        .into_iter()
        .filter(|call| call.op == Op::Logout)
        .collect()
}

/// `store` as logout names it.
fn place(store: &str) -> String {
    format!("from the `{store}` store.")
}

#[test]
fn logout_of_one_identity_leaves_the_others_usable() {
    let world = World::new();
    world.login();
    world.run(&["env", "dev"]).success();
    world.run(&["env", "plat-prod/terraform"]).success();
    world.emulator.reset_calls();

    let out = world.run(&["logout", "plat-dev/terraform"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "Removed the AWS credentials of `plat-dev/terraform` {}\n",
            place(default_store())
        )
    );
    assert!(logouts(&world.emulator).is_empty(), "the session stays");

    world.run(&["env", "plat-prod/terraform"]).success();
    assert_eq!(
        world.emulator.calls(Op::GetRoleCredentials),
        0,
        "still cached"
    );
    world.run(&["env", "dev"]).success();
    assert_eq!(
        world.fetched_roles(),
        [("222222222222".into(), "TerraformApplyAccess".into())],
        "fetched again, with the session that is still there"
    );
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 0);
}

#[test]
fn logout_of_a_chained_identity_keeps_the_links_others_use() {
    let world = World::new();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!("{DEV_PROFILE}{CHAINS}"),
    );
    world.login();
    world.run(&["env", "prod/deploy"]).success();
    world.emulator.reset_calls();

    let out = world.run(&["logout", "prod/deploy"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "Removed the AWS credentials of `prod/deploy` {}\n",
            place(default_store())
        )
    );
    assert_eq!(
        out.stderr,
        "Keeping the AWS credentials of `plat-dev/terraform`: it is an identity of its own.\n\
         Keeping the AWS credentials of `prod/terraform`: it is an identity of its own.\n"
    );
    world.run(&["env", "prod/deploy"]).success();
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 0);
    assert_eq!(world.emulator.calls(Op::AssumeRole), 1, "only the last hop");

    // An identity's own credentials go even when another identity chains through them; the
    // links before them that others use stay.
    world.emulator.reset_calls();
    let out = world.run(&["logout", "prod/terraform"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "Removed the AWS credentials of `prod/terraform` {}\n",
            place(default_store())
        )
    );
    assert_eq!(
        out.stderr,
        "Keeping the AWS credentials of `plat-dev/terraform`: it is an identity of its own.\n"
    );
    world.run(&["env", "prod/deploy"]).success();
    assert_eq!(
        world.emulator.calls_total(),
        0,
        "prod/deploy's own hop is cached"
    );
    world.run(&["env", "prod/terraform"]).success();
    assert_eq!(world.emulator.calls(Op::AssumeRole), 1);
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 0);
}

#[test]
fn logout_of_the_provider_ends_the_portal_session_and_the_next_env_needs_a_login() {
    let world = World::new();
    world.login();
    world.run(&["env", "dev"]).success();
    world.run(&["env", "plat-prod/terraform"]).success();
    let store = default_store();

    let out = world.run(&["logout"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "Ended the IAM Identity Center session of {} (us-east-1) at the portal.\n\
             Removed the SSO session (access and refresh token) of provider `sso` {p}\n\
             Removed the device-code client registration of provider `sso` {p}\n\
             Removed the AWS credentials of `plat-dev/terraform` {p}\n\
             Removed the AWS credentials of `plat-prod/terraform` {p}\n",
            world.start_url,
            p = place(store),
        )
    );
    let told = logouts(&world.emulator);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].status, 200);
    assert_eq!(told[0].presented.len(), 1, "the bearer token only");
    assert!(
        world
            .emulator
            .issued_secrets()
            .contains(&told[0].presented[0]),
        "an access token the emulator issued"
    );
    assert_eq!(
        world.emulator.live_refresh_tokens(),
        0,
        "the server-side session ended: no copy of its refresh token works"
    );

    world.emulator.reset_calls();
    world
        .run(&["env", "dev"])
        .code(3)
        .stderr_has("hint: run `atmos-auth login`");
    assert_eq!(world.emulator.calls_total(), 0, "nothing left to call with");
    world
        .run(&["logout", "--provider", "sso"])
        .success()
        .stdout_has("nothing to remove");
    assert!(logouts(&world.emulator).is_empty());
}

/// An access token that has expired (by the clock, or rejected by the portal first) still leaves
/// a refresh token that works at the service: logout renews the access token to end the
/// server-side session, instead of leaving it open for every copy of that refresh token.
#[test]
fn logout_with_an_expired_access_token_still_ends_the_portal_session() {
    for by_clock in [true, false] {
        let mut org = test_org();
        if by_clock {
            org.settings.access_token_ttl_secs = 1;
        }
        let world = World::with_org(org);
        world.login();
        if by_clock {
            std::thread::sleep(Duration::from_millis(1500));
        } else {
            world.emulator.expire_access_tokens();
        }
        let out = world.run(&["logout"]).success();
        assert!(
            out.stdout.starts_with(&format!(
                "Ended the IAM Identity Center session of {} (us-east-1) at the portal.\n",
                world.start_url
            )),
            "by clock: {by_clock}\n{}",
            out.stdout
        );
        assert_eq!(
            world.emulator.live_refresh_tokens(),
            0,
            "by clock: {by_clock}: the server-side session ended"
        );
        assert!(
            logouts(&world.emulator)
                .iter()
                .any(|call| call.status == 200),
            "by clock: {by_clock}"
        );
        world
            .run(&["env", "dev"])
            .code(3)
            .stderr_has("hint: run `atmos-auth login`");
    }
}

/// Logging out of the provider removes the credentials of provisioned identities too.
#[test]
fn logout_of_the_provider_removes_provisioned_identities_credentials() {
    let world = World::new();
    world.auto_provision();
    world.login();
    world.run(&["env", "core-audit/ReadOnlyAccess"]).success();
    let out = world.run(&["logout"]).success();
    let line = format!(
        "Removed the AWS credentials of `core-audit/ReadOnlyAccess` {}\n",
        place(default_store())
    );
    assert!(out.stdout.contains(&line), "{line:?} in\n{}", out.stdout);
}

/// Credentials fetched with the session by another profile, whose identities this one does not
/// name, are recognised by the session their ids are bound to, and removed with it.
#[test]
fn logout_of_the_provider_removes_what_other_profiles_obtained_through_it() {
    let world = World::new();
    world.write(
        "repo/profiles/other/atmos.yaml",
        "auth:\n  identities:\n    staging/plan:\n      kind: aws/permission-set\n      via:\n        provider: sso\n      principal:\n        name: TerraformPlanAccess\n        account:\n          name: plat-staging\n",
    );
    let other = |world: &World| {
        world
            .cmd(&["env", "staging/plan"])
            .env("ATMOS_PROFILE", "other")
            .run()
            .success();
    };
    world.login();
    other(&world);

    let out = world.run(&["logout"]).success();
    let line = format!(
        "Removed AWS role credentials for us-east-1|{}|333333333333|TerraformPlanAccess@",
        world.start_url
    );
    assert!(out.stdout.contains(&line), "{line:?} in\n{}", out.stdout);

    world.login();
    world.emulator.reset_calls();
    other(&world);
    assert_eq!(
        world.emulator.calls(Op::GetRoleCredentials),
        1,
        "the other profile's credentials were gone too"
    );
}

/// A portal that cannot be told does not keep anyone logged in: the local session goes all the
/// same, and the exit code says the server-side session may still be open. A session the portal
/// has already ended is no failure.
#[test]
fn a_portal_that_cannot_be_told_still_logs_out_locally() {
    let world = World::new();
    world.login();
    world.emulator.inject_n(Op::Logout, Fault::Status(500), 10);
    let out = world.run(&["logout"]).code(1);
    assert!(
        out.stdout
            .starts_with("Removed the SSO session (access and refresh token) of provider `sso`"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.starts_with("error: `Logout` was refused: ")
            && out.stderr.ends_with(
                "\nnote: the session is removed here all the same; at the portal it stays open \
                 until it expires\n"
            ),
        "{}",
        out.stderr
    );
    world.run(&["env", "dev"]).code(3);

    world.emulator.clear_faults();
    world.login();
    // Ended at the portal already: neither the access token nor the refresh token works.
    world.emulator.expire_access_tokens();
    world.emulator.revoke_refresh_tokens();
    let out = world.run(&["logout"]).success();
    assert!(
        out.stdout
            .starts_with("Removed the SSO session (access and refresh token) of provider `sso`"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr, "");
}

/// The session is bound to the endpoints that issued its token: a logout run against other
/// endpoints finds nothing of it, and shows the token to nobody.
#[test]
fn logout_never_sends_a_token_to_another_endpoint() {
    let world = World::new();
    world.login();
    let other = Emulator::start(test_org());
    let out = world
        .cmd(&["logout"])
        .env("AWS_ENDPOINT_URL", &other.url())
        .run()
        .success();
    assert_eq!(out.stdout, "nothing to remove\n");
    assert_eq!(other.calls_total(), 0);
    assert!(logouts(&world.emulator).is_empty());

    world.run(&["logout"]).success();
    assert_eq!(logouts(&world.emulator).len(), 1);
}

#[test]
fn dry_run_removes_nothing() {
    let world = World::new();
    world.login();
    world.run(&["env", "dev"]).success();
    world.emulator.reset_calls();

    let out = world.run(&["logout", "--dry-run"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "Would end the IAM Identity Center session of {} (us-east-1) at the portal.\n\
             Would remove the SSO session (access and refresh token) of provider `sso` {p}\n\
             Would remove the device-code client registration of provider `sso` {p}\n\
             Would remove the AWS credentials of `plat-dev/terraform` {p}\n",
            world.start_url,
            p = place(default_store()),
        )
    );
    let out = world.run(&["logout", "dev", "--dry-run"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "Would remove the AWS credentials of `plat-dev/terraform` {}\n",
            place(default_store())
        )
    );
    assert_eq!(world.emulator.calls_total(), 0, "the portal was not told");
    world.run(&["env", "dev"]).success();
    world.run(&["env", "plat-prod/terraform"]).success();
    assert_eq!(
        world.fetched_roles().len(),
        1,
        "dev was still cached and the session still worked"
    );
}

#[test]
fn nothing_to_remove_is_success() {
    let world = World::new();
    for args in [
        &["logout"][..],
        &["logout", "dev"],
        &["logout", "--provider", "sso", "--dry-run"],
    ] {
        let out = world.run(args).success();
        assert_eq!(out.stdout, "nothing to remove\n", "{args:?}");
        assert_eq!(out.stderr, "", "{args:?}");
    }
    assert_eq!(world.emulator.calls_total(), 0);
}

#[test]
fn an_unreachable_store_exits_4() {
    let world = World::new();
    let out = world
        .cmd(&["logout"])
        .env("ATMOS_KEYRING_TYPE", "secret-service")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .run()
        .code(4);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .starts_with("error: credential store `secret-service` is unavailable\nhint: "),
        "{}",
        out.stderr
    );
}

/// Runs atmos-auth like `world.cmd(args)`, but as `session`'s user on its bus, in a fresh
/// session keyring (the user's persistent keyring is linked into it), with `envs` on top.
fn run_as(world: &World, session: &NobodySession, args: &[&str], envs: &[(&str, &str)]) -> Outcome {
    run_as_with_stdin(world, session, args, envs, "")
}

/// [`run_as`] with `stdin` as its standard input, then closed.
fn run_as_with_stdin(
    world: &World,
    session: &NobodySession,
    args: &[&str],
    envs: &[(&str, &str)],
    stdin: &str,
) -> Outcome {
    let template = world.cmd(args).command;
    let mut command = session.command("keyctl");
    command.args(["session", "-", BIN]);
    command.args(template.get_args());
    for (name, value) in template.get_envs() {
        if let Some(value) = value
            && name != "DBUS_SESSION_BUS_ADDRESS"
        {
            command.env(name, value);
        }
    }
    command.envs(envs.iter().copied());
    command
        .current_dir(world.root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run atmos-auth as another user");
    let mut input = child.stdin.take().expect("piped");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let output = child.wait_with_output().unwrap();
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The atmos-auth keys in `/proc/keys` as `session`'s user sees it (its own keys), waiting a moment for the
/// kernel to collect keys just invalidated.
fn kernel_keys(session: &NobodySession) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // In a session keyring of its own: the test's session keyring would make root's keys
        // possessed, and so visible.
        let output = session
            .command("keyctl")
            .args(["session", "-", "cat", "/proc/keys"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let keys: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| line.contains("atmos-auth:"))
            .map(str::to_owned)
            .collect();
        if keys.is_empty() || Instant::now() > deadline {
            return keys;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A world whose HOME belongs to `uid`, and that user's own Secret Service.
fn other_user_world(uid: u32) -> (World, NobodySession) {
    let world = World::new();
    world.auto_provision();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!("{DEV_PROFILE}{USER}"),
    );
    chown_tree(world.home.path(), uid);
    (world, NobodySession::start_as(uid))
}

const FILE_STORE: [(&str, &str); 2] = [
    ("ATMOS_KEYRING_TYPE", "file"),
    ("ATMOS_KEYRING_PASSWORD", "logout-test-password"),
];

#[test]
fn logout_all_removes_everything_in_every_store() {
    let (world, session) = other_user_world(LOGOUT_USERS[0]);
    let run = |args: &[&str], envs: &[(&str, &str)]| run_as(&world, &session, args, envs);
    let ok = |out: Outcome| {
        assert_eq!(out.code, Some(0), "{out:?}");
        out
    };
    ok(run(&["login"], &[]));
    ok(run(&["env", "dev"], &[]));
    ok(run(&["exec", "dev", "--", "true"], &[]));
    let keys = "AKIAFAKEEMULATORBOT1\nEMULATORSECRETciBotDemoKey00000000000000\n";
    let configured = run_as_with_stdin(&world, &session, &["configure", "ci/bot"], &[], keys);
    assert_eq!(configured.code, Some(0), "{configured:?}");
    // A second store kind in use at the same time: the encrypted file.
    ok(run(&["login", "--force"], &FILE_STORE));
    let before = kernel_keys(&session);
    assert!(!before.is_empty(), "the test saw keys to remove");

    let password = [("ATMOS_KEYRING_PASSWORD", FILE_STORE[1].1)];
    let dry = ok(run(&["logout", "--all", "--dry-run"], &password));
    assert!(
        dry.stdout
            .starts_with("Would end the IAM Identity Center session of ")
            && dry.stdout.contains("Would remove SSO token for ")
            && dry
                .stdout
                .contains("Would remove the generated AWS config from `")
            && !dry.stdout.contains("Removed"),
        "{}",
        dry.stdout
    );
    assert_eq!(kernel_keys(&session), before, "the dry run removed nothing");
    assert!(logouts(&world.emulator).is_empty());

    let out = ok(run(&["logout", "--all"], &password));
    assert_eq!(
        logouts(&world.emulator).len(),
        1,
        "the portal was told once"
    );
    for line in [
        "Removed AWS role credentials for us-east-1|",
        "from the `keyutils` store.",
        "Removed SSO token for us-east-1|",
        "Removed SSO client registration for us-east-1|",
        "from the `secret-service` store.",
        "from the `file` store.",
        "Removed the generated AWS config from `",
        "Removed the provisioned-identity list from `",
    ] {
        assert!(out.stdout.contains(line), "{line:?} in\n{}", out.stdout);
    }
    assert!(
        !out.stdout.contains("IAM user access keys"),
        "{}",
        out.stdout
    );

    let env = run(&["env", "dev"], &[]);
    assert_eq!(env.code, Some(3), "{env:?}");
    assert!(env.stderr.contains("run `atmos-auth login`"), "{env:?}");
    let env = run(&["env", "dev"], &FILE_STORE);
    assert_eq!(env.code, Some(3), "{env:?}");
    assert!(
        kernel_keys(&session).is_empty(),
        "{:?}",
        kernel_keys(&session)
    );
    let labels = secret_service_labels_with(|| session.command("dbus-send"));
    assert_eq!(
        labels.len(),
        1,
        "only the IAM user keys are left: {labels:?}"
    );
    assert!(labels[0].contains("IAM user access keys"), "{labels:?}");
    for cache in ["aws-config", "provisioned"] {
        let cache = world.home.path().join(".cache/atmos-auth").join(cache);
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0, "{cache:?}");
    }

    let out = ok(run(&["logout", "--all", "--include-user-keys"], &password));
    assert!(
        out.stdout.starts_with("Removed IAM user access keys for "),
        "{}",
        out.stdout
    );
    assert!(secret_service_labels_with(|| session.command("dbus-send")).is_empty());
    let out = ok(run(&["logout", "--all", "--include-user-keys"], &password));
    assert_eq!(out.stdout, "nothing to remove\n");
}

#[test]
fn logout_all_reports_each_unreachable_store_after_removing_the_rest() {
    let (world, session) = other_user_world(LOGOUT_USERS[1]);
    let run = |args: &[&str], envs: &[(&str, &str)]| run_as(&world, &session, args, envs);
    let login = run(&["login"], &[]);
    assert_eq!(login.code, Some(0), "{login:?}");
    let env = run(&["env", "dev"], &[]);
    assert_eq!(env.code, Some(0), "{env:?}");
    let file = run(&["login"], &FILE_STORE);
    assert_eq!(file.code, Some(0), "{file:?}");

    // No Secret Service, and no password for the file (and no terminal to ask on).
    let out = run(
        &["logout", "--all"],
        &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")],
    );
    assert_eq!(out.code, Some(4), "{out:?}");
    assert!(
        out.stdout
            .starts_with("Removed AWS role credentials for us-east-1|"),
        "the kernel keyring was emptied: {out:?}"
    );
    assert!(
        out.stderr
            .contains("error: credential store `secret-service` is unavailable\n")
            && out
                .stderr
                .contains("error: credential store `file` needs a password\n"),
        "{}",
        out.stderr
    );
    assert!(kernel_keys(&session).is_empty());

    let out = run(
        &["logout", "--all"],
        &[("ATMOS_KEYRING_PASSWORD", FILE_STORE[1].1)],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("Removed SSO token for "), "{out:?}");
}

/// `--include-user-keys` only goes with `--all`, and `--all` names no identity.
#[test]
fn logout_flags_that_do_not_go_together_are_usage_errors() {
    let world = World::new();
    world.run(&["logout", "--include-user-keys"]).code(2);
    world.run(&["logout", "dev", "--all"]).code(2);
    world.run(&["logout", "dev", "--provider", "sso"]).code(2);
}
