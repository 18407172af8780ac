use crate::emulator::Op;
use crate::harness::{World, test_org};

/// The prefixes the emulator gives each kind of secret it mints.
const CLIENT_SECRET: &str = "EMULATORCLIENTSECRET";
const DEVICE_CODE: &str = "EMULATORDEVICECODE";
const ACCESS_TOKEN: &str = "aoaEMULATORACCESSTOKEN";
const REFRESH_TOKEN: &str = "aorEMULATORREFRESHTOKEN";
const SECRET_KEY: &str = "EMULATORSECRET";
const SESSION_TOKEN: &str = "EMULATORSESSIONTOKEN";
const AUTH_CODE: &str = "EMULATORAUTHCODE";
const SIGNIN_TOKEN: &str = "SIGNINTOKENEMULATOR";

/// Every secret the emulator issued, after checking that it issued at least one of each kind
/// in `kinds`: a search for secrets that were never minted would pass whatever the output.
#[track_caller]
fn issued(world: &World, kinds: &[&str]) -> Vec<String> {
    let secrets = world.emulator.issued_secrets();
    for kind in kinds {
        assert!(
            secrets.iter().any(|secret| secret.starts_with(kind)),
            "the runs never obtained a {kind}… secret, so its absence proves nothing"
        );
    }
    secrets
}

/// Run the whole flow at the highest log levels and look for every secret the emulator issued in
/// everything a user could see except the outputs whose job is to carry credentials.
#[test]
fn no_secret_reaches_logs_at_any_level() {
    let mut org = test_org();
    org.settings.access_token_ttl_secs = 60; // forces a refresh, another place tokens flow
    let world = World::with_org(org);
    let mut seen = String::new();
    for args in [
        vec!["login", "-vvv"],
        vec!["env", "dev", "-vvv", "--format", "json"],
        vec!["whoami", "dev", "-vvv"],
        vec!["login", "--force", "-vvv"],
        vec!["env", "plat-prod/terraform", "-vvv"],
    ] {
        let out = world.cmd(&args).env("RUST_LOG", "trace").run();
        assert_eq!(out.code, Some(0), "{args:?}\n{}", out.stderr);
        seen.push_str(&out.stderr);
        if args[0] != "env" {
            seen.push_str(&out.stdout);
        }
    }
    assert!(
        seen.contains("TRACE") || seen.contains("DEBUG"),
        "logging was on: {seen}"
    );
    // Two device logins, a refresh on each run in between, two role credentials.
    assert!(world.emulator.calls(Op::CreateToken) >= 3);
    assert_eq!(world.emulator.calls(Op::GetRoleCredentials), 2);
    let kinds = [
        CLIENT_SECRET,
        DEVICE_CODE,
        ACCESS_TOKEN,
        REFRESH_TOKEN,
        SECRET_KEY,
        SESSION_TOKEN,
    ];
    for secret in issued(&world, &kinds) {
        assert!(!seen.contains(&secret), "a secret reached the logs");
    }
}

/// An IAM user's long-term key, typed into `configure`: never echoed, never in a file.
const USER_KEY_ID: &str = "AKIAFAKEEMULATORBOT1";
const USER_SECRET: &str = "EMULATORSECRETciBotDemoKey00000000000000";

const USER_IDENTITY: &str = "
    ci/bot:
      kind: aws/user
";

