//! Data-driven tests: YAML in, and the expected `Config` or diagnostics (with positions) out.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

const BASE: &str = "atmos.yaml";
const PROFILE: &str = "profiles/devops/atmos.yaml";

/// A complete, valid configuration that the error cases below vary.
const VALID: &str = r#"
description: DevOps access
accounts:
  plat-dev: "111111111111"
stacks:
  name_pattern: "{tenant}-{stage}"
auth:
  keyring:
    type: memory
  refresh_margin: 10m
  providers:
    sso:
      kind: aws/iam-identity-center
      region: us-east-1
      start_url: https://example.awsapps.com/start
      auto_provision_identities: true
      session:
        duration: 8h
      spec:
        endpoint_url: http://127.0.0.1:4566
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
      env:
        AWS_REGION: us-west-2
        AWS_MAX_ATTEMPTS: 3
    plat-prod/admin:
      kind: aws/permission-set
      via: { provider: sso }
      principal: { name: AdministratorAccess, account: { id: "222222222222" } }
    core-audit/read:
      kind: aws/permission-set
      default: true
      via: { provider: sso }
      principal: { name: ReadOnlyAccess, account: { name: core-audit } }
"#;

fn from_strs(files: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let sources: Vec<(PathBuf, String)> = files
        .iter()
        .map(|(path, text)| (PathBuf::from(path), text.to_string()))
        .collect();
    from_sources(PathBuf::from("."), None, &sources)
}

/// Every diagnostic as `file:line:col: message`, plus `help: hint` when there is one.
fn diagnostics(files: &[(&str, &str)]) -> Vec<String> {
    match from_strs(files) {
        Ok(config) => panic!("expected diagnostics, got {config:#?}"),
        Err(ConfigError::Invalid { diagnostics }) => diagnostics
            .iter()
            .map(|d| match &d.hint {
                Some(hint) => format!("{}: {} | help: {hint}", d.location, d.message),
                None => format!("{}: {}", d.location, d.message),
            })
            .collect(),
        Err(other) => panic!("expected Invalid, got {other:?}"),
    }
}

