//! Unit tests of the access matrix: parsing the matrix file, computing cells from loaded
//! configs, and comparing. The fixtures are shared with the rendering tests in
//! `output::matrix`.

use super::*;
use std::path::{Path, PathBuf};

const BASE: &str = "\
accounts:
  root: \"000000000001\"
  core-dns: \"000000000006\"
  core-identity: \"000000000004\"
  plat-dev: \"000000000009\"
auth:
  providers:
    sso: { kind: aws/iam-identity-center, region: us-east-1, start_url: https://x.awsapps.com/start }
    github: { kind: github/oidc }
";

const MATRIX: &str = "\
tiers:
  Root: [root]
  Core accounts: [core-identity, core-dns]
  Dev: [plat-dev]
expected:
  humans: { Root: State, Core accounts: Write, Dev: Write }
  machines: { Root: State, Dev: Read, Core accounts: Read }
";

fn ps(name: &str, set: &str, account: &str) -> String {
    format!(
        "    {name}:\n      kind: aws/permission-set\n      via: {{ provider: sso }}\n      principal: {{ name: {set}, account: {{ name: {account} }} }}\n"
    )
}

fn role(name: &str, arn: &str) -> String {
    format!(
        "    {name}:\n      kind: aws/assume-role\n      via: {{ provider: github }}\n      principal: {{ assume_role: \"{arn}\" }}\n"
    )
}

fn config(profile: &str, identities: &str) -> (String, Config) {
    let text = match identities {
        "" => format!("description: The {profile}\n"),
        _ => format!("description: The {profile}\nauth:\n  identities:\n{identities}"),
    };
    let config = crate::config::from_sources(
        PathBuf::from("/r"),
        Some(profile),
        &[
            ("/r/atmos.yaml".into(), BASE.into()),
            (format!("/r/profiles/{profile}/atmos.yaml").into(), text),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (profile.to_owned(), config)
}

pub(crate) fn humans() -> (String, Config) {
    config(
        "humans",
        &[
            ps("root/terraform", "TerraformStateAccess", "root"),
            ps(
                "core-identity/terraform",
                "TerraformApplyAccess",
                "core-identity",
            ),
            ps("core-dns/terraform", "TerraformApplyAccess", "core-dns"),
            ps("plat-dev/terraform", "TerraformPlanAccess", "plat-dev"),
            // The admin identity lifts plat-dev to Write.
            ps("plat-dev/admin", "AdministratorAccess", "plat-dev"),
        ]
        .concat(),
    )
}

pub(crate) fn machines() -> (String, Config) {
    config(
        "machines",
        &[
            role(
                "root/terraform",
                "arn:aws:iam::000000000001:role/TerraformStateAccess",
            ),
            role(
                "core-identity/terraform",
                "arn:aws:iam::000000000004:role/TerraformApplyAccess",
            ),
            role(
                "core-dns/terraform",
                "arn:aws:iam::000000000006:role/TerraformPlanAccess",
            ),
            role(
                "plat-dev/terraform",
                "arn:aws:iam::000000000009:role/TerraformPlanAccess",
            ),
        ]
        .concat(),
    )
}

pub(crate) fn declared() -> Declared {
    parse(Path::new("matrix.yaml"), MATRIX).unwrap()
}

#[test]
fn levels_come_from_permission_sets_and_role_names() {
    assert_eq!(Level::of_principal("PowerUserAccess"), Some(Level::Write));
    assert_eq!(Level::of_principal("ReadOnlyAccess"), Some(Level::Read));
    assert_eq!(
        Level::of_principal("TerraformStateAccess"),
        Some(Level::State)
    );
    assert_eq!(Level::of_principal("BillingAccess"), None);
    assert!(Level::Write > Level::Read && Level::Read > Level::State);
}

#[test]
fn the_file_keeps_its_order_and_rows_follow_the_tiers() {
    let declared = declared();
    let tiers: Vec<_> = declared.tiers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tiers, ["Root", "Core accounts", "Dev"]);
    assert_eq!(
        declared.profiles().collect::<Vec<_>>(),
        ["humans", "machines"]
    );
    assert_eq!(
        declared.expected[1].1,
        [
            ("Root".to_owned(), Level::State),
            ("Core accounts".to_owned(), Level::Read),
            ("Dev".to_owned(), Level::Read),
        ]
    );
}

#[test]
fn a_bad_file_says_what_is_wrong() {
    let cases = [
        (MATRIX.replace("Dev: Write", "Dev: Wrte"), "Wrte"),
        (
            MATRIX.replace("Dev: Write", "Dve: Write"),
            "`expected.humans` names tier `Dve`",
        ),
        (
            MATRIX.replace(", Dev: Write", ""),
            "`expected.humans` gives no level for tier `Dev`",
        ),
        (
            MATRIX.replace("[plat-dev]", "[plat-dev, root]"),
            "account `root` is in tier `Root` and in tier `Dev`",
        ),
        (MATRIX.replace("tiers:", "teirs:"), "teirs"),
    ];
    for (text, needle) in cases {
        let error = parse(Path::new("m.yaml"), &text).unwrap_err().to_string();
        assert!(error.contains(needle), "{needle}: {error}");
        assert!(error.contains("`m.yaml`"), "{error}");
    }
}

#[test]
fn cells_take_the_highest_level_per_account_and_show_disagreement() {
    let matrix = compute(&declared().tiers, &[humans(), machines()]);
    let texts: Vec<Vec<String>> = matrix
        .rows
        .iter()
        .map(|row| row.cells.iter().map(Cell::text).collect())
        .collect();
    assert_eq!(
        texts,
        [
            ["State", "Write", "Write"],
            [
                "State",
                "mixed: Write (core-identity), Read (core-dns)",
                "Read"
            ]
        ]
    );
    let dev = &matrix.rows[0].cells[2].accounts[0];
    assert_eq!(
        dev.grant.as_ref().unwrap().to_string(),
        "plat-dev/admin → AdministratorAccess"
    );
    assert!(matrix.problems.is_empty(), "{:?}", matrix.problems);
}

#[test]
fn compare_names_every_cell_that_differs() {
    let declared = declared();
    let matrix = compute(&declared.tiers, &[humans(), machines()]);
    let findings: Vec<String> = compare(&matrix, &declared)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        findings,
        [
            "machines / Core accounts: expected Read, found mixed: Write (core-identity), Read (core-dns) (core-identity/terraform → TerraformApplyAccess)"
        ]
    );
    assert_eq!(cells_compared(&matrix, &declared), 6);
    let only_humans = compute(&declared.tiers, &[humans(), config("extra", "")]);
    let findings: Vec<String> = compare(&only_humans, &declared)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        findings,
        [
            "machines: declared in the matrix, but there is no profile `machines`",
            "extra: profile not declared in the matrix file's `expected`",
        ]
    );
}

#[test]
fn a_missing_account_and_a_stale_role_arn_are_reported() {
    let declared = declared();
    let stale = config(
        "machines",
        &[
            role(
                "core-identity/terraform",
                "arn:aws:iam::000000000004:role/TerraformPlanAccess",
            ),
            // An account id the accounts map gives to core-identity, not core-dns.
            role(
                "core-dns/terraform",
                "arn:aws:iam::000000000004:role/TerraformPlanAccess",
            ),
            ps("plat-dev/readonly", "ReadOnlyAccess", "plat-dev"),
        ]
        .concat(),
    );
    let matrix = compute(&declared.tiers, &[stale]);
    let problems: Vec<String> = matrix.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "machines: `core-dns/terraform` is named for account `core-dns` (000000000006 in `accounts:`) but targets account `000000000004`",
            "machines: has access to `plat-dev` but no `plat-dev/terraform` identity",
        ]
    );
    let findings: Vec<String> = compare(&matrix, &declared)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        findings[..2],
        [
            "humans: declared in the matrix, but there is no profile `humans`",
            "machines / Root: expected State, found None (no identity in root)",
        ]
    );
    assert_eq!(findings.len(), 4, "{findings:?}");
}
