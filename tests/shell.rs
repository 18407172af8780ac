use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use crate::harness::{BIN, World};

/// Prints the variables a shell is about, one per line.
const SHOW: &str = r#"printf '%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$ATMOS_IDENTITY" "$ATMOS_PROFILE" "$ATMOS_SHLVL""#;

const BANNER: &str = "atmos-auth: shell as";
const NESTED: &str = "already inside an atmos-auth shell";

#[test]
fn the_shell_gets_the_identitys_credentials_and_names_it() {
    let world = World::new();
    world.login();
    let expected = world
        .run(&["env", "dev", "--format", "json"])
        .success()
        .json_vars();
    let out = world.run(&["shell", "dev", "--", "-c", SHOW]).success();
    let var = |name: &str| expected[name].as_str().unwrap().to_owned();
    assert_eq!(
        out.stdout,
        format!(
            "{}\n{}\n{}\nplat-dev/terraform\ndev\n1\n",
            var("AWS_ACCESS_KEY_ID"),
            var("AWS_SECRET_ACCESS_KEY"),
            var("AWS_SESSION_TOKEN"),
        )
    );
    // A shell running a script says nothing of its own.
    assert!(!out.stderr.contains(BANNER), "{}", out.stderr);
    assert!(!out.stderr.contains(NESTED), "{}", out.stderr);
}

#[test]
fn the_aws_cli_inside_uses_the_identity_and_every_other_one_by_profile() {
    let world = World::new();
    world.login();
    let out = world
        .run(&[
            "shell",
            "plat-dev/terraform",
            "--",
            "-c",
            "aws sts get-caller-identity --query Account --output text && \
             aws sts get-caller-identity --profile plat-prod/terraform --query Account --output text",
        ])
        .success();
    assert_eq!(out.stdout, "222222222222\n444444444444\n", "{}", out.stderr);
}

