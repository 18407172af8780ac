//! Issue 11, items 5, 6, 7 and 10: generated shell and config text cannot be turned into
//! commands, the console sign-in token never reaches an argv, and an external
//! `credential_process` is bounded in what it prints, what it inherits and how long it lives.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::emulator::Op;
use crate::harness::{DEV_PROFILE, World, test_org};

/// The `credential_process` line of `[profile NAME]` in a generated AWS config.
fn credential_process_line(config: &str, name: &str) -> String {
    let header = format!("[profile {name}]\ncredential_process = ");
    let start = config
        .find(&header)
        .unwrap_or_else(|| panic!("no profile `{name}` in:\n{config}"))
        + header.len();
    config[start..].lines().next().unwrap().to_owned()
}

/// Run `line` the way the Go and Rust SDKs run a `credential_process`: through `sh -c`, in
/// `dir`, with the world's HOME and endpoint.
fn run_like_an_sdk(world: &World, line: &str, dir: &Path) -> serde_json::Value {
    let out = Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .env_clear()
        .env("HOME", world.home.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", world.emulator.url())
        .env("ATMOS_KEYRING_TYPE", crate::harness::default_store())
        .envs(std::env::var("DBUS_SESSION_BUS_ADDRESS").map(|a| ("DBUS_SESSION_BUS_ADDRESS", a)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{line}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn aws_config_quotes_paths_so_sh_runs_nothing_but_atmos_auth() {
    let world = World::new();
    world.login();
    // A config root whose path holds every character double quotes would have let through.
    let root = world
        .home
        .path()
        .join("repo #1 ;2 $(touch pwned) `touch pwned2` \"q\" 'a' \\x");
    std::fs::create_dir_all(root.join("profiles/dev")).unwrap();
    std::fs::write(root.join("atmos.yaml"), world.base_config()).unwrap();
    std::fs::write(root.join("profiles/dev/atmos.yaml"), DEV_PROFILE).unwrap();
    let config = world
        .cmd(&["aws-config"])
        .current_dir(&root)
        .run()
        .success()
        .stdout;
    let line = credential_process_line(&config, "plat-dev/terraform");
    let json = run_like_an_sdk(&world, &line, world.home.path());
    assert_eq!(json["Version"], 1, "{json}");
    // botocore splits the line itself (shlex), without a shell: it must read the same words.
    let ini = world.write("atmos.ini", &config);
    let out = Command::new("python3")
        .args([
            "-c",
            "import boto3; print(boto3.Session(profile_name='plat-dev/terraform').client('sts').get_caller_identity()['Account'])",
        ])
        .env("AWS_CONFIG_FILE", &ini)
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
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "222222222222");
    for planted in ["pwned", "pwned2"] {
        assert!(
            !world.home.path().join(planted).exists(),
            "`{line}` ran a command planted in the path"
        );
    }
}

#[test]
fn an_identity_name_outside_the_safe_set_is_a_config_error_at_its_position() {
    let world = World::new();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &DEV_PROFILE.replace("    plat-prod/admin:\n", "    a$(touch x)/y:\n"),
    );
    let out = world.run(&["validate"]).code(2);
    assert!(
        out.stderr
            .contains("profiles/dev/atmos.yaml:30:5: identity name `a$(touch x)/y` contains `$`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("letters, digits"), "{}", out.stderr);
}

#[test]
fn provisioned_names_from_hostile_account_names_are_made_safe() {
    let mut org = test_org();
    // Any member-account administrator can choose the account's name.
    org.accounts[4].name = "Audit $(touch pwned) [x]".into();
    let world = World::with_org(org);
    world.auto_provision();
    let login = world.login();
    assert!(
        login
            .stderr
            .contains("account name `Audit $(touch pwned) [x]` holds characters not allowed in identity names; its identities are named `Audit---touch-pwned---x-/…`"),
        "{}",
        login.stderr
    );
    let table = world.run(&["list"]).success().stdout;
    assert!(
        table.contains("Audit---touch-pwned---x-/ReadOnlyAccess (provisioned)"),
        "{table}"
    );
    let config = world.run(&["aws-config"]).success().stdout;
    let line = credential_process_line(&config, "Audit---touch-pwned---x-/ReadOnlyAccess");
    let json = run_like_an_sdk(&world, &line, world.home.path());
    assert!(json["AccessKeyId"].as_str().is_some(), "{json}");
    assert!(!world.home.path().join("pwned").exists());
    assert_eq!(
        world.fetched_roles(),
        [("555555555555".to_owned(), "ReadOnlyAccess".to_owned())]
    );
}

#[test]
fn powershell_output_doubles_every_kind_of_single_quote() {
    let world = World::new();
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &DEV_PROFILE.replace(
            "      alias: dev\n",
            "      alias: dev\n      env:\n        TF_VAR_note: \"a'b\u{2018}c\u{2019}d\u{201A}e\u{201B}f\"\n",
        ),
    );
    world.login();
    let ps = world
        .run(&["env", "dev", "--format", "powershell"])
        .success()
        .stdout;
    assert!(
        ps.contains(
            "$Env:TF_VAR_note = 'a''b\u{2018}\u{2018}c\u{2019}\u{2019}d\u{201A}\u{201A}e\u{201B}\u{201B}f'\n"
        ),
        "{ps}"
    );
}

#[test]
fn a_missing_github_env_file_is_created_private() {
    let world = World::new();
    world.login();
    let github_env = world.home.path().join("runner/github_env");
    std::fs::create_dir_all(github_env.parent().unwrap()).unwrap();
    world
        .cmd(&["env", "dev", "--format", "github"])
        .env("GITHUB_ENV", github_env.to_str().unwrap())
        .run()
        .success();
    let mode = std::fs::metadata(&github_env).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "GITHUB_ENV created {mode:04o}");
}

/// A `BROWSER` that records its arguments, and the mode and text of the file it was given.
const FAKE_BROWSER: &str = r#"#!/bin/sh
out="$(dirname "$0")"
printf '%s\n' "$@" > "$out/argv.tmp"
path="${1#file://}"
stat -c %a "$path" > "$out/mode"
stat -c %a "$(dirname "$path")" > "$out/dir-mode"
cat "$path" > "$out/page"
mv "$out/argv.tmp" "$out/argv"
"#;

#[test]
fn the_console_token_reaches_the_browser_in_a_private_file_not_its_argv() {
    let world = World::new();
    world.login();
    let federation = format!("{}/federation", world.emulator.url());
    let browser = world.write("browser/open", FAKE_BROWSER);
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    // What a login session provides: a private directory of the user's own.
    let runtime = world.home.path().join("run");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let printed = world
        .cmd(&["console", "dev", "--print-only"])
        .env("ATMOS_CONSOLE_FEDERATION_URL", &federation)
        .run()
        .success()
        .stdout;
    let printed = printed.trim();
    assert!(printed.contains("SigninToken="), "{printed}");
    let open_console = || {
        world
            .cmd(&["console", "dev"])
            .env("ATMOS_CONSOLE_FEDERATION_URL", &federation)
            .env("BROWSER", browser.to_str().unwrap())
            .env("XDG_RUNTIME_DIR", runtime.to_str().unwrap())
            .run()
            .success()
    };
    let out = open_console();
    assert!(!out.stdout.contains("SigninToken"), "{}", out.stdout);
    let dir = browser.parent().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.join("argv").exists() {
        assert!(Instant::now() < deadline, "the browser was never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let argv = std::fs::read_to_string(dir.join("argv")).unwrap();
    assert!(!argv.contains("SigninToken"), "token in argv: {argv}");
    assert!(
        argv.starts_with(&format!(
            "file://{}/run/atmos-auth/console/",
            world.home.path().display()
        )),
        "{argv}"
    );
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert_eq!(read("mode").trim(), "600");
    assert_eq!(read("dir-mode").trim(), "700");
    let page = read("page");
    let signin_token = printed.rsplit("SigninToken=").next().unwrap();
    let expected = printed.replace(signin_token, "").replace('&', "&amp;");
    assert!(
        page.contains(&format!(
            "<meta http-equiv=\"refresh\" content=\"0;url={expected}"
        )),
        "{page}"
    );
    assert!(page.contains("SigninToken=SIGNINTOKENEMULATOR"), "{page}");
    assert_eq!(world.emulator.calls(Op::GetSigninToken), 2);
    // The next run deletes pages older than a minute, and only those.
    let first = argv.trim().strip_prefix("file://").unwrap().to_owned();
    let touched = Command::new("touch")
        .args(["-d", "2 minutes ago", &first])
        .status()
        .unwrap();
    assert!(touched.success());
    std::fs::remove_file(dir.join("argv")).unwrap();
    open_console();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.join("argv").exists() {
        assert!(Instant::now() < deadline, "the browser was never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!Path::new(&first).exists(), "the old page is still there");
    let second = read("argv");
    assert!(
        Path::new(second.trim().strip_prefix("file://").unwrap()).exists(),
        "the new page is there"
    );
}

#[test]
fn a_console_page_left_half_written_by_a_killed_run_is_deleted_by_the_next() {
    let world = World::new();
    world.login();
    let federation = format!("{}/federation", world.emulator.url());
    // Without a runtime directory the pages go to the cache, on disk.
    let dir = world.home.path().join(".cache/atmos-auth/console");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    // What a run killed between creating its temp file and renaming it leaves: the token.
    let left = dir.join(".signin-0123456789abcdef0123456789abcdef.html.0011223344556677.tmp");
    std::fs::write(
        &left,
        "<meta http-equiv=\"refresh\" content=\"0;url=…SigninToken=T\">",
    )
    .unwrap();
    let touched = Command::new("touch")
        .args(["-d", "2 minutes ago"])
        .arg(&left)
        .status()
        .unwrap();
    assert!(touched.success());
    world
        .cmd(&["console", "dev"])
        .env("ATMOS_CONSOLE_FEDERATION_URL", &federation)
        .env("BROWSER", "true")
        .run()
        .success();
    assert!(!left.exists(), "the killed run's temp page is still there");
}

const GOOD_JSON: &str = r#"{"Version":1,"AccessKeyId":"AKIAFAKEEMULATORBOT1","SecretAccessKey":"EMULATORSECRETciBotDemoKey00000000000000"}"#;

/// The `dev` profile with a `credential_process` identity `tool/x` given `spec`.
fn with_process(world: &World, spec: &str) {
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!("{DEV_PROFILE}    tool/x:\n      kind: credential_process\n      spec:\n{spec}"),
    );
}

#[test]
fn credential_process_output_over_the_cap_is_refused() {
    let world = World::new();
    // Valid JSON after 1 MiB of padding: only a size cap refuses it.
    world.write(
        "padded.json",
        &format!("{}{GOOD_JSON}", " ".repeat(1 << 20)),
    );
    with_process(
        &world,
        &format!(
            "        args: [cat, {}]\n",
            world.home.path().join("padded.json").display()
        ),
    );
    world
        .run(&["env", "tool/x"])
        .code(1)
        .stderr_has("error: the credential process `cat` printed more than 64 KiB");
}

#[test]
fn credential_process_output_needs_both_keys() {
    let world = World::new();
    for (field, json) in [
        ("AccessKeyId", GOOD_JSON.replace("AKIAFAKEEMULATORBOT1", "")),
        (
            "SecretAccessKey",
            GOOD_JSON.replace("EMULATORSECRETciBotDemoKey00000000000000", ""),
        ),
    ] {
        world.write("out.json", &json);
        with_process(
            &world,
            &format!(
                "        args: [cat, {}]\n",
                world.home.path().join("out.json").display()
            ),
        );
        let out = world.run(&["env", "tool/x", "-v"]).code(1);
        assert!(
            out.stderr
                .contains(&format!("caused by: `{field}` is empty")),
            "{field}: {}",
            out.stderr
        );
    }
}

#[test]
fn credential_process_never_inherits_atmos_or_github_secrets() {
    let world = World::new();
    with_process(
        &world,
        &format!(
            "        command: 'env > {}; printf %s ''{GOOD_JSON}'''\n",
            world.home.path().join("child-env").display()
        ),
    );
    world
        .cmd(&["env", "tool/x"])
        .env("ATMOS_KEYRING_PASSWORD", "file-store-password")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "https://token.actions.example/x",
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-bearer-token")
        .env("KEEP_ME", "yes")
        .run()
        .success();
    let env = std::fs::read_to_string(world.home.path().join("child-env")).unwrap();
    assert!(env.contains("KEEP_ME=yes"), "{env}");
    for name in [
        "ATMOS_KEYRING_PASSWORD",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    ] {
        assert!(!env.contains(name), "{name} reached the child:\n{env}");
    }
}

/// Whether process `pid` is gone (or a zombie nobody has reaped yet).
fn dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_credential_process_past_its_timeout_is_killed_with_its_whole_group() {
    let world = World::new();
    let pids = world.home.path().join("pids");
    // The grandchild keeps stdout open after its parent is gone.
    with_process(
        &world,
        &format!(
            "        command: 'sleep 300 & echo $! > {pids}; echo $$ >> {pids}; sleep 301'\n        timeout: 1s\n",
            pids = pids.display()
        ),
    );
    let started = Instant::now();
    world
        .run(&["env", "tool/x"])
        .code(1)
        .stderr_has("error: the credential process `sleep` did not finish within 1s");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let pids = std::fs::read_to_string(&pids).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    for pid in pids.lines() {
        while !dead(pid) {
            assert!(
                Instant::now() < deadline,
                "process {pid} outlived the timeout"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn aws_config_never_copies_keys_that_hold_secrets() {
    let world = World::new();
    world.write(
        ".aws/config",
        "[profile mine]\n\
         region = eu-central-1\n\
         aws_access_key_id = AKIAFAKEUSERSOWN0001\n\
         aws_secret_access_key=UsersOwnSecretKey\n\
         AWS_Session_Token =\n    UsersOwnSessionToken\n\
         aws_security_token = UsersOwnSecurityToken\n\
         # aws_secret_access_key = UsersCommentedSecret\n\
         output = json\n",
    );
    let config = world.run(&["aws-config"]).success().stdout;
    for secret in [
        "AKIAFAKEUSERSOWN0001",
        "UsersOwnSecretKey",
        "UsersOwnSessionToken",
        "UsersOwnSecurityToken",
        "UsersCommentedSecret",
    ] {
        assert!(!config.contains(secret), "{secret} copied:\n{config}");
    }
    assert!(
        config.contains("[profile mine]\nregion = eu-central-1\noutput = json\n"),
        "{config}"
    );
}

/// A profile's name comes from a directory a pull request can add; the header's "Regenerate
/// with" command is there to be pasted into a shell, so it is quoted like the command lines.
#[test]
fn aws_config_header_command_runs_nothing_when_pasted_into_a_shell() {
    let world = World::new();
    let profile = "p$(touch pwned);touch pwned2";
    world.write(&format!("repo/profiles/{profile}/atmos.yaml"), DEV_PROFILE);
    let config = world
        .cmd(&["aws-config", "--profile", profile])
        .run()
        .success()
        .stdout;
    let header = config.lines().next().unwrap();
    let pasted = header
        .split('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no command in {header}"));
    // What a user pasting it gets; `echo` stands in for atmos-auth.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(pasted.replacen("atmos-auth", "echo", 1))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{pasted}: {out:?}");
    assert!(
        !dir.path().join("pwned").exists() && !dir.path().join("pwned2").exists(),
        "pasting `{pasted}` ran a command"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("aws-config --profile {profile}\n")
    );
}

/// botocore reads `~/.aws/config` with Python's configparser, for which `:` separates a key
/// from its value as `=` does: such a secret is a secret too.
#[test]
fn aws_config_never_copies_secret_keys_set_with_a_colon() {
    let world = World::new();
    world.write(
        ".aws/config",
        "[default]\n\
         region = eu-central-1\n\
         aws_secret_access_key: UsersColonSecretKey\n\
         aws_session_token :\n    UsersColonSessionToken\n\
         ;AWS_SECURITY_TOKEN:UsersCommentedColonToken\n\
         output: json\n",
    );
    let config = world.run(&["aws-config"]).success().stdout;
    for secret in [
        "UsersColonSecretKey",
        "UsersColonSessionToken",
        "UsersCommentedColonToken",
    ] {
        assert!(!config.contains(secret), "{secret} copied:\n{config}");
    }
    assert!(
        config.contains("[default]\nregion = eu-central-1\noutput: json\n"),
        "{config}"
    );
}
