//! The shipped reference profiles (`profiles/`, over the base `atmos.yaml` at the repository
//! root, which `examples/infra/` links to) and the access matrix as code: they validate,
//! `matrix` reproduces the seeds' table and `--check` holds them to `profiles/matrix.yaml`,
//! and against an organisation whose assignments follow
//! the matrix each human profile gets exactly the permission sets the matrix says.
//! See: issue 6.

use std::path::{Path, PathBuf};

use crate::emulator::{Account, Op};
use crate::harness::{World, test_org};

/// The table in the seeds (atmos-auth-profiles.txt) and in issue 6, byte for byte.
const SEEDS_TABLE: &str = "\
| profile | Root | Core accounts | Dev/Sandbox | Staging/Prod |
|---|---|---|---|---|
| managers | Write | Write | Write | Write |
| devops | Read | Write | Write | Write |
| developers | State | State | Write | Read |
| github-plan | State | Read | Read | Read |
| github-apply | State | Write | Write | Write |
";

/// The reference architecture's accounts, in the order of their placeholder ids
/// (`000000000001` …) in the root atmos.yaml, with the tier (column) each belongs to.
const ACCOUNTS: [(&str, usize); 12] = [
    ("root", 1),
    ("core-audit", 2),
    ("core-security", 2),
    ("core-identity", 2),
    ("core-network", 2),
    ("core-dns", 2),
    ("core-auto", 2),
    ("core-artifacts", 2),
    ("plat-dev", 3),
    ("plat-sandbox", 3),
    ("plat-staging", 4),
    ("plat-prod", 4),
];

fn account_id(account: &str) -> String {
    let index = ACCOUNTS.iter().position(|(a, _)| *a == account).unwrap();
    format!("{:012}", index + 1)
}

/// The level the seeds' table gives `profile` for `account`.
fn level(profile: &str, account: &str) -> &'static str {
    let column = ACCOUNTS.iter().find(|(a, _)| *a == account).unwrap().1;
    let row = SEEDS_TABLE
        .lines()
        .find(|line| line.starts_with(&format!("| {profile} |")))
        .unwrap();
    row.split('|').map(str::trim).nth(column + 1).unwrap()
}

/// The Terraform permission set and the human one of a level.
fn permission_sets(level: &str) -> (&'static str, Option<(&'static str, &'static str)>) {
    match level {
        "Write" => (
            "TerraformApplyAccess",
            Some(("admin", "AdministratorAccess")),
        ),
        "Read" => ("TerraformPlanAccess", Some(("readonly", "ReadOnlyAccess"))),
        "State" => ("TerraformStateAccess", None),
        other => panic!("unknown level {other}"),
    }
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/infra")
}

/// Copies a tree, following links: the copy's `profiles` is a plain directory.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let source = entry.path();
        let target = to.join(entry.file_name());
        if std::fs::metadata(&source).unwrap().is_dir() {
            copy_tree(&source, &target);
        } else {
            std::fs::copy(&source, &target).unwrap();
        }
    }
}

/// A world whose config root (`repo/`) is a copy of examples/infra with the harness's start
/// URL, and whose emulator's organisation grants what the seeds' table gives `org_profile`.
fn world_for(org_profile: &str) -> World {
    let mut org = test_org();
    org.accounts = ACCOUNTS
        .iter()
        .map(|(account, _)| {
            let (terraform, human) = permission_sets(level(org_profile, account));
            let mut sets = vec![terraform.to_owned()];
            sets.extend(human.map(|(_, set)| set.to_owned()));
            Account {
                id: account_id(account),
                name: (*account).to_owned(),
                email: format!("aws+{account}@example.com"),
                permission_sets: sets,
            }
        })
        .collect();
    org.roles.clear();
    org.iam_users.clear();
    let world = World::with_org(org);
    copied_root(&world);
    let base = std::fs::read_to_string(world.root().join("atmos.yaml")).unwrap();
    let placeholder = "https://your-org.awsapps.com/start";
    assert!(base.contains(placeholder), "{base}");
    world.write(
        "repo/atmos.yaml",
        &base.replace(placeholder, &world.start_url),
    );
    world
}

