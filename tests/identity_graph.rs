//! Every way to reach AWS the seeds name: role chains from a permission set, IAM users with MFA,
//! external credential processes, and the configuration errors of the graph.

use crate::emulator::Op;
use crate::harness::{DEV_PROFILE, World};

const CHAINS: &str = "
    prod/terraform:
      kind: aws/assume-role
      via:
        identity: plat-dev/terraform
      principal:
        assume_role: arn:aws:iam::444444444444:role/terraform
        external_id: atmos-demo
        duration: 2h
    prod/deploy:
      kind: aws/assume-role
      via:
        identity: prod/terraform
      principal:
        assume_role: arn:aws:iam::333333333333:role/deploy
        session_name: deploy-bot
    ci/bot:
      kind: aws/user
      principal:
        mfa_arn: arn:aws:iam::111111111111:mfa/ci-bot
    ci/admin:
      kind: aws/assume-role
      via:
        identity: ci/bot
      principal:
        assume_role: arn:aws:iam::111111111111:role/admin
    plugged/in:
      kind: credential_process
      spec:
        command: printf '{\"Version\":1,\"AccessKeyId\":\"AKIAFAKEEMULATORBOT1\",\"SecretAccessKey\":\"EMULATORSECRETciBotDemoKey00000000000000\"}'
";

fn world() -> World {
    let world = World::new();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!("{DEV_PROFILE}{CHAINS}"),
    );
    world
}

fn caller(world: &World, identity: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["whoami", identity, "--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&world.run(&args).success().stdout).unwrap()
}

#[test]
fn a_chain_assumes_each_role_with_the_previous_credentials() {
    let world = world();
    world.login();
    let json = caller(&world, "prod/deploy", &[]);
    assert_eq!(json["account"], "333333333333");
    assert!(
        json["arn"]
            .as_str()
            .unwrap()
            .ends_with(":assumed-role/deploy/deploy-bot"),
        "{json}"
    );
    let assumed: Vec<_> = world
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.op == Op::AssumeRole && r.status == 200)
        .collect();
    assert_eq!(assumed.len(), 2);
    assert_eq!(
        assumed[0].role_arn.as_deref(),
        Some("arn:aws:iam::444444444444:role/terraform")
    );
    assert_eq!(assumed[1].session_name.as_deref(), Some("deploy-bot"));
    // The first hop asked for 2h, which STS refuses for a chained session: it was capped.
    assert!(
        assumed[0]
            .session_name
            .as_deref()
            .unwrap()
            .starts_with("atmos-auth-")
    );
}

#[test]
fn a_chain_reuses_every_link_still_valid() {
    let world = world();
    world.login();
    caller(&world, "prod/terraform", &[]);
    caller(&world, "prod/deploy", &[]);
    assert_eq!(
        world.emulator.calls(Op::GetRoleCredentials),
        1,
        "the permission set was fetched once"
    );
    assert_eq!(
        world.emulator.calls(Op::AssumeRole),
        2,
        "prod/terraform once, then only the last hop"
    );
    caller(&world, "prod/deploy", &[]);
    assert_eq!(world.emulator.calls(Op::AssumeRole), 2);
}

#[test]
fn an_iam_user_gets_session_credentials_with_mfa() {
    let world = world();
    world
        .cmd(&["configure", "ci/bot"])
        .stdin("AKIAFAKEEMULATORBOT1\nEMULATORSECRETciBotDemoKey00000000000000\n")
        .run()
        .success()
        .stderr_has("Stored the access keys for ci/bot");
    world
        .run(&["env", "ci/bot"])
        .code(3)
        .stderr_has("needs an MFA code")
        .stderr_has("--mfa-code");
    let json = caller(&world, "ci/admin", &["--mfa-code", "123456"]);
    assert_eq!(
        json["arn"]
            .as_str()
            .unwrap()
            .split(":assumed-role/")
            .nth(1)
            .unwrap()
            .split('/')
            .next(),
        Some("admin")
    );
    assert_eq!(world.emulator.calls(Op::GetSessionToken), 1);
    let request = world
        .emulator
        .requests()
        .into_iter()
        .find(|r| r.op == Op::GetSessionToken)
        .unwrap();
    assert_eq!(
        request.access_key_id.as_deref(),
        Some("AKIAFAKEEMULATORBOT1")
    );
}