/// Checks that the diagnostics are exactly `expected`: the same number, each rendered
/// diagnostic equal to the one at its index, hint included. Reports every mismatch at once.
#[track_caller]
fn assert_diagnostics(files: &[(&str, &str)], expected: &[&str]) {
    let actual = diagnostics(files);
    let mismatches: Vec<String> = (0..actual.len().max(expected.len()))
        .filter_map(|i| match (actual.get(i), expected.get(i)) {
            (Some(a), Some(e)) if a == e => None,
            (a, e) => Some(format!("  #{i}: expected {e:?}\n       actual   {a:?}")),
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "diagnostics differ:\n{}\nall actual:\n  {}",
        mismatches.join("\n"),
        actual.join("\n  ")
    );
}

/// The valid config with `from` replaced by `to` (which must occur exactly once).
fn edit(from: &str, to: &str) -> String {
    assert_eq!(
        VALID.matches(from).count(),
        1,
        "`{from}` must occur once in VALID"
    );
    VALID.replacen(from, to, 1)
}

/// Declares one test per case: a YAML file (or base and profile) and the expected diagnostics.
macro_rules! invalid {
  ($($name:ident: $yaml:expr => [$($expected:expr),* $(,)?];)*) => {
    $(
      #[test]
      fn $name() {
        assert_diagnostics(&[(BASE, &$yaml)], &[$($expected),*]);
      }
    )*
  };
}

// Declared after `invalid!` so that they can use it; they share this file's helpers too.
mod identity_graph;
mod identity_kinds;

#[test]
fn exec_credentials_default_to_none_and_read_env_or_server() {
    assert_eq!(
        from_strs(&[(BASE, VALID)]).unwrap().auth.exec_credentials,
        None
    );
    for (word, expected) in [
        ("env", ExecCredentials::Env),
        ("server", ExecCredentials::Server),
    ] {
        let text = edit(
            "refresh_margin: 10m\n",
            &format!("refresh_margin: 10m\n  exec:\n    credentials: {word}\n"),
        );
        let config = from_strs(&[(BASE, &text)]).unwrap();
        assert_eq!(config.auth.exec_credentials, Some(expected));
    }
}

#[test]
fn valid_config_builds_the_expected_structs() {
    let config = from_strs(&[(BASE, VALID)]).unwrap();
    assert_eq!(config.description.as_deref(), Some("DevOps access"));
    assert_eq!(config.files, [PathBuf::from(BASE)]);
    assert_eq!(
        config.accounts,
        BTreeMap::from([("plat-dev".to_owned(), "111111111111".parse().unwrap())])
    );
    assert_eq!(config.auth.keyring, Some(crate::store::StoreKind::Memory));
    assert_eq!(config.auth.refresh_margin, Some(Duration::from_secs(600)));
    let sso = &config.auth.providers["sso"];
    assert_eq!(
        *sso,
        Provider {
            name: "sso".to_owned(),
            kind: ProviderKind::IdentityCenter(IdentityCenter {
                region: "us-east-1".to_owned(),
                start_url: "https://example.awsapps.com/start".to_owned(),
                session_duration: Some(Duration::from_secs(8 * 3600)),
                endpoint_url: Some("http://127.0.0.1:4566".to_owned()),
                auto_provision_identities: true,
                login: LoginMethod::Browser,
            }),
            tags: Default::default(),
            location: Location {
                file: BASE.into(),
                line: 12,
                column: 5
            },
        }
    );
    let terraform = &config.auth.identities["plat-dev/terraform"];
    assert_eq!(
        *terraform,
        Identity {
            name: "plat-dev/terraform".to_owned(),
            kind: IdentityKind::PermissionSet {
                provider: "sso".to_owned(),
                permission_set: "TerraformApplyAccess".to_owned(),
                account: AccountRef::Id("111111111111".parse().unwrap()),
            },
            default: true,
            alias: Some("dev".to_owned()),
            env: BTreeMap::from([
                ("AWS_MAX_ATTEMPTS".to_owned(), "3".to_owned()),
                ("AWS_REGION".to_owned(), "us-west-2".to_owned())
            ]),
            region: None,
            tags: Default::default(),
            location: Location {
                file: BASE.into(),
                line: 22,
                column: 5
            },
        }
    );
    let admin = &config.auth.identities["plat-prod/admin"];
    assert!(
        matches!(&admin.kind, IdentityKind::PermissionSet { account: AccountRef::Id(id), .. } if id.as_str() == "222222222222")
    );
    assert!(!admin.default && admin.alias.is_none() && admin.env.is_empty());
    // A name missing from `accounts:` stays a name, for the portal to resolve later.
    let audit = &config.auth.identities["core-audit/read"];
    assert!(
        matches!(&audit.kind, IdentityKind::PermissionSet { account: AccountRef::Name(name), .. } if name == "core-audit")
    );
}

#[test]
fn lookups_by_name_alias_default_and_provider() {
    let config = from_strs(&[(BASE, VALID)]).unwrap();
    assert_eq!(config.identity("dev").unwrap().name, "plat-dev/terraform");
    assert_eq!(
        config.identity("plat-prod/admin").unwrap().name,
        "plat-prod/admin"
    );
    assert!(config.identity("nope").is_none());
    // Several defaults are not an error; the caller chooses.
    let defaults: Vec<&str> = config
        .default_identities()
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(defaults, ["core-audit/read", "plat-dev/terraform"]);
    assert_eq!(
        config
            .provider_for(config.identity("dev").unwrap())
            .unwrap()
            .name,
        "sso"
    );
}

#[test]
fn minimal_provider_and_empty_files() {
    let yaml = "auth:\n  providers:\n    sso:\n      kind: aws/iam-identity-center\n      region: eu-west-1\n      start_url: https://x.awsapps.com/start\n";
    let config = from_strs(&[(BASE, yaml)]).unwrap();
    let ProviderKind::IdentityCenter(sso) = &config.auth.providers["sso"].kind else {
        panic!("not an Identity Center provider")
    };
    assert_eq!(
        (
            sso.session_duration,
            sso.endpoint_url.as_deref(),
            sso.auto_provision_identities
        ),
        (None, None, false)
    );
    assert_eq!(
        (config.auth.keyring, config.auth.refresh_margin),
        (None, None)
    );
    for empty in ["", "# only a comment\n", "---\n", "~\n", "auth:\n"] {
        assert_eq!(
            from_strs(&[(BASE, empty)]).unwrap().auth,
            AuthConfig::default(),
            "{empty:?}"
        );
    }
}

#[test]
fn other_top_level_sections_are_ignored() {
    let yaml = "components:\n  terraform: {base_path: x}\ncomponents:\n  - dup is theirs to report\nsettings: !include x.yaml\nauth: {}\n";
    assert!(from_strs(&[(BASE, yaml)]).is_ok());
}

#[test]
fn anchors_and_merge_keys_are_expanded() {
    let yaml = r#"
auth:
  providers:
    sso: {kind: aws/iam-identity-center, region: us-east-1, start_url: "https://x.awsapps.com/start"}
  identities:
    a/terraform: &ps
      kind: aws/permission-set
      via: {provider: sso}
      principal: {name: TerraformApplyAccess, account: {id: "111111111111"}}
    b/terraform:
      <<: *ps
      alias: b
"#;
    let config = from_strs(&[(BASE, yaml)]).unwrap();
    assert_eq!(
        config.identity("b").unwrap().kind,
        config.auth.identities["a/terraform"].kind
    );
}

invalid! {
  unknown_field_in_provider_suggests_and_reports_missing:
    edit("      region: us-east-1\n", "      regoin: us-east-1\n") => [
      "atmos.yaml:12:5: missing required field `region` in `auth.providers.sso` | help: add `region: us-east-1` under `auth.providers.sso`",
      "atmos.yaml:14:7: unknown field `regoin` in `auth.providers.sso` | help: did you mean `region`?",
    ];
  unknown_field_in_auth:
    edit("  identities:\n", "  identites:\n") => [
      "atmos.yaml:21:3: unknown field `identites` in `auth` | help: did you mean `identities`?",
    ];
  unknown_field_without_close_match_lists_fields:
    edit("      alias: dev\n", "      alias: dev\n      zzz: 1\n") => [
      "atmos.yaml:26:7: unknown field `zzz` in `auth.identities.plat-dev/terraform` | help: valid fields: `kind`, `default`, `alias`, `via`, `principal`, `env`, `region`, `tags`",
    ];
  missing_start_url:
    edit("      start_url: https://example.awsapps.com/start\n", "") => [
      "atmos.yaml:12:5: missing required field `start_url` in `auth.providers.sso` | help: add `start_url: https://<org>.awsapps.com/start` under `auth.providers.sso`",
    ];
  missing_principal_and_account_fields:
    edit("        account:\n          name: plat-dev\n", "") => [
      "atmos.yaml:28:7: missing required field `account` in `auth.identities.plat-dev/terraform.principal` | help: add `account: { name: <account> }` under `auth.identities.plat-dev/terraform.principal`",
    ];
  providers_of_the_wrong_type:
    edit("  providers:\n    sso:\n", "  providers: [sso]\n  unused:\n    sso:\n") => [
      "atmos.yaml:11:14: `auth.providers` must be a mapping, found a list",
      "atmos.yaml:12:3: unknown field `unused` in `auth` | help: valid fields: `keyring`, `refresh_margin`, `exec`, `providers`, `identities`, `realm`",
      "atmos.yaml:28:19: unknown provider `sso` in `auth.identities.plat-dev/terraform.via.provider` | help: no providers are defined; add one under `auth.providers`",
      "atmos.yaml:38:24: unknown provider `sso` in `auth.identities.plat-prod/admin.via.provider` | help: no providers are defined; add one under `auth.providers`",
      "atmos.yaml:43:24: unknown provider `sso` in `auth.identities.core-audit/read.via.provider` | help: no providers are defined; add one under `auth.providers`",
    ];
  string_given_as_a_number:
    edit("        name: TerraformApplyAccess\n", "        name: 42\n") => [
      "atmos.yaml:29:15: `auth.identities.plat-dev/terraform.principal.name` must be a string, found an integer | help: quote it: `\"42\"`",
    ];
  bool_field_of_the_wrong_type:
    edit("      default: true\n      alias", "      default: yes\n      alias") => [
      "atmos.yaml:24:16: `auth.identities.plat-dev/terraform.default` must be `true` or `false`, found a string",
    ];
  unknown_provider_in_via_lists_defined_ones:
    edit("      via:\n        provider: sso\n", "      via:\n        provider: okta\n") => [
      "atmos.yaml:27:19: unknown provider `okta` in `auth.identities.plat-dev/terraform.via.provider` | help: defined providers: `sso`",
    ];
  unknown_provider_close_to_a_defined_one:
    edit("      via:\n        provider: sso\n", "      via:\n        provider: ssoo\n") => [
      "atmos.yaml:27:19: unknown provider `ssoo` in `auth.identities.plat-dev/terraform.via.provider` | help: did you mean `sso`?",
    ];
  account_id_too_short:
    edit("plat-dev: \"111111111111\"", "plat-dev: \"11111\"") => [
      "atmos.yaml:4:13: invalid account id for `accounts.plat-dev`: `11111` is not an AWS account id: it must be exactly 12 digits | help: copy the id from the AWS console, e.g. `\"111111111111\"`",
    ];
  account_id_unquoted_must_be_quoted:
    edit("plat-dev: \"111111111111\"", "plat-dev: 111111111111") => [
      "atmos.yaml:4:13: account id `111111111111` for `accounts.plat-dev` must be a quoted string | help: write `\"111111111111\"`: YAML reads a bare number as an integer and drops leading zeros",
    ];
  principal_account_id_malformed:
    edit("{ id: \"222222222222\" }", "{ id: \"2222-2222-2222\" }") => [
      "atmos.yaml:38:62: invalid account id for `auth.identities.plat-prod/admin.principal.account.id`: `2222-2222-2222` is not an AWS account id: it must be exactly 12 digits | help: copy the id from the AWS console, e.g. `\"111111111111\"`",
    ];
  principal_account_id_unquoted:
    edit("{ id: \"222222222222\" }", "{ id: 222222222222 }") => [
      "atmos.yaml:38:62: account id `222222222222` for `auth.identities.plat-prod/admin.principal.account.id` must be a quoted string | help: write `\"222222222222\"`: YAML reads a bare number as an integer and drops leading zeros",
    ];
  account_with_both_name_and_id:
    edit("{ id: \"222222222222\" }", "{ name: plat-dev, id: \"222222222222\" }") => [
      "atmos.yaml:38:78: `auth.identities.plat-prod/admin.principal.account` sets both `name` and `id` | help: keep only one of them",
    ];
  account_with_neither_name_nor_id:
    edit("{ id: \"222222222222\" }", "{}") => [
      "atmos.yaml:38:47: `auth.identities.plat-prod/admin.principal.account` needs a `name` or an `id` | help: add `name: <account name>` or `id: \"<12-digit id>\"`",
    ];
  duplicate_identity_names:
    edit("    core-audit/read:\n", "    plat-prod/admin:\n") => [
      "atmos.yaml:39:5: duplicate key `plat-prod/admin` in `auth.identities` | help: `plat-prod/admin` is first defined at atmos.yaml:35:5; remove or rename one of them",
    ];
  duplicate_provider_names:
    edit("  identities:\n", "    sso:\n      kind: aws/iam-identity-center\n  identities:\n") => [
      "atmos.yaml:21:5: duplicate key `sso` in `auth.providers` | help: `sso` is first defined at atmos.yaml:12:5; remove or rename one of them",
    ];
  duplicate_field_inside_an_identity:
    edit("      alias: dev\n", "      alias: dev\n      alias: d\n") => [
      "atmos.yaml:26:7: duplicate key `alias` in `auth.identities.plat-dev/terraform` | help: `alias` is first defined at atmos.yaml:25:7; remove or rename one of them",
    ];
  invalid_start_url:
    edit("https://example.awsapps.com/start", "example.awsapps.com/start") => [
      "atmos.yaml:15:18: invalid URL `example.awsapps.com/start` for `auth.providers.sso.start_url`: it must start with `https://` or `http://` and name a host | help: use an absolute URL such as `https://example.awsapps.com/start`",
    ];
  invalid_endpoint_url:
    edit("http://127.0.0.1:4566", "ftp://127.0.0.1") => [
      "atmos.yaml:20:23: invalid URL `ftp://127.0.0.1` for `auth.providers.sso.spec.endpoint_url`: it must start with `https://` or `http://` and name a host | help: use an absolute URL such as `https://example.awsapps.com/start`",
    ];
  unknown_login_method:
    edit("      auto_provision_identities: true\n", "      auto_provision_identities: true\n      login: device_code\n") => [
      "atmos.yaml:17:14: unknown login method `device_code` for `auth.providers.sso.login` | help: did you mean `device-code`?",
    ];
  invalid_session_duration:
    edit("duration: 8h", "duration: eight") => [
      "atmos.yaml:18:19: invalid duration `eight` for `auth.providers.sso.session.duration`: expected number at 0 | help: write a number with a unit, such as `90s`, `15m`, `8h` or `1h 30m`",
    ];
  unknown_exec_credentials:
    edit("refresh_margin: 10m\n", "refresh_margin: 10m\n  exec:\n    credentials: sever\n") => [
      "atmos.yaml:12:18: unknown value `sever` for `auth.exec.credentials` | help: did you mean `server`?",
    ];
  unknown_field_in_exec:
    edit("refresh_margin: 10m\n", "refresh_margin: 10m\n  exec:\n    server: true\n") => [
      "atmos.yaml:12:5: unknown field `server` in `auth.exec` | help: valid fields: `credentials`",
    ];
  duration_without_unit:
    edit("refresh_margin: 10m", "refresh_margin: 900") => [
      "atmos.yaml:10:19: invalid duration `900` for `auth.refresh_margin`: time unit needed, for example 900sec or 900ms | help: write a number with a unit, such as `90s`, `15m`, `8h` or `1h 30m`",
    ];
  alias_colliding_with_identity_name:
    edit("alias: dev", "alias: plat-prod/admin") => [
      "atmos.yaml:25:14: alias `plat-prod/admin` of identity `plat-dev/terraform` is the name of another identity | help: identity `plat-prod/admin` is defined at atmos.yaml:35:5; choose another alias",
    ];
  alias_used_twice:
    edit("      default: true\n      via: { provider: sso }\n", "      default: true\n      alias: dev\n      via: { provider: sso }\n") => [
      "atmos.yaml:42:14: alias `dev` of identity `core-audit/read` is already used | help: identity `plat-dev/terraform` uses it at atmos.yaml:25:14; choose another alias",
    ];
  identity_name_with_whitespace:
    edit("    plat-prod/admin:\n", "    plat prod/admin:\n") => [
      "atmos.yaml:35:5: identity name `plat prod/admin` contains whitespace | help: use letters, digits, `/` and `_+=,.@-` (not first), such as `plat-dev/terraform`; names appear unquoted in generated AWS config and command lines",
    ];
  // Names are written unquoted into generated AWS config and command lines (issue 11).
  identity_name_with_shell_characters:
    edit("    plat-prod/admin:\n", "    \"plat-prod/a$(id)\":\n") => [
      "atmos.yaml:35:5: identity name `plat-prod/a$(id)` contains `$` | help: use letters, digits, `/` and `_+=,.@-` (not first), such as `plat-dev/terraform`; names appear unquoted in generated AWS config and command lines",
    ];
  alias_with_an_ini_bracket:
    edit("alias: dev", "alias: \"dev]\"") => [
      "atmos.yaml:25:14: alias `dev]` contains `]` | help: use letters, digits, `/` and `_+=,.@-` (not first), such as `plat-dev/terraform`; names appear unquoted in generated AWS config and command lines",
    ];
  unknown_provider_kind_suggests:
    edit("kind: aws/iam-identity-center", "kind: aws/iam-identity-centre") => [
      // The provider still counts as defined, so its identities are not reported too.
      "atmos.yaml:13:13: unknown kind `aws/iam-identity-centre` for `auth.providers.sso` | help: did you mean `aws/iam-identity-center`?",
    ];
  unknown_identity_kind_lists_supported:
    edit("    plat-prod/admin:\n      kind: aws/permission-set\n", "    plat-prod/admin:\n      kind: github/oidc\n") => [
      "atmos.yaml:36:13: unknown kind `github/oidc` for `auth.identities.plat-prod/admin` | help: supported kinds: `aws/permission-set`, `aws/assume-role`, `aws/user`, `credential_process`",
    ];
  missing_identity_kind:
    edit("    plat-prod/admin:\n      kind: aws/permission-set\n", "    plat-prod/admin:\n") => [
      "atmos.yaml:35:5: missing required field `kind` in `auth.identities.plat-prod/admin` | help: add `kind:` with one of `aws/permission-set`, `aws/assume-role`, `aws/user`, `credential_process`",
    ];
  unknown_keyring_type:
    edit("type: memory", "type: keychain") => [
      "atmos.yaml:9:11: unknown keyring type `keychain` in `auth.keyring.type` | help: supported types: `system`, `secret-service`, `keyutils`, `memory`, `file`",
    ];
  invalid_env_name_and_value:
    edit("        AWS_REGION: us-west-2\n", "        AWS REGION: us-west-2\n        AWS_PROFILE: [a]\n") => [
      "atmos.yaml:33:9: invalid environment variable name `AWS REGION` in `auth.identities.plat-dev/terraform.env` | help: use letters, digits and `_`, not starting with a digit",
      "atmos.yaml:34:22: `auth.identities.plat-dev/terraform.env.AWS_PROFILE` must be a string, found a list",
    ];
  custom_tags_are_refused_in_auth:
    edit("region: us-east-1", "region: !env AWS_REGION") => [
      "atmos.yaml:14:15: YAML tag `!env` is not supported in `auth.providers.sso.region` | help: write the value itself; YAML functions are not evaluated in the auth configuration",
    ];
  top_level_must_be_a_mapping:
    String::from("- a\n- b\n") => ["atmos.yaml:1:1: the top level of the file must be a mapping, found a list"];
  syntax_error_has_a_position:
    String::from("auth:\n  providers: {sso: [\n") => ["atmos.yaml:2:20: invalid YAML: unclosed bracket '['"];
  secrets_are_refused_anywhere_under_auth:
    edit("        AWS_REGION: us-west-2\n", "        AWS_SECRET_ACCESS_KEY: hunter2\n") + "    aws_secret_access_key: hunter2\n" => [
      "atmos.yaml:33:9: `auth.identities.plat-dev/terraform.env.AWS_SECRET_ACCESS_KEY` looks like a secret key; atmos-auth refuses to load secrets from config files | help: remove it (and rotate the key if the file was ever shared); credentials belong in the keyring, which atmos-auth fills itself",
      "atmos.yaml:44:5: `auth.identities.aws_secret_access_key` looks like a secret key; atmos-auth refuses to load secrets from config files | help: remove it (and rotate the key if the file was ever shared); credentials belong in the keyring, which atmos-auth fills itself",
    ];
}

#[test]
fn all_errors_are_reported_at_once() {
    let yaml = VALID
        .replacen("region: us-east-1", "regoin: us-east-1", 1)
        .replacen("provider: sso\n", "provider: okta\n", 1)
        .replacen("\"111111111111\"", "111111111111", 1)
        .replacen("duration: 8h", "duration: soon", 1)
        .replacen("alias: dev", "alias: core-audit/read", 1);
    let found = diagnostics(&[(BASE, &yaml)]);
    let lines: Vec<&str> = found
        .iter()
        .map(|d| d.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            "atmos.yaml:4:13",
            "atmos.yaml:12:5",
            "atmos.yaml:14:7",
            "atmos.yaml:18:19",
            "atmos.yaml:25:14",
            "atmos.yaml:27:19"
        ],
        "{found:#?}"
    );
}