/// Replaces the harness's `repo/` with a copy of examples/infra (profiles copied, not linked).
fn copied_root(world: &World) {
    std::fs::remove_dir_all(world.root()).unwrap();
    copy_tree(&examples(), &world.root());
}

#[test]
fn the_shipped_profiles_validate_cleanly() {
    let world = World::new();
    let root = examples();
    let out = world
        .run(&[
            "--config-dir",
            root.to_str().unwrap(),
            "validate",
            "--all-profiles",
        ])
        .success();
    let ok: Vec<&str> = out
        .stdout
        .lines()
        .map(|line| line.split(':').next().unwrap())
        .collect();
    assert_eq!(ok, ["ok"; 5], "{}", out.stdout);
    for profile in [
        "developers",
        "devops",
        "github-apply",
        "github-plan",
        "managers",
    ] {
        assert!(
            out.stdout
                .contains(&format!("ok: profile `{profile}`: 2 providers")),
            "{}",
            out.stdout
        );
    }
    assert_eq!(out.stderr, "");
    assert_eq!(world.emulator.calls_total(), 0);
}

/// The repository's own root (found from the working directory, as a user of a clone would)
/// is a config root for all five shipped profiles.
#[test]
fn the_repository_root_is_a_config_root_for_the_shipped_profiles() {
    let world = World::new();
    let repository = Path::new(env!("CARGO_MANIFEST_DIR"));
    let from_root = |args: &[&str]| {
        world
            .cmd(args)
            .env("ATMOS_PROFILE", "")
            .current_dir(repository)
            .run()
    };
    let out = from_root(&["--profile", "devops", "validate"]).success();
    assert!(
        out.stdout
            .starts_with("ok: profile `devops`: 2 providers, "),
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr, "");
    let out = from_root(&["validate", "--all-profiles"]).success();
    assert_eq!(out.stdout.lines().count(), 5, "{}", out.stdout);
    assert!(
        out.stdout
            .lines()
            .all(|line| line.contains(": 2 providers, ")),
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr, "");
    let out = from_root(&["matrix", "--check"]).success();
    assert_eq!(
        out.stderr,
        "ok: 5 profiles match `profiles/matrix.yaml` in all 20 cells\n"
    );
    let out = from_root(&["profiles"]).success();
    assert!(!out.stdout.contains("(invalid"), "{}", out.stdout);
    assert_eq!(out.stdout.lines().count(), 5, "{}", out.stdout);
    assert_eq!(out.stderr, "");
    assert_eq!(world.emulator.calls_total(), 0);
}

#[test]
fn matrix_reproduces_the_seeds_table_and_the_check_passes() {
    let world = World::new();
    let root = examples();
    let root = root.to_str().unwrap();
    let out = world
        .run(&["--config-dir", root, "matrix", "--format", "markdown"])
        .success();
    assert_eq!(out.stdout, SEEDS_TABLE);
    assert_eq!(out.stderr, "");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&out.stdout),
        "README.md shows the computed matrix"
    );
    let out = world
        .run(&["--config-dir", root, "matrix", "--check"])
        .success();
    assert_eq!(
        out.stdout,
        "\
profile       Root   Core accounts  Dev/Sandbox  Staging/Prod
managers      Write  Write          Write        Write
devops        Read   Write          Write        Write
developers    State  State          Write        Read
github-plan   State  Read           Read         Read
github-apply  State  Write          Write        Write
"
    );
    assert_eq!(
        out.stderr,
        format!("ok: 5 profiles match `{root}/profiles/matrix.yaml` in all 20 cells\n")
    );
    let json: serde_json::Value = serde_json::from_str(
        &world
            .run(&["--config-dir", root, "matrix", "--format", "json"])
            .success()
            .stdout,
    )
    .unwrap();
    let developers = &json["profiles"][2];
    assert_eq!(developers["name"], "developers");
    assert_eq!(developers["description"], "Limited access");
    assert_eq!(
        developers["cells"][3]["accounts"][1],
        serde_json::json!({"account": "plat-prod", "level": "Read", "identity": "plat-prod/terraform", "principal": "TerraformPlanAccess"})
    );
    assert_eq!(world.emulator.calls_total(), 0, "matrix never calls AWS");
}

