use std::os::unix::process::ExitStatusExt;

use crate::emulator::Op;
use crate::harness::World;

#[test]
fn the_command_gets_the_credentials_and_its_arguments_untouched() {
    let world = World::new();
    world.login();
    let expected = world
        .run(&["env", "dev", "--format", "json"])
        .success()
        .json_vars();
    let out = world
        .run(&[
            "exec",
            "dev",
            "--",
            "sh",
            "-c",
            r#"printf '%s\n' "$AWS_SECRET_ACCESS_KEY" "$@""#,
            "sh",
            "--profile",
            "-v",
            "--help",
            "a b",
        ])
        .success();
    let secret = expected["AWS_SECRET_ACCESS_KEY"].as_str().unwrap();
    assert_eq!(
        out.stdout,
        format!("{secret}\n--profile\n-v\n--help\na b\n")
    );
}

#[test]
fn the_exit_code_is_the_commands() {
    let world = World::new();
    world.login();
    world
        .run(&["exec", "dev", "--", "sh", "-c", "exit 7"])
        .code(7);
}

#[test]
fn a_missing_command_exits_127() {
    let world = World::new();
    world.login();
    world
        .run(&["exec", "dev", "--", "no-such-command-atmos"])
        .code(127)
        .stderr_has("could not run `no-such-command-atmos`");
}

#[test]
fn a_signal_reaches_the_command() {
    let world = World::new();
    world.login();
    let mut command = world
        .cmd(&["exec", "dev", "--", "sh", "-c", "kill -TERM $$; sleep 5"])
        .command;
    let status = command.status().unwrap();
    assert_eq!(
        status.signal(),
        Some(15),
        "the command itself received SIGTERM"
    );
}

#[test]
fn conflicting_variables_are_removed() {
    let world = World::new();
    world.login();
    let out = world
        .cmd(&[
            "exec",
            "dev",
            "--",
            "sh",
            "-c",
            r#"echo "profile=${AWS_PROFILE-unset} token=${AWS_SECURITY_TOKEN-unset} keep=$KEEP""#,
        ])
        .env("AWS_PROFILE", "stale")
        .env("AWS_SECURITY_TOKEN", "stale")
        .env("KEEP", "yes")
        .run()
        .success();
    assert_eq!(out.stdout, "profile=unset token=unset keep=yes\n");
}

#[test]
fn the_aws_cli_sees_the_identity() {
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
            "--output",
            "json",
        ])
        .success();
    let caller: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(caller["Account"], "222222222222");
    assert!(
        caller["Arn"]
            .as_str()
            .unwrap()
            .contains("AWSReservedSSO_TerraformApplyAccess_"),
        "{}",
        out.stdout
    );
    assert_eq!(world.emulator.calls(Op::GetCallerIdentity), 1);
}

#[test]
fn the_aws_cli_consumes_env_output() {
    let world = World::new();
    world.login();
    let exports = world.run(&["env", "plat-prod/terraform"]).success().stdout;
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#"eval "$INPUT"; aws sts get-caller-identity --query Account --output text"#)
        .env("INPUT", exports)
        .env("AWS_ENDPOINT_URL", world.emulator.url())
        .env("HOME", world.home.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "444444444444");
}
