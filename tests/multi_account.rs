//! Several accounts in one run: `credential-process`, the generated AWS config, `exec` with
//! every identity as a profile, and real clients (AWS CLI, boto3) reading it.

use std::process::{Command, Stdio};

use crate::emulator::{Fault, Op};
use crate::harness::World;

fn process_json(world: &World, identity: &str) -> serde_json::Value {
    let out = world.run(&["credential-process", identity]).success();
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[test]
fn credential_process_prints_version_1_json_and_serves_the_cache() {
    let world = World::new();
    world.login();
    let first = process_json(&world, "plat-dev/terraform");
    assert_eq!(first["Version"], 1);
    for field in [
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ] {
        assert!(
            first[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field} in {first}"
        );
    }
    assert!(first["Expiration"].as_str().unwrap().ends_with('Z'));
    let second = process_json(&world, "dev");
    assert_eq!(first, second);
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
}

#[test]
fn credential_process_never_prompts_without_a_terminal() {
    let world = World::new();
    let out = world.run(&["credential-process", "dev"]).code(3);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("run `atmos-auth login`"),
        "{}",
        out.stderr
    );
    assert_eq!(world.emulator.calls(Op::StartDeviceAuthorization), 0);
}

#[test]
fn concurrent_calls_make_one_upstream_call() {
    let world = World::new();
    world.login();
    // Slow the one real call down so that every process arrives while it is in flight.
    world.emulator.inject(
        Op::GetRoleCredentials,
        Fault::Delay(std::time::Duration::from_millis(1500)),
    );
    let children: Vec<_> = (0..50)
        .map(|_| {
            let mut command = world
                .cmd(&["credential-process", "plat-dev/terraform"])
                .command;
            command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            command.spawn().unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for output in &outputs {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let first = &outputs[0].stdout;
    assert!(
        outputs.iter().all(|o| &o.stdout == first),
        "all 50 got the same credentials"
    );
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
}

#[test]
fn a_holder_killed_mid_refresh_does_not_block_the_others() {
    let world = World::new();
    world.login();
    world.emulator.inject(
        Op::GetRoleCredentials,
        Fault::Delay(std::time::Duration::from_secs(30)),
    );
    let mut holder = world.cmd(&["credential-process", "dev"]).command;
    let mut holder = holder
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while world.emulator.calls(Op::GetRoleCredentials) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the holder never called upstream"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    holder.kill().unwrap(); // SIGKILL, with the lock held and the call in flight
    holder.wait().unwrap();
    let started = std::time::Instant::now();
    let out = process_json(&world, "dev");
    assert!(out["AccessKeyId"].as_str().is_some());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 2);
}

#[test]
fn aws_config_has_a_profile_per_identity_and_is_idempotent() {
    let world = World::new();
    let out = world.run(&["aws-config"]).success();
    for name in [
        "plat-dev/terraform",
        "plat-prod/terraform",
        "core-identity/state",
        "plat-prod/admin",
    ] {
        assert!(
            out.stdout
                .contains(&format!("[profile {name}]\ncredential_process = ")),
            "{name}: {}",
            out.stdout
        );
    }
    assert!(out.stdout.contains(&format!(" credential-process plat-dev/terraform --config-dir {} --profile dev\nregion = us-east-1\n", world.root().display())));
    let file = world.home.path().join("atmos.ini");
    let file_arg = file.to_str().unwrap();
    world.run(&["aws-config", "--output", file_arg]).success();
    let first = std::fs::read(&file).unwrap();
    let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    world.run(&["aws-config", "--output", file_arg]).success();
    assert_eq!(std::fs::read(&file).unwrap(), first);
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        modified,
        "an unchanged file is not rewritten"
    );
}

#[test]
fn the_users_own_aws_profiles_stay_reachable() {
    let world = World::new();
    world.write(".aws/config", "[profile personal]\nregion = eu-central-1\n");
    let out = world.run(&["aws-config"]).success();
    assert!(
        out.stdout
            .contains("[profile personal]\nregion = eu-central-1"),
        "{}",
        out.stdout
    );
}

#[test]
fn exec_reaches_every_identity_by_profile_name() {
    let world = World::new();
    world.login();
    let out = world
        .run(&[
            "exec",
            "plat-dev/terraform",
            "--",
            "aws",
            "sts",
            "get-caller-identity",
            "--profile",
            "plat-prod/terraform",
            "--query",
            "Arn",
            "--output",
            "text",
        ])
        .success();
    assert!(
        out.stdout.starts_with(
            "arn:aws:sts::444444444444:assumed-role/AWSReservedSSO_TerraformPlanAccess_"
        ),
        "{}",
        out.stdout
    );
    let default = world
        .run(&[
            "exec",
            "--",
            "aws",
            "sts",
            "get-caller-identity",
            "--query",
            "Account",
            "--output",
            "text",
        ])
        .success();
    assert_eq!(
        default.stdout.trim(),
        "222222222222",
        "without --profile the exec'd identity's variables apply"
    );
}

#[test]
fn boto3_gets_two_identities_in_one_process() {
    let world = World::new();
    world.login();
    let config = world.home.path().join("atmos.ini");
    world
        .run(&["aws-config", "--output", config.to_str().unwrap()])
        .success();
    let script = r#"
import boto3, sys
for profile in sys.argv[1:]:
    sts = boto3.Session(profile_name=profile).client("sts")
    print(profile, sts.get_caller_identity()["Arn"])
"#;
    let out = Command::new("python3")
        .args(["-c", script, "plat-dev/terraform", "plat-prod/terraform"])
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_ENDPOINT_URL", world.emulator.url())
        .env("HOME", world.home.path())
        .env("ATMOS_KEYRING_TYPE", crate::harness::default_store())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("plat-dev/terraform arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_TerraformApplyAccess_"), "{stdout}");
    assert!(stdout.contains("plat-prod/terraform arn:aws:sts::444444444444:assumed-role/AWSReservedSSO_TerraformPlanAccess_"), "{stdout}");
    let fetched: Vec<_> = world.fetched_roles();
    assert_eq!(
        fetched,
        [
            ("222222222222".to_owned(), "TerraformApplyAccess".to_owned()),
            ("444444444444".to_owned(), "TerraformPlanAccess".to_owned())
        ]
    );
}