#[test]
fn secret_lines_are_never_quoted() {
    let yaml = edit(
        "        AWS_REGION: us-west-2\n",
        "        AWS_SECRET_ACCESS_KEY: hunter2\n",
    );
    let error = from_strs(&[(BASE, &yaml)]).unwrap_err().to_string();
    assert!(!error.contains("hunter2"), "{error}");
}

#[test]
fn invalid_display_shows_location_source_line_caret_and_help() {
    let error = from_strs(&[(
        BASE,
        &edit(
            "      region: us-east-1\n",
            "      region: us-east-1\n      regoin: x\n",
        ),
    )])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        [
            "invalid configuration: 1 problem",
            "atmos.yaml:15:7: unknown field `regoin` in `auth.providers.sso`",
            "  15 |       regoin: x",
            "     |       ^",
            "  help: did you mean `region`?",
        ]
        .join("\n")
    );
}

const MERGE_BASE: &str = r#"accounts:
  plat-dev: "111111111111"
auth:
  providers:
    sso:
      kind: aws/iam-identity-center
      region: us-east-1
      start_url: https://base.awsapps.com/start
      session: {duration: 1h}
  identities:
    plat-dev/terraform:
      kind: aws/permission-set
      via: {provider: sso}
      principal: {name: TerraformPlanAccess, account: {name: plat-dev}}
      env: {A: base, B: base}