/// Every path under `dir` that is a file.
fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every command, at `-vvv` and `RUST_LOG=trace`, with each store kind; then stdout, stderr and
/// every file under HOME (config, cache and data directories) are searched for every secret the
/// emulator issued and the user's own key. Only the outputs whose job is to carry credentials
/// are exempt: `env` and `credential-process` stdout, the `$GITHUB_ENV` file (outside HOME), and
/// the console sign-in URL that `console --print-only` prints.
fn every_command_at_trace(store: &[(&str, &str)]) {
    let mut org = test_org();
    org.settings.access_token_ttl_secs = 60; // every run refreshes
    let world = World::with_org(org);
    world.write(
        "repo/profiles/dev/atmos.yaml",
        &format!("{}{USER_IDENTITY}", crate::harness::DEV_PROFILE),
    );
    let outside = tempfile::tempdir().unwrap();
    let github_env = outside.path().join("github_env");
    std::fs::write(&github_env, "").unwrap();
    let federation = format!("{}/federation", world.emulator.url());
    let mut seen = String::new();
    let mut runs: Vec<(Vec<&str>, bool)> = vec![
        (vec!["login"], false),
        (vec!["login", "plat-prod/terraform"], false),
        (vec!["whoami", "dev"], false),
        (vec!["whoami", "dev", "--format", "json"], false),
        (vec!["credential-process", "dev"], true),
        (vec!["exec", "dev", "--", "true"], false),
        (vec!["shell", "dev", "--", "-c", "true"], false),
        (vec!["aws-config"], false),
        (vec!["console", "dev", "--print-only"], true),
        (vec!["validate"], false),
        (vec!["validate", "--all-profiles"], false),
        (vec!["login", "--force"], false),
    ];
    for format in ["bash", "fish", "powershell", "json", "dotenv", "github"] {
        runs.push((vec!["env", "dev", "--format", format], true));
    }
    for format in ["table", "tree", "json", "yaml", "dot", "mermaid"] {
        runs.push((vec!["list", "--format", format], false));
    }
    // Last: they remove what the runs above used, and `logout` shows the portal the token.
    runs.push((vec!["logout", "--dry-run"], false));
    runs.push((vec!["logout", "dev"], false));
    runs.push((vec!["logout"], false));
    let configure = {
        let mut run = world
            .cmd(&["configure", "ci/bot", "-vvv"])
            .env("RUST_LOG", "trace")
            .stdin(&format!("{USER_KEY_ID}\n{USER_SECRET}\n"));
        for (name, value) in store {
            run = run.env(name, value);
        }
        run.run().success()
    };
    seen.push_str(&configure.stdout);
    seen.push_str(&configure.stderr);
    for (args, carries) in &runs {
        let mut run = world
            .cmd(args)
            .env("RUST_LOG", "trace")
            .env("GITHUB_ENV", github_env.to_str().unwrap())
            .env("GITHUB_ACTIONS", "true")
            .env("ATMOS_CONSOLE_FEDERATION_URL", &federation);
        run.command.arg("-vvv");
        for (name, value) in store {
            run = run.env(name, value);
        }
        let out = run.run();
        assert_eq!(out.code, Some(0), "{args:?}\n{}", out.stderr);
        seen.push_str(&out.stderr);
        if !carries {
            seen.push_str(&out.stdout);
        }
    }
    // The browser login (issue 12): the authorization code and the PKCE verifier are secrets too.
    let browser = world.write(
        "bin/follow",
        "#!/bin/sh\nexec curl -sS -L -o /dev/null \"$1\"\n",
    );
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let mut run = world
        .cmd(&["login", "--force", "-vvv"])
        .env("RUST_LOG", "trace")
        .env("BROWSER", browser.to_str().unwrap());
    for (name, value) in store {
        run = run.env(name, value);
    }
    let out = run
        .run()
        .success()
        .stderr_has("/authorize?response_type=code");
    seen.push_str(&out.stderr);
    seen.push_str(&out.stdout);
    assert!(seen.contains("DEBUG"), "logging was on");
    assert_eq!(
        world.emulator.calls(Op::Logout),
        1,
        "the portal was shown the token once"
    );
    let mut paths = Vec::new();
    files(world.home.path(), &mut paths);
    assert!(
        paths
            .iter()
            .any(|p| p.to_string_lossy().contains("/.cache/atmos-auth/")),
        "the cache directory was searched too: {paths:?}"
    );
    let mut secrets = issued(
        &world,
        &[
            CLIENT_SECRET,
            DEVICE_CODE,
            ACCESS_TOKEN,
            REFRESH_TOKEN,
            SECRET_KEY,
            SESSION_TOKEN,
            AUTH_CODE,
            SIGNIN_TOKEN,
        ],
    );
    secrets.push(USER_SECRET.to_owned());
    assert!(secrets.len() > 10, "{} secrets", secrets.len());
    for secret in &secrets {
        assert!(
            !seen.contains(secret.as_str()),
            "a secret reached the output or logs"
        );
        for path in &paths {
            let bytes = std::fs::read(path).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret.as_str()),
                "{} holds a secret",
                path.display()
            );
        }
    }
}

#[test]
fn no_secret_anywhere_with_the_keyring_store() {
    every_command_at_trace(&[]);
}

#[test]
fn no_secret_anywhere_with_the_file_store() {
    every_command_at_trace(&[
        ("ATMOS_KEYRING_TYPE", "file"),
        ("ATMOS_KEYRING_PASSWORD", "correct horse battery"),
    ]);
}

/// Issue 13: provisioning (concurrent, paged), the provisioned index and the role-credential
/// tier under `$XDG_RUNTIME_DIR`, at trace level: no secret in the logs, in the index or in the
/// tier's files, which hold ciphertext only.
#[test]
fn no_secret_in_the_provisioned_index_or_the_role_credential_tier() {
    let mut org = test_org();
    org.settings.access_token_ttl_secs = 60;
    let world = World::with_org(org);
    world.auto_provision();
    let runtime = tempfile::tempdir().unwrap();
    let private = std::os::unix::fs::PermissionsExt::from_mode(0o700);
    std::fs::set_permissions(runtime.path(), private).unwrap();
    let mut seen = String::new();
    for args in [
        vec!["login"],
        vec!["list", "--refresh"],
        vec!["credential-process", "plat-dev/TerraformPlanAccess"],
        vec!["credential-process", "plat-dev/TerraformPlanAccess"],
        vec!["env", "plat-dev/TerraformApplyAccess"],
        vec!["list", "plat-*", "--format", "json"],
        // Last: it removes the tier's files and its key from root's kernel keyring.
        vec!["logout"],
    ] {
        let carries = args[0] == "credential-process" || args[0] == "env";
        let mut run = world
            .cmd(&args)
            .env("RUST_LOG", "trace")
            .env("XDG_RUNTIME_DIR", runtime.path().to_str().unwrap());
        run.command.arg("-vvv");
        let out = run.run();
        assert_eq!(out.code, Some(0), "{args:?}\n{}", out.stderr);
        seen.push_str(&out.stderr);
        if !carries {
            seen.push_str(&out.stdout);
        }
    }
    assert!(seen.contains("DEBUG"), "logging was on");
    let mut paths = Vec::new();
    files(world.home.path(), &mut paths);
    files(runtime.path(), &mut paths);
    let tier = runtime.path().join("atmos-auth/role-credentials");
    // What is left of the tier is its lock.
    let mut left = paths.iter().filter(|p| p.starts_with(&tier));
    assert!(left.all(|p| p.ends_with(".key.lock")), "{paths:?}");
    assert!(
        seen.contains("Removed the AWS credentials of `plat-dev/TerraformPlanAccess`"),
        "the tier held them: {seen}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "index")),
        "{paths:?}"
    );
    let secrets = world.emulator.issued_secrets();
    assert!(secrets.len() > 4, "{} secrets", secrets.len());
    for secret in &secrets {
        assert!(!seen.contains(secret.as_str()), "a secret reached the logs");
        for path in &paths {
            let bytes = std::fs::read(path).unwrap_or_default();
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a secret",
                path.display()
            );
        }
    }
}