#[test]
fn a_shell_inside_a_shell_counts_up_and_warns() {
    let world = World::new();
    world.login();
    // The inner shell names no identity: it holds the outer one's (ATMOS_IDENTITY).
    let out = world
        .cmd(&[
            "shell",
            "dev",
            "--",
            "-c",
            r#""$ATMOS_BIN" shell -- -c 'echo "$ATMOS_SHLVL $ATMOS_IDENTITY $AWS_ACCESS_KEY_ID"'"#,
        ])
        .env("ATMOS_BIN", BIN)
        .run()
        .success()
        .stderr_has(NESTED)
        .stderr_has("ATMOS_SHLVL=2");
    let key = world
        .run(&["env", "dev", "--format", "json"])
        .success()
        .json_vars()["AWS_ACCESS_KEY_ID"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(out.stdout, format!("2 plat-dev/terraform {key}\n"));
}

#[test]
fn the_exit_status_is_the_shells() {
    let world = World::new();
    world.login();
    world.run(&["shell", "dev", "--", "-c", "exit 7"]).code(7);
}

#[test]
fn a_signal_reaches_the_shell() {
    let world = World::new();
    world.login();
    let mut command = world
        .cmd(&["shell", "dev", "--", "-c", "kill -TERM $$; sleep 5"])
        .command;
    let status = command.status().unwrap();
    assert_eq!(status.signal(), Some(15), "the shell itself got SIGTERM");
}

#[test]
fn the_shell_is_dollar_shell_else_bin_sh() {
    let world = World::new();
    world.login();
    // The harness clears the environment: no SHELL.
    world
        .run(&["shell", "dev", "--", "-c", r#"echo "$0""#])
        .success()
        .stdout_has("/bin/sh\n");
    world
        .cmd(&["shell", "dev", "--", "-c", r#"echo "$0""#])
        .env("SHELL", "")
        .run()
        .success()
        .stdout_has("/bin/sh\n");
    let fake = world.write(
        "bin/fake-shell",
        "#!/bin/sh\nprintf 'fake shell:'; printf ' [%s]' \"$@\"; echo\n",
    );
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = world
        .cmd(&["shell", "dev", "--", "-c", "aws s3 ls", "a b"])
        .env("SHELL", fake.to_str().unwrap())
        .run()
        .success();
    assert_eq!(out.stdout, "fake shell: [-c] [aws s3 ls] [a b]\n");
}

#[test]
fn a_shell_that_cannot_be_found_exits_127() {
    let world = World::new();
    world.login();
    world
        .cmd(&["shell", "dev"])
        .env("SHELL", "/no/such/shell")
        .run()
        .code(127)
        .stderr_has("could not run `/no/such/shell`");
}

#[test]
fn an_unknown_identity_exits_2_without_a_shell() {
    let world = World::new();
    world.login();
    let out = world
        .run(&["shell", "nope", "--", "-c", "echo ran"])
        .code(2)
        .stderr_has("unknown identity `nope`");
    assert_eq!(out.stdout, "");
}

#[test]
fn without_a_login_it_exits_3_as_exec_does() {
    let world = World::new();
    let out = world
        .run(&["shell", "dev", "--", "-c", "echo ran"])
        .code(3)
        .stderr_has("hint: run `atmos-auth login`");
    assert_eq!(out.stdout, "");
    world.run(&["exec", "dev", "--", "true"]).code(3);
}

#[test]
fn no_identity_means_no_credentials_but_every_profile() {
    let world = World::new();
    world.login();
    let out = world
        .cmd(&[
            "--identity=false",
            "shell",
            "--",
            "-c",
            r#"echo "key=${AWS_ACCESS_KEY_ID-unset} identity=$ATMOS_IDENTITY level=$ATMOS_SHLVL"; aws sts get-caller-identity --profile plat-prod/terraform --query Account --output text"#,
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIASTALE")
        .run()
        .success();
    assert_eq!(
        out.stdout, "key=unset identity=false level=1\n444444444444\n",
        "{}",
        out.stderr
    );
}

#[test]
fn an_interactive_shell_starts_with_the_identity_and_its_expiry() {
    let world = World::new();
    world.login();
    let expiry = world
        .run(&["env", "dev", "--format", "json"])
        .success()
        .json_vars()["AWS_CREDENTIAL_EXPIRATION"]
        .as_str()
        .unwrap()
        .to_owned();
    // `script` runs atmos-auth on a pseudo-terminal (stdin, stdout and stderr), feeding it
    // what we write and copying everything the terminal shows to its stdout.
    let template = world.cmd(&[]).command;
    let mut command = Command::new("script");
    command.env_clear().current_dir(world.root());
    for (name, value) in template.get_envs() {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    let mut child = command
        .args(["-q", "-e", "-c", &format!("'{BIN}' shell dev"), "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"echo \"level=$ATMOS_SHLVL\"; exit 5\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{screen}");
    assert!(
        screen.contains(&format!(
            "atmos-auth: shell as plat-dev/terraform (profile dev), credentials valid until {expiry} (in "
        )),
        "{screen}"
    );
    assert!(screen.contains("level=1"), "{screen}");
    assert_eq!(screen.matches(BANNER).count(), 1, "{screen}");
}

#[test]
fn completion_offers_shell_and_then_the_identities() {
    let world = World::new();
    let offered = |line: &[&str]| {
        let mut args = vec!["--", "atmos-auth"];
        args.extend(line);
        let out = world
            .cmd(&args)
            .env("ATMOS_AUTH_COMPLETE", "fish")
            .run()
            .success();
        out.stdout
            .lines()
            .map(|l| l.split('\t').next().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(offered(&["sh"]), ["shell"]);
    assert_eq!(
        offered(&["shell", "plat-prod/"]),
        ["plat-prod/admin", "plat-prod/terraform"]
    );
}

#[test]
fn the_environment_is_execs_plus_the_shell_variables() {
    let world = World::new();
    world.login();
    let environment = |args: &[&str]| {
        let out = world
            .cmd(args)
            .env("AWS_PROFILE", "stale")
            .env("AWS_SECURITY_TOKEN", "stale")
            .env("KEEP", "yes")
            .run()
            .success();
        let mut lines: Vec<String> = out
            .stdout
            .split('\0')
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    };
    let exec = environment(&["exec", "dev", "--", "env", "-0"]);
    let shell = environment(&["shell", "dev", "--", "-c", "exec env -0"]);
    // What /bin/sh exports of its own accord (dash: PWD; bash as sh: SHLVL and `_` too).
    let own = |l: &&String| {
        ["PWD=", "OLDPWD=", "SHLVL=", "_="]
            .iter()
            .any(|p| l.starts_with(p))
    };
    let added: Vec<&String> = shell
        .iter()
        .filter(|l| !exec.contains(l) && !own(l))
        .collect();
    let missing: Vec<&String> = exec.iter().filter(|l| !shell.contains(l)).collect();
    assert!(missing.is_empty(), "missing in the shell: {missing:?}");
    assert_eq!(
        added,
        ["ATMOS_IDENTITY=plat-dev/terraform", "ATMOS_SHLVL=1",],
        "{shell:#?}"
    );
    assert!(exec.iter().any(|l| l.starts_with("AWS_CONFIG_FILE=")));
    assert!(exec.iter().any(|l| l == "KEEP=yes"));
    assert!(!shell.iter().any(|l| l.starts_with("AWS_PROFILE=")));
}