#[test]
fn a_wrong_mfa_code_is_refused_clearly() {
    let world = world();
    world
        .cmd(&["configure", "ci/bot"])
        .stdin("AKIAFAKEEMULATORBOT1\nEMULATORSECRETciBotDemoKey00000000000000\n")
        .run()
        .success();
    let out = world
        .cmd(&["env", "ci/bot"])
        .env("ATMOS_MFA_CODE", "000000")
        .run()
        .code(1);
    assert!(
        out.stderr
            .starts_with("error: `GetSessionToken` was refused: AccessDenied"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_iam_user_without_keys_says_how_to_add_them() {
    let world = world();
    world
        .run(&["env", "ci/bot", "--mfa-code", "123456"])
        .code(3)
        .stderr_has("hint: run `atmos-auth configure ci/bot`");
    world
        .run(&["configure", "plat-dev/terraform"])
        .code(2)
        .stderr_has("not of kind aws/user");
}

#[test]
fn a_credential_process_identity_runs_the_program() {
    let world = world();
    let json = caller(&world, "plugged/in", &[]);
    assert_eq!(json["arn"], "arn:aws:iam::111111111111:user/ci-bot");
}

#[test]
fn a_failing_credential_process_is_one_clear_line() {
    let world = World::new();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!("{DEV_PROFILE}    broken/tool:\n      kind: credential_process\n      spec:\n        command: echo 'tool says no' >&2; exit 3\n"),
    );
    let out = world.run(&["env", "broken/tool"]).code(1);
    assert!(
        out.stderr.contains("tool says no"),
        "the program's own stderr reaches the user: {}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("error: the credential process `echo` exited with status exit status: 3"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_cycle_is_a_configuration_error_naming_the_whole_cycle() {
    let world = World::new();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!(
            "{DEV_PROFILE}    a/x:\n      kind: aws/assume-role\n      via:\n        identity: b/x\n      principal:\n        assume_role: arn:aws:iam::444444444444:role/a\n    b/x:\n      kind: aws/assume-role\n      via:\n        identity: a/x\n      principal:\n        assume_role: arn:aws:iam::444444444444:role/b\n"
        ),
    );
    world
        .run(&["env", "dev"])
        .code(2)
        .stderr_has("a/x → b/x → a/x");
}

#[test]
fn auto_provisioned_identities_cover_every_assignment_and_yield_to_written_ones() {
    use std::os::unix::fs::PermissionsExt;

    let world = World::new();
    world.auto_provision();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!(
            "{DEV_PROFILE}    plat-prod/ReadOnlyAccess:\n      kind: aws/permission-set\n      via:\n        provider: sso\n      principal:\n        name: TerraformPlanAccess\n        account:\n          name: plat-prod\n"
        ),
    );
    world
        .login()
        .stderr_has("Found 10 permission sets across your accounts.");
    assert_eq!(world.emulator.calls(Op::ListAccounts), 3, "every page");
    assert_eq!(
        world.emulator.calls(Op::ListAccountRoles),
        6,
        "every account, plat-dev's three roles on two pages"
    );
    let table = world.run(&["list"]).success().stdout;
    assert!(
        table.contains("plat-staging/ReadOnlyAccess (provisioned)"),
        "{table}"
    );
    assert!(
        table.contains("core-audit/ReadOnlyAccess (provisioned)"),
        "{table}"
    );
    assert!(
        !table.contains("plat-prod/ReadOnlyAccess (provisioned)"),
        "the written identity wins: {table}"
    );
    world.run(&["env", "core-audit/ReadOnlyAccess"]).success();
    world.run(&["env", "plat-prod/ReadOnlyAccess"]).success();
    let fetched: Vec<_> = world.fetched_roles();
    assert_eq!(
        fetched,
        [
            ("555555555555".to_owned(), "ReadOnlyAccess".to_owned()),
            ("444444444444".to_owned(), "TerraformPlanAccess".to_owned())
        ]
    );
    // The cached list is not secret, but private.
    let cache = world.home.path().join(".cache/atmos-auth/provisioned");
    let file = std::fs::read_dir(&cache)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o700
    );
    world.run(&["list", "--refresh"]).success();
    assert_eq!(world.emulator.calls(Op::ListAccounts), 6);
}