"#;

const MERGE_PROFILE: &str = r#"description: profile
auth:
  providers:
    sso:
      region: eu-west-1
  identities:
    plat-dev/terraform:
      principal: {name: TerraformApplyAccess}
      env: {B: profile}
"#;

#[test]
fn login_device_code_is_read() {
    let yaml = VALID.replace(
        "      auto_provision_identities: true\n",
        "      auto_provision_identities: true\n      login: device-code\n",
    );
    let config = from_strs(&[(BASE, &yaml)]).unwrap();
    let ProviderKind::IdentityCenter(sso) = &config.auth.providers["sso"].kind else {
        panic!("not an Identity Center provider")
    };
    assert_eq!(sso.login, LoginMethod::DeviceCode);
}

#[test]
fn profile_values_win_and_maps_merge_recursively() {
    let config = from_strs(&[(BASE, MERGE_BASE), (PROFILE, MERGE_PROFILE)]).unwrap();
    assert_eq!(config.description.as_deref(), Some("profile"));
    let ProviderKind::IdentityCenter(sso) = &config.auth.providers["sso"].kind else {
        panic!("not an Identity Center provider")
    };
    assert_eq!(
        (sso.region.as_str(), sso.start_url.as_str()),
        ("eu-west-1", "https://base.awsapps.com/start")
    );
    assert_eq!(sso.session_duration, Some(Duration::from_secs(3600)));
    let identity = &config.auth.identities["plat-dev/terraform"];
    let IdentityKind::PermissionSet {
        permission_set,
        account,
        ..
    } = &identity.kind
    else {
        panic!("not a permission set")
    };
    assert_eq!(permission_set, "TerraformApplyAccess");
    assert_eq!(*account, AccountRef::Id("111111111111".parse().unwrap()));
    assert_eq!(
        identity.env,
        BTreeMap::from([
            ("A".to_owned(), "base".to_owned()),
            ("B".to_owned(), "profile".to_owned())
        ])
    );
    // The merged identity's key was last written in the profile.
    assert_eq!(
        identity.location.to_string(),
        "profiles/devops/atmos.yaml:7:5"
    );
}

