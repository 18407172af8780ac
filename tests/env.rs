use std::process::Command;

use crate::emulator::Op;
use crate::harness::{World, test_org};

fn vars(world: &World, identity: &str) -> serde_json::Map<String, serde_json::Value> {
    world
        .run(&["env", identity, "--format", "json"])
        .success()
        .json_vars()
}

fn shell(program: &str, script: &str, input: &str) -> String {
    let out = Command::new(program)
        .arg("-c")
        .arg(script)
        .env("INPUT", input)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{program}` ({e}): tests/run.sh installs it"));
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_output_evaluates_to_the_credentials() {
    let world = World::new();
    world.login();
    let expected = vars(&world, "dev");
    let exports = world.run(&["env", "dev"]).success().stdout;
    let seen = shell(
        "bash",
        r#"eval "$INPUT"; printf '%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_REGION" "$AWS_DEFAULT_REGION" "$AWS_CREDENTIAL_EXPIRATION""#,
        &exports,
    );
    let names = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_CREDENTIAL_EXPIRATION",
    ];
    let want: Vec<&str> = names
        .iter()
        .map(|n| expected[*n].as_str().unwrap())
        .collect();
    assert_eq!(seen.lines().collect::<Vec<_>>(), want);
    assert_eq!(expected["AWS_REGION"], "us-east-1");
}

#[test]
fn fish_output_evaluates_to_the_credentials() {
    let world = World::new();
    world.login();
    let expected = vars(&world, "dev");
    let exports = world
        .run(&["env", "dev", "--format", "fish"])
        .success()
        .stdout;
    let seen = shell(
        "fish",
        r#"eval $INPUT; printf '%s\n' $AWS_SECRET_ACCESS_KEY $AWS_SESSION_TOKEN"#,
        &exports,
    );
    assert_eq!(
        seen,
        format!(
            "{}\n{}\n",
            expected["AWS_SECRET_ACCESS_KEY"].as_str().unwrap(),
            expected["AWS_SESSION_TOKEN"].as_str().unwrap()
        )
    );
}

#[test]
fn identity_env_entries_are_exported_and_quoted() {
    let world = World::new();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &crate::harness::DEV_PROFILE.replace(
            "      alias: dev\n",
            "      alias: dev\n      env:\n        AWS_REGION: eu-west-1\n        TF_VAR_note: \"it's $HOME `x`\"\n",
        ),
    );
    world.login();
    let exports = world.run(&["env", "dev"]).success().stdout;
    let seen = shell(
        "bash",
        r#"eval "$INPUT"; printf '%s\n' "$AWS_REGION" "$TF_VAR_note""#,
        &exports,
    );
    assert_eq!(seen, "eu-west-1\nit's $HOME `x`\n");
}

#[test]
fn dotenv_and_powershell_formats() {
    let world = World::new();
    world.login();
    let expected = vars(&world, "dev");
    let dotenv = world
        .run(&["env", "dev", "--format", "dotenv"])
        .success()
        .stdout;
    let key = expected["AWS_ACCESS_KEY_ID"].as_str().unwrap();
    assert!(
        dotenv.contains(&format!("AWS_ACCESS_KEY_ID={key}\n")),
        "{dotenv}"
    );
    let ps = world
        .run(&["env", "dev", "--format", "powershell"])
        .success()
        .stdout;
    assert!(
        ps.contains(&format!("$Env:AWS_ACCESS_KEY_ID = '{key}'\n")),
        "{ps}"
    );
}

#[test]
fn github_format_masks_and_appends_to_github_env() {
    let world = World::new();
    world.login();
    let github_env = world.write("github_env", "");
    let out = world
        .cmd(&["env", "dev", "--format", "github"])
        .env("GITHUB_ENV", github_env.to_str().unwrap())
        .run()
        .success();
    let written = std::fs::read_to_string(&github_env).unwrap();
    let expected = vars(&world, "dev");
    let secret = expected["AWS_SECRET_ACCESS_KEY"].as_str().unwrap();
    assert!(out.stdout.contains(&format!("::add-mask::{secret}")));
    assert!(written.contains(&format!("\n{secret}\n")));
    world
        .run(&["env", "dev", "--format", "github"])
        .code(2)
        .stderr_has("GITHUB_ENV");
}

#[test]
fn cached_credentials_are_reused_until_the_margin() {
    let world = World::new();
    world.login();
    let first = vars(&world, "dev");
    let second = vars(&world, "dev");
    assert_eq!(first, second);
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
}

#[test]
fn credentials_inside_the_refresh_margin_are_fetched_again() {
    let mut org = test_org();
    org.settings.role_credentials_ttl_secs = 600; // less than the 15-minute margin
    let world = World::with_org(org);
    world.login();
    let first = vars(&world, "dev");
    let second = vars(&world, "dev");
    assert_ne!(first["AWS_ACCESS_KEY_ID"], second["AWS_ACCESS_KEY_ID"]);
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 2);
}

#[test]
fn the_refresh_margin_is_configurable() {
    let mut org = test_org();
    org.settings.role_credentials_ttl_secs = 600;
    let world = World::with_org(org);
    world.write(
        "repo/atmos.yaml",
        &world
            .base_config()
            .replace("auth:\n", "auth:\n  refresh_margin: 5m\n"),
    );
    world.login();
    vars(&world, "dev");
    vars(&world, "dev");
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 1);
}

#[test]
fn an_account_missing_from_the_map_is_found_through_every_portal_page() {
    let world = World::new();
    world.login();
    // core-identity is not in the accounts map; the demo org lists it on the first of three
    // pages, so look for one on the last page instead.
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &crate::harness::DEV_PROFILE.replace(
            "name: TerraformStateAccess\n        account:\n          name: core-identity",
            "name: ReadOnlyAccess\n        account:\n          name: core-audit",
        ),
    );
    let out = vars(&world, "core-identity/state");
    assert!(out["AWS_ACCESS_KEY_ID"].as_str().is_some());
    assert_eq!(
        world.emulator.calls(Op::ListAccounts),
        3,
        "followed every page"
    );
    let request = world
        .emulator
        .requests()
        .into_iter()
        .rfind(|r| r.op == Op::GetRoleCredentials)
        .unwrap();
    assert_eq!(request.account_id.as_deref(), Some("555555555555"));
}

#[test]
fn an_unknown_account_name_is_a_clear_error() {
    let world = World::new();
    world.login();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &crate::harness::DEV_PROFILE.replace("name: core-identity", "name: core-nowhere"),
    );
    world
        .run(&["env", "core-identity/state"])
        .code(2)
        .stderr_has("account `core-nowhere`")
        .stderr_has("accounts you can see: core-audit, core-identity");
}

#[test]
fn a_permission_set_not_assigned_is_refused_clearly() {
    let world = World::new();
    world.login();
    let out = world.run(&["env", "plat-prod/admin"]).code(1);
    assert!(out.stderr.starts_with("error: permission set `AdministratorAccess` is not assigned to you in account `444444444444`"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}

#[test]
fn unknown_identity_suggests_the_closest() {
    let world = World::new();
    world
        .run(&["env", "plat-dev/terraforn"])
        .code(2)
        .stderr_has("unknown identity `plat-dev/terraforn`")
        .stderr_has("did you mean one of: `plat-dev/terraform`, ");
}

#[test]
fn the_default_identity_is_used_when_none_is_named() {
    let world = World::new();
    world.login();
    vars(&world, "dev");
    world.run(&["env", "--format", "json"]).success();
    assert_eq!(
        world.emulator.calls(Op::GetRoleCredentials),
        1,
        "the default is plat-dev/terraform"
    );
}

#[test]
fn transient_upstream_failures_are_retried() {
    let world = World::new();
    world.login();
    world.emulator.inject_n(
        Op::GetRoleCredentials,
        crate::emulator::Fault::Status(500),
        2,
    );
    vars(&world, "dev");
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 3);
}

#[test]
fn persistent_upstream_failures_are_one_clear_line() {
    let world = World::new();
    world.login();
    world
        .emulator
        .inject_n(Op::GetRoleCredentials, crate::emulator::Fault::Throttle, 10);
    let out = world.run(&["env", "dev"]).code(1);
    assert!(
        out.stderr
            .starts_with("error: `GetRoleCredentials` was refused: TooManyRequestsException"),
        "{}",
        out.stderr
    );
    assert_eq!(
        world.emulator.calls(Op::GetRoleCredentials),
        4,
        "four attempts"
    );
}

#[test]
fn identity_false_means_no_identity() {
    let world = World::new();
    world.login();
    let out = world
        .cmd(&["env"])
        .env("ATMOS_IDENTITY", "false")
        .run()
        .success();
    assert_eq!(out.stdout, "");
    // Credentials left in the shell by an earlier `eval` must not reach the command either.
    let out = world
        .cmd(&[
            "exec",
            "--identity=false",
            "--",
            "sh",
            "-c",
            r#"echo "key=${AWS_ACCESS_KEY_ID-unset} config=${AWS_CONFIG_FILE:+set}""#,
        ])
        .env("AWS_ACCESS_KEY_ID", "ASIAFAKESTALEKEY0000")
        .env("AWS_SECRET_ACCESS_KEY", "stale")
        .run()
        .success();
    assert_eq!(out.stdout, "key=unset config=set\n");
    world
        .run(&["whoami", "--identity=false"])
        .code(2)
        .stderr_has("needs an identity");
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 0);
}

#[test]
fn the_identity_flag_picks_the_identity_when_none_is_named() {
    let world = World::new();
    world.login();
    let vars = world
        .run(&[
            "env",
            "--identity",
            "plat-prod/terraform",
            "--format",
            "json",
        ])
        .success()
        .json_vars();
    assert!(vars["AWS_ACCESS_KEY_ID"].as_str().is_some());
    let request = world
        .emulator
        .requests()
        .into_iter()
        .find(|r| r.op == Op::GetRoleCredentials)
        .unwrap();
    assert_eq!(request.account_id.as_deref(), Some("444444444444"));
}

#[test]
fn several_defaults_fail_with_the_list_when_nobody_can_choose() {
    let world = World::new();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &crate::harness::DEV_PROFILE.replace(
            "    plat-prod/terraform:\n      kind: aws/permission-set\n",
            "    plat-prod/terraform:\n      kind: aws/permission-set\n      default: true\n",
        ),
    );
    world
        .run(&["env"])
        .code(2)
        .stderr_has("several identities are marked `default: true`: plat-dev/terraform, plat-prod/terraform")
        .stderr_has("hint: name the identity to use");
}