#[test]
fn matrix_check_names_the_cell_when_one_permission_set_changes() {
    let world = World::new();
    copied_root(&world);
    let file = world.root().join("profiles/developers/atmos.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let planned = "principal: { name: TerraformPlanAccess, account: { name: plat-staging } }";
    assert_eq!(text.matches(planned).count(), 1);
    std::fs::write(
        &file,
        text.replace(planned, &planned.replace("Plan", "Apply")),
    )
    .unwrap();
    let out = world.run(&["matrix", "--check"]).code(1);
    assert_eq!(
        out.stderr,
        "\
error: the profiles differ from `profiles/matrix.yaml` (1 finding):
  developers / Staging/Prod: expected Read, found mixed: Write (plat-staging), Read (plat-prod) (plat-staging/terraform → TerraformApplyAccess)
hint: fix the profiles, or update `profiles/matrix.yaml` if the change of access is intended
"
    );
    assert!(
        out.stdout.lines().any(|line| line
            == "developers    State  State          Write        mixed: Write (plat-staging), Read (plat-prod)"),
        "{}",
        out.stdout
    );
    // The same file named explicitly, from elsewhere; and the whole tier changed.
    std::fs::write(
        &file,
        text.replace("TerraformPlanAccess", "TerraformApplyAccess"),
    )
    .unwrap();
    let matrix = world.root().join("profiles/matrix.yaml");
    world
        .cmd(&["--config-dir", "repo", "matrix", "--check", matrix.to_str().unwrap()])
        .current_dir(world.home.path())
        .run()
        .code(1)
        .stderr_has("  developers / Staging/Prod: expected Read, found Write (plat-staging/terraform → TerraformApplyAccess, plat-prod/terraform → TerraformApplyAccess)\n");
    // Without `--check` nothing is compared.
    world.run(&["matrix"]).success();
    // A matrix file that cannot be read is a usage error, not a mismatch.
    world
        .run(&["matrix", "--check", "missing.yaml"])
        .code(2)
        .stderr_has("error: matrix file `missing.yaml` does not exist\n");
}

/// A tier name is text from a file: every format shows its control characters as escapes, the
/// same way `list` does, and JSON keeps the value while escaping them (issue 16).
#[test]
fn matrix_escapes_hostile_tier_names_in_every_format() {
    let world = World::new();
    copied_root(&world);
    let matrix = world.root().join("profiles/matrix.yaml");
    let text = std::fs::read_to_string(&matrix).unwrap();
    std::fs::write(
        &matrix,
        text.replace(
            "Staging/Prod",
            r#""Staging\e]0;pwned\a\u009b2J\u202e/Prod""#,
        ),
    )
    .unwrap();
    let file = world.root().join("profiles/developers/atmos.yaml");
    let profile = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        profile.replace("TerraformPlanAccess", "TerraformApplyAccess"),
    )
    .unwrap();
    let escaped = r"Staging\u{1b}]0;pwned\u{7}\u{9b}2J\u{202e}/Prod";
    let unsafe_char =
        |c: char| c.is_control() && c != '\n' || ('\u{202a}'..='\u{202e}').contains(&c);

    let table = world.run(&["matrix", "--check"]).code(1);
    assert!(
        table.stdout.lines().next().unwrap().ends_with(escaped),
        "{}",
        table.stdout
    );
    assert!(
        table.stderr.contains(&format!(
            "  developers / {escaped}: expected Read, found Write"
        )),
        "{}",
        table.stderr
    );
    assert!(!table.stderr.chars().any(unsafe_char), "{:?}", table.stderr);

    let json = world
        .run(&["matrix", "--check", "--format", "json"])
        .code(1);
    assert!(!json.stdout.chars().any(unsafe_char), "{:?}", json.stdout);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        value["tiers"][3]["name"],
        "Staging\u{1b}]0;pwned\u{7}\u{9b}2J\u{202e}/Prod"
    );
}