#[test]
fn lists_and_scalars_are_replaced_not_merged() {
    let base = "x: [1, 2]\nauth:\n  refresh_margin: 1m\n";
    let profile = "x: [3]\nauth:\n  refresh_margin: 2m\n";
    let config = from_strs(&[(BASE, base), (PROFILE, profile)]).unwrap();
    assert_eq!(config.auth.refresh_margin, Some(Duration::from_secs(120)));
    let base_node = tree_builder::parse(Path::new(BASE), base).unwrap();
    let merged = node::merge(
        base_node,
        tree_builder::parse(Path::new(PROFILE), profile).unwrap(),
    );
    let node::Value::Sequence(items) = &merged.get("x").unwrap().value.value else {
        panic!()
    };
    assert_eq!(items.len(), 1);
}

#[test]
fn diagnostics_point_into_the_file_each_value_came_from() {
    let base = MERGE_BASE.replace("region: us-east-1", "region: us-east-1\n      regoin: x");
    let profile = MERGE_PROFILE.replace(
        "      env: {B: profile}",
        "      env: {B: profile}\n      alais: dev",
    );
    assert_diagnostics(
        &[(BASE, &base), (PROFILE, &profile)],
        &[
            "atmos.yaml:8:7: unknown field `regoin` in `auth.providers.sso` | help: did you mean `region`?",
            "profiles/devops/atmos.yaml:10:7: unknown field `alais` in `auth.identities.plat-dev/terraform` | help: did you mean `alias`?",
        ],
    );
    // A value overridden by the profile is reported at its position in the profile.
    let profile = MERGE_PROFILE.replace("region: eu-west-1", "region: \"EU West\"");
    assert_diagnostics(
        &[(BASE, MERGE_BASE), (PROFILE, &profile)],
        &[
            "profiles/devops/atmos.yaml:5:15: invalid AWS region `EU West` for `auth.providers.sso.region` | help: use a region code such as `us-east-1`",
        ],
    );
}