#[test]
fn console_url_carries_a_signin_token_and_no_credentials() {
    let world = World::new();
    world.login();
    let federation = format!("{}/federation", world.emulator.url());
    let out = world
        .cmd(&[
            "console",
            "dev",
            "--print-only",
            "--destination",
            "s3",
            "--duration",
            "1h",
        ])
        .env("ATMOS_CONSOLE_FEDERATION_URL", &federation)
        .run()
        .success();
    let url = out.stdout.trim();
    assert!(url.starts_with(&format!("{federation}?Action=login&Issuer=atmos%2Dauth&Destination=https%3A%2F%2Fconsole%2Eaws%2Eamazon%2Ecom%2Fs3%2Fhome%3Fregion%3Dus%2Deast%2D1&SigninToken=SIGNINTOKENEMULATOR")), "{url}");
    assert_eq!(world.emulator.calls(Op::GetSigninToken), 1);
    let vars = world
        .run(&["env", "dev", "--format", "json"])
        .success()
        .json_vars();
    for secret in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
        assert!(
            !url.contains(vars[secret].as_str().unwrap()),
            "{secret} leaked into the URL"
        );
    }
    world
        .run(&["console", "dev", "--print-only", "--duration", "13h"])
        .code(2)
        .stderr_has("between 15m and 12h");
}

#[test]
fn completion_offers_the_profiles_identities() {
    let world = World::new();
    let script = world.run(&["completion", "bash"]).success().stdout;
    assert!(script.contains("ATMOS_AUTH_COMPLETE"), "{script}");
    let out = world
        .cmd(&["--", "atmos-auth", "env", "plat-"])
        .env("ATMOS_AUTH_COMPLETE", "fish")
        .run()
        .success();
    let offered: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(
        offered,
        [
            "plat-dev/terraform",
            "plat-prod/admin",
            "plat-prod/terraform"
        ],
        "{}",
        out.stdout
    );
}

#[test]
fn regenerating_over_the_active_config_does_not_copy_itself() {
    let world = World::new();
    world.write(".aws/config", "[profile personal]\nregion = eu-central-1\n");
    let file = world.home.path().join("atmos.ini");
    let path = file.to_str().unwrap();
    world.run(&["aws-config", "--output", path]).success();
    let first = std::fs::read_to_string(&file).unwrap();
    // With AWS_CONFIG_FILE pointing at the generated file (as inside `exec`, or as the README
    // suggests), regenerating must neither nest the file in itself nor lose the user's profiles.
    world
        .cmd(&["aws-config", "--output", path])
        .env("AWS_CONFIG_FILE", path)
        .run()
        .success();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);
    assert_eq!(first.matches("# Generated by atmos-auth").count(), 1);
    assert!(first.contains("[profile personal]"));
}
