//! The test harness: a `World` is one user's machine — a temporary HOME holding a config root
//! with profiles, and a running AWS emulator — and `World::run` starts the real atmos-auth binary
//! in it with a clean environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::emulator::{Emulator, Organization};

pub const BIN: &str = env!("CARGO_BIN_EXE_atmos-auth");

static WORLDS: AtomicUsize = AtomicUsize::new(0);

pub struct World {
    pub home: tempfile::TempDir,
    pub emulator: Emulator,
    /// The IAM Identity Center start URL, unique per world so that no two tests share cached
    /// sessions in a per-user keyring.
    pub start_url: String,
    env: BTreeMap<String, String>,
}

impl World {
    /// A world around the demo organisation with device codes approved as soon as they are
    /// issued, and the `dev` profile of `default_profile` written.
    pub fn new() -> Self {
        Self::with_org(test_org())
    }

    pub fn with_org(org: Organization) -> Self {
        let emulator = Emulator::start(org);
        emulator.set_auto_approve(true);
        let home = tempfile::tempdir().expect("temp dir");
        let n = WORLDS.fetch_add(1, Ordering::SeqCst);
        let start_url = format!("https://test-{}-{n}.awsapps.com/start", std::process::id());
        let mut env = BTreeMap::new();
        let h = home.path();
        env.insert("HOME".into(), h.display().to_string());
        env.insert(
            "XDG_CONFIG_HOME".into(),
            h.join(".config").display().to_string(),
        );
        env.insert(
            "XDG_CACHE_HOME".into(),
            h.join(".cache").display().to_string(),
        );
        env.insert(
            "XDG_DATA_HOME".into(),
            h.join(".local/share").display().to_string(),
        );
        env.insert("PATH".into(), std::env::var("PATH").unwrap_or_default());
        if let Ok(address) = std::env::var("DBUS_SESSION_BUS_ADDRESS") {
            env.insert("DBUS_SESSION_BUS_ADDRESS".into(), address);
        }
        env.insert("AWS_ENDPOINT_URL".into(), emulator.url());
        env.insert("ATMOS_KEYRING_TYPE".into(), default_store().into());
        let world = Self {
            home,
            emulator,
            start_url,
            env,
        };
        world.write("repo/atmos.yaml", &world.base_config());
        world.write("repo/profiles/dev/atmos.yaml", DEV_PROFILE);
        world
    }

    /// The shared base config: accounts map and the SSO provider.
    /// Writes [`Self::base_config`] with `auto_provision_identities` on for its provider.
    pub fn auto_provision(&self) {
        self.write(
            "repo/atmos.yaml",
            &format!(
                "{}      auto_provision_identities: true\n",
                self.base_config()
            ),
        );
    }

    pub fn base_config(&self) -> String {
        format!(
            "accounts:\n  plat-dev: \"222222222222\"\n  plat-staging: \"333333333333\"\n  plat-prod: \"444444444444\"\n\
             auth:\n  providers:\n    sso:\n      kind: aws/iam-identity-center\n      region: us-east-1\n      start_url: {}\n",
            self.start_url
        )
    }

    pub fn root(&self) -> PathBuf {
        self.home.path().join("repo")
    }

    pub fn write(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.home.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// A command line ready to run in this world, from the config root, with profile `dev`.
    pub fn cmd(&self, args: &[&str]) -> Run {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env_clear()
            .envs(&self.env)
            .current_dir(self.root());
        if !self.env.contains_key("ATMOS_PROFILE") {
            command.env("ATMOS_PROFILE", "dev");
        }
        Run {
            command,
            stdin: None,
        }
    }

    pub fn run(&self, args: &[&str]) -> Outcome {
        self.cmd(args).run()
    }

    /// (account id, permission set) of every GetRoleCredentials the emulator answered, in order.
    pub fn fetched_roles(&self) -> Vec<(String, String)> {
        self.emulator
            .requests()
            .into_iter()
            .filter(|r| r.op == crate::emulator::Op::GetRoleCredentials && r.status == 200)
            .map(|r| {
                (
                    r.account_id.unwrap_or_default(),
                    r.role_name.unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Log in with the emulator approving the code.
    pub fn login(&self) -> Outcome {
        self.run(&["login"]).success()
    }
}

/// The store tests use unless they say otherwise: what users get by default (`system`: the
/// kernel keyring in front of the Secret Service) when the test session has a Secret Service
/// (tests/keyring-session.sh starts one), else the kernel keyring alone.
pub fn default_store() -> &'static str {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        "system"
    } else {
        "keyutils"
    }
}

/// The demo organisation with a short polling interval.
pub fn test_org() -> Organization {
    let mut org = Organization::demo();
    org.settings.poll_interval_secs = 1;
    org.settings.enforce_poll_interval = false;
    org
}

pub const DEV_PROFILE: &str = "\
description: Developers
auth:
  identities:
    plat-dev/terraform:
      kind: aws/permission-set
      default: true
      alias: dev
      via:
        provider: sso
      principal:
        name: TerraformApplyAccess
        account:
          name: plat-dev
    plat-prod/terraform:
      kind: aws/permission-set
      via:
        provider: sso
      principal:
        name: TerraformPlanAccess
        account:
          name: plat-prod
    core-identity/state:
      kind: aws/permission-set
      via:
        provider: sso
      principal:
        name: TerraformStateAccess
        account:
          name: core-identity
    plat-prod/admin:
      kind: aws/permission-set
      via:
        provider: sso
      principal:
        name: AdministratorAccess
        account:
          id: \"444444444444\"
";

pub struct Run {
    pub command: Command,
    stdin: Option<String>,
}

impl Run {
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.command.env(name, value);
        self
    }

    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.command.current_dir(dir);
        self
    }

    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_owned());
        self
    }

    pub fn run(mut self) -> Outcome {
        self.command.stdout(Stdio::piped());
        self.finish()
    }

    /// Run with a stdout whose reader has already gone away, as `atmos-auth … | head -0` gives
    /// it: every write to it fails with a broken pipe. Stdout is reported empty.
    pub fn run_with_closed_stdout(mut self) -> Outcome {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        self.command.stdout(writer);
        self.finish()
    }

    fn finish(mut self) -> Outcome {
        self.command.stdin(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("spawn atmos-auth");
        // A closed stdin (after any given input) is what a script or CI gives.
        let mut stdin = child.stdin.take().expect("piped");
        if let Some(text) = self.stdin {
            std::io::Write::write_all(&mut stdin, text.as_bytes()).expect("write stdin");
        }
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        Outcome {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    #[track_caller]
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(
            self.code,
            Some(expected),
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn success(self) -> Self {
        self.code(0)
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stderr\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n--- stdout\n{}",
            self.stdout
        );
        self
    }

    /// The variables of `env --format json`.
    pub fn json_vars(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}