#[test]
fn syntax_errors_in_both_files_are_all_reported() {
    assert_diagnostics(
        &[(BASE, "a: [\n"), (PROFILE, "b: {\n")],
        &[
            "atmos.yaml:1:4: invalid YAML: unclosed bracket '['",
            "profiles/devops/atmos.yaml:1:4: invalid YAML: unclosed bracket '{'",
        ],
    );
}

#[test]
fn account_id_parsing() {
    assert_eq!(
        "012345678901".parse::<AccountId>().unwrap().to_string(),
        "012345678901"
    );
    for bad in [
        "",
        "12345678901",
        "1234567890123",
        "12345678901a",
        "１２３４５６７８９０１２",
    ] {
        assert_eq!(
            bad.parse::<AccountId>(),
            Err(InvalidAccountId(bad.to_owned()))
        );
    }
}

/// A directory tree for discovery tests; paths are relative to its root.
struct Tree(tempfile::TempDir);

impl Tree {
    fn new(files: &[(&str, &str)]) -> Self {
        let tree = Tree(tempfile::tempdir().unwrap());
        for (path, text) in files {
            let path = tree.path(path);
            fs::create_dir_all(if text.is_empty() && !path.ends_with(BASE) {
                &path
            } else {
                path.parent().unwrap()
            })
            .unwrap();
            if !text.is_empty() || path.ends_with(BASE) {
                fs::write(&path, text).unwrap();
            }
        }
        tree
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.0.path().join(relative)
    }