#[test]
fn profiles_lists_the_five_with_descriptions() {
    let world = World::new();
    let root = examples();
    let out = world
        .cmd(&["--config-dir", root.to_str().unwrap(), "profiles"])
        .env("ATMOS_PROFILE", "devops")
        .run()
        .success();
    assert_eq!(
        out.stdout,
        "  developers    Limited access                from profiles/developers
* devops        Full access to most accounts  from profiles/devops
  github-apply  CI/CD apply operations        from profiles/github-apply
  github-plan   CI/CD plan operations         from profiles/github-plan
  managers      Full access to all accounts   from profiles/managers
"
    );
    assert_eq!(out.stderr, "");
}

/// Runs `env IDENTITY` as `profile` and returns the permission set and account of the
/// GetRoleCredentials call it made.
fn credentials_for(world: &World, profile: &str, identity: &str) -> (String, String) {
    let before = world.emulator.requests().len();
    let vars = world
        .cmd(&["env", identity, "--format", "json"])
        .env("ATMOS_PROFILE", profile)
        .run()
        .success()
        .json_vars();
    assert!(
        vars["AWS_SESSION_TOKEN"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let calls: Vec<_> = world.emulator.requests()[before..]
        .iter()
        .filter(|r| r.op == Op::GetRoleCredentials)
        .cloned()
        .collect();
    assert_eq!(calls.len(), 1, "{identity}: {calls:?}");
    assert_eq!(calls[0].status, 200);
    (
        calls[0].role_name.clone().unwrap(),
        calls[0].account_id.clone().unwrap(),
    )
}

/// `profile` against an organisation that follows the matrix for it: every `<account>/terraform`
/// and every admin/readonly identity yields credentials for the permission set the matrix
/// says. Then, against the organisation of `lower` (a profile with less access somewhere),
/// the first identity beyond what that grants is refused with one clear line.
fn human_profile_follows_the_matrix(profile: &str, lower: &str) {
    let world = world_for(profile);
    world
        .cmd(&["login"])
        .env("ATMOS_PROFILE", profile)
        .run()
        .success();
    for (account, _) in ACCOUNTS {
        let (terraform, human) = permission_sets(level(profile, account));
        assert_eq!(
            credentials_for(&world, profile, &format!("{account}/terraform")),
            (terraform.to_owned(), account_id(account)),
            "{profile}: {account}/terraform"
        );
        if let Some((purpose, set)) = human {
            assert_eq!(
                credentials_for(&world, profile, &format!("{account}/{purpose}")),
                (set.to_owned(), account_id(account)),
                "{profile}: {account}/{purpose}"
            );
        }
    }

    let world = world_for(lower);
    world
        .cmd(&["login"])
        .env("ATMOS_PROFILE", profile)
        .run()
        .success();
    let rank = |level: &str| ["State", "Read", "Write"].iter().position(|l| *l == level);
    let (account, _) = ACCOUNTS
        .iter()
        .find(|(account, _)| rank(level(profile, account)) > rank(level(lower, account)))
        .unwrap();
    let (terraform, _) = permission_sets(level(profile, account));
    let out = world
        .cmd(&["env", &format!("{account}/terraform")])
        .env("ATMOS_PROFILE", profile)
        .run()
        .code(1);
    assert_eq!(
        out.stderr,
        format!(
            "error: permission set `{terraform}` is not assigned to you in account `{}`\n\
             hint: check the identity's `principal` in your profile, or ask an administrator for the assignment\n",
            account_id(account)
        )
    );
    assert_eq!(out.stdout, "");
    let refused = world
        .emulator
        .requests()
        .into_iter()
        .rfind(|r| r.op == Op::GetRoleCredentials)
        .unwrap();
    assert_eq!(refused.status, 403);
    assert_eq!(refused.role_name.as_deref(), Some(terraform));
}

#[test]
fn managers_get_what_the_matrix_grants_and_no_more() {
    human_profile_follows_the_matrix("managers", "devops");
}

#[test]
fn devops_get_what_the_matrix_grants_and_no_more() {
    human_profile_follows_the_matrix("devops", "developers");
}

#[test]
fn developers_get_what_the_matrix_grants_and_no_more() {
    // The github-plan row as permission sets: Read where developers have Write.
    human_profile_follows_the_matrix("developers", "github-plan");
}