    fn options(&self, cwd: &str) -> LoadOptions {
        LoadOptions {
            cwd: self.path(cwd),
            ..LoadOptions::default()
        }
    }
}

const AUTH: &str = "auth:\n  refresh_margin: 5m\n  providers:\n    sso: {kind: aws/iam-identity-center, region: us-east-1, start_url: \"https://x.awsapps.com/start\"}\n";

#[test]
fn root_is_the_nearest_ancestor_with_atmos_yaml_or_profiles() {
    let tree = Tree::new(&[
        ("repo/atmos.yaml", AUTH),
        ("repo/stacks/orgs/acme/", ""),
        ("other/profiles/", ""),
        ("other/deep/dir/", ""),
    ]);
    let config = load(&tree.options("repo/stacks/orgs/acme")).unwrap();
    assert_eq!(config.root, tree.path("repo"));
    assert_eq!(config.files, [tree.path("repo/atmos.yaml")]);
    assert_eq!(config.profile, None);
    // A `profiles/` directory alone marks a root too; with no profiles in it there is no config.
    let error = load(&tree.options("other/deep/dir")).unwrap_err();
    assert!(matches!(error, ConfigError::NoConfig { root } if root == tree.path("other")));
}

#[test]
fn explicit_roots_win_over_discovery_and_user_dir_is_the_fallback() {
    let tree = Tree::new(&[
        ("repo/atmos.yaml", AUTH),
        ("flag/atmos.yaml", AUTH),
        ("user/atmos.yaml", AUTH),
        ("elsewhere/", ""),
    ]);
    let mut options = tree.options("repo");
    options.config_dir = Some(tree.path("flag"));
    assert_eq!(load(&options).unwrap().root, tree.path("flag"));
    options.config_dir = None;
    assert_eq!(load(&options).unwrap().root, tree.path("repo"));
    let mut options = tree.options("elsewhere");
    assert!(matches!(
        load(&options).unwrap_err(),
        ConfigError::NoRoot { .. }
    ));
    options.user_config_dir = Some(tree.path("user"));
    assert_eq!(load(&options).unwrap().root, tree.path("user"));
    // A relative --config-dir is taken from the working directory.
    let mut options = tree.options("elsewhere");
    options.config_dir = Some(PathBuf::from("../flag"));
    assert_eq!(load(&options).unwrap().root, tree.path("elsewhere/../flag"));
}

#[test]
fn profile_from_flag_or_env_is_merged_over_the_root_file() {
    let tree = Tree::new(&[
        ("atmos.yaml", AUTH),
        (
            "profiles/devops/atmos.yaml",
            "description: DevOps\nauth:\n  refresh_margin: 20m\n",
        ),
        (
            "profiles/managers/atmos.yaml",
            "auth:\n  refresh_margin: 30m\n",
        ),
    ]);
    let mut options = tree.options("");
    options.profile = Some("devops".to_owned());
    let config = load(&options).unwrap();
    assert_eq!(
        (config.profile.as_deref(), config.description.as_deref()),
        (Some("devops"), Some("DevOps"))
    );
    assert_eq!(
        config.auth.refresh_margin,
        Some(Duration::from_secs(20 * 60))
    );
    assert_eq!(
        config.files,
        [
            tree.path("atmos.yaml"),
            tree.path("profiles/devops/atmos.yaml")
        ]
    );
    assert_eq!(config.auth.providers.len(), 1);
    options.profile = Some("managers".to_owned());
    assert_eq!(
        load(&options).unwrap().auth.refresh_margin,
        Some(Duration::from_secs(30 * 60))
    );
    // An empty ATMOS_PROFILE counts as unset.
    options.profile = Some(String::new());
    assert_eq!(load(&options).unwrap().profile, None);
}

#[test]
fn profile_alone_without_a_root_file() {
    let tree = Tree::new(&[("profiles/devops/atmos.yaml", AUTH)]);
    let mut options = tree.options("");
    options.profile = Some("devops".to_owned());
    assert_eq!(
        load(&options).unwrap().files,
        [tree.path("profiles/devops/atmos.yaml")]
    );
}

#[test]
fn unknown_profile_lists_the_available_ones() {
    let tree = Tree::new(&[
        ("atmos.yaml", AUTH),
        ("profiles/devops/atmos.yaml", ""),
        ("profiles/developers/atmos.yaml", ""),
        ("profiles/not-a-profile/", ""),
    ]);
    assert_eq!(
        available_profiles(&tree.path(""), &tree.options("")),
        ["developers", "devops"]
    );
    for name in ["managers", "../profiles/devops", ".."] {
        let mut options = tree.options("");
        options.profile = Some(name.to_owned());
        let error = load(&options).unwrap_err();
        assert!(
            matches!(&error, ConfigError::ProfileNotFound { profile, available, .. } if profile == name && *available == ["developers", "devops"]),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!(
                "profile `{name}` not found in `{}` or the other profile locations; available profiles: `developers`, `devops`",
                tree.path("profiles").display()
            )
        );
    }
}

#[test]
fn no_profile_and_no_auth_asks_for_a_profile() {
    let tree = Tree::new(&[
        ("atmos.yaml", "stacks: {}\n"),
        ("profiles/devops/atmos.yaml", AUTH),
    ]);
    let error = load(&tree.options("")).unwrap_err();
    assert!(
        matches!(&error, ConfigError::ProfileRequired { available, .. } if *available == ["devops"])
    );
    assert_eq!(
        error.to_string(),
        format!(
            "no profile selected, and `{}/` configures no auth without one; set ATMOS_PROFILE or \
             pass --profile (available profiles: `devops`)",
            tree.0.path().display()
        )
    );
    // The same without a root file at all.
    fs::remove_file(tree.path("atmos.yaml")).unwrap();
    assert!(matches!(
        load(&tree.options("")).unwrap_err(),
        ConfigError::ProfileRequired { .. }
    ));
    // Without profiles, an auth-less root file is returned for the caller to judge.
    let tree = Tree::new(&[("atmos.yaml", "stacks: {}\n")]);
    assert!(load(&tree.options("")).unwrap().auth.identities.is_empty());
}

#[test]
fn unreadable_file_is_a_read_error() {
    let tree = Tree::new(&[("atmos.yaml", "")]);
    fs::write(tree.path("atmos.yaml"), [0xff, 0xfe, 0x00]).unwrap();
    let error = load(&tree.options("")).unwrap_err();
    assert!(
        matches!(&error, ConfigError::Read { path, .. } if *path == tree.path("atmos.yaml")),
        "{error:?}"
    );
}

#[test]
fn structural_yaml_problems_are_diagnostics() {
    assert_diagnostics(
        &[(BASE, "auth:\n  ? [a, b]\n  : c\n")],
        &[
            "atmos.yaml:2:5: mapping keys must be strings | help: replace the list or mapping used as a key with a name",
        ],
    );
    assert_diagnostics(
        &[(BASE, "a: &a [1, *a]\n")],
        &[
            "atmos.yaml:1:11: alias refers to a collection that contains it | help: remove the recursive alias",
        ],
    );
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    assert_diagnostics(
        &[(BASE, laughs)],
        &[
            "atmos.yaml:5:9: anchors and aliases expand to more than 4 MiB | help: use fewer nested aliases",
        ],
    );
    // Few nodes, long scalars: the budget is in bytes, not nodes.
    let long = format!(
        "a: &a \"{}\"\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n",
        "x".repeat(16 * 1024)
    );
    assert_diagnostics(
        &[(BASE, &long)],
        &[
            "atmos.yaml:4:9: anchors and aliases expand to more than 4 MiB | help: use fewer nested aliases",
        ],
    );
}

/// Property tests of the loader: no input, however broken, panics; each is either a config or
/// diagnostics. Cases: 256 by default, `PROPTEST_CASES=N` for a longer run.
mod props {
    use proptest::prelude::*;

    use super::*;

    fn load_text(text: &str) {
        let sources = [(PathBuf::from(PROFILE), text.to_owned())];
        let _ = from_sources(PathBuf::from("."), Some("devops"), &sources);
    }

    /// YAML-ish text: lines of keys this loader knows, values of every YAML kind, random
    /// indentation, anchors, aliases, tags and merge keys.
    fn yamlish() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just("auth"),
            Just("providers"),
            Just("identities"),
            Just("accounts"),
            Just("kind"),
            Just("via"),
            Just("provider"),
            Just("identity"),
            Just("principal"),
            Just("account"),
            Just("name"),
            Just("id"),
            Just("region"),
            Just("start_url"),
            Just("default"),
            Just("env"),
            Just("alias"),
            Just("keyring"),
            Just("type"),
            Just("spec"),
            Just("refresh_margin"),
            Just("session"),
            Just("duration"),
            Just("<<"),
            Just("x"),
        ];
        let value = prop_oneof![
            Just(String::new()),
            Just("aws/permission-set".into()),
            Just("aws/iam-identity-center".into()),
            Just("\"111111111111\"".into()),
            Just("111111111111".into()),
            Just("true".into()),
            Just("~".into()),
            Just("[]".into()),
            Just("{}".into()),
            Just("&a".into()),
            Just("*a".into()),
            Just("!!binary x".into()),
            Just("|".into()),
            Just("- ".into()),
            Just("15m".into()),
            "[ -~]{0,12}",
        ];
        proptest::collection::vec((0usize..8, key, value, any::<bool>()), 0..24).prop_map(|lines| {
            lines
                .into_iter()
                .map(|(indent, key, value, item)| {
                    format!(
                        "{}{}{key}: {value}\n",
                        " ".repeat(indent),
                        if item { "- " } else { "" }
                    )
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn any_text_loads_or_is_diagnosed(text in any::<String>()) {
            load_text(&text);
        }

        #[test]
        fn yamlish_text_loads_or_is_diagnosed(text in yamlish()) {
            load_text(&text);
        }

        #[test]
        fn a_valid_config_with_one_line_changed_never_panics(
            line in any::<prop::sample::Index>(),
            replacement in "[ -~]{0,30}",
        ) {
            let mut lines: Vec<&str> = VALID.lines().collect();
            let at = line.index(lines.len());
            lines[at] = &replacement;
            load_text(&lines.join("\n"));
        }
    }
}
