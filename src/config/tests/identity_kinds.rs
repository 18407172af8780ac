//! The `github/oidc` provider and the `aws/assume-role`, `aws/user` and `credential_process`
//! identities: what each builds, and every validation error with its position and hint.

use super::*;

/// A valid configuration using every kind; the error cases below vary it.
pub(super) const KINDS: &str = r#"
auth:
  providers:
    sso:
      kind: aws/iam-identity-center
      region: us-east-1
      start_url: https://example.awsapps.com/start
    github:
      kind: github/oidc
      region: eu-west-1
      spec:
        audience: sts.example.com
    gh-default:
      kind: github/oidc
  identities:
    core/admin:
      kind: aws/permission-set
      region: us-west-2
      via: { provider: sso }
      principal: { name: AdministratorAccess, account: { id: "111111111111" } }
    prod/deployer:
      kind: aws/assume-role
      via:
        identity: core/admin
      principal:
        assume_role: arn:aws:iam::222222222222:role/deploy/Deployer
        external_id: ext-123
        session_name: alice@example.com
        duration: 1h
    prod/readonly:
      kind: aws/assume-role
      region: ap-south-1
      via: { identity: prod/deployer }
      principal: { assume_role: "arn:aws:iam::222222222222:role/ReadOnly" }
    ci/deploy:
      kind: aws/assume-role
      via: { provider: github }
      principal: { assume_role: "arn:aws-us-gov:iam::333333333333:role/ci" }
    me:
      kind: aws/user
      principal:
        mfa_arn: arn:aws:iam::444444444444:mfa/alice
        duration: 36h
    me/bare:
      kind: aws/user
    vault:
      kind: credential_process
      spec:
        command: aws-vault export --format=json dev
    helper:
      kind: credential_process
      region: us-east-2
      spec:
        args: [my-helper, --duration, 3600, ""]
"#;

/// `KINDS` with `from` replaced by `to` (which must occur exactly once).
pub(super) fn kinds_edit(from: &str, to: &str) -> String {
    assert_eq!(
        KINDS.matches(from).count(),
        1,
        "`{from}` must occur once in KINDS"
    );
    KINDS.replacen(from, to, 1)
}

fn kinds() -> Config {
    from_strs(&[(BASE, KINDS)]).unwrap()
}

#[test]
fn github_oidc_providers_with_and_without_settings() {
    let config = kinds();
    let github = &config.auth.providers["github"];
    assert_eq!(
        github.kind,
        ProviderKind::GithubOidc(GithubOidc {
            region: Some("eu-west-1".to_owned()),
            audience: "sts.example.com".to_owned(),
        })
    );
    assert_eq!(github.location.to_string(), "atmos.yaml:8:5");
    assert_eq!(
        config.auth.providers["gh-default"].kind,
        ProviderKind::GithubOidc(GithubOidc {
            region: None,
            audience: "sts.amazonaws.com".to_owned(),
        })
    );
    assert_eq!(github.kind.name(), "github/oidc");
    assert_eq!(
        ProviderKind::NAMES,
        ["aws/iam-identity-center", "github/oidc"]
    );
}

#[test]
fn assume_role_identities() {
    let config = kinds();
    let deployer = &config.auth.identities["prod/deployer"];
    assert_eq!(
        *deployer,
        Identity {
            name: "prod/deployer".to_owned(),
            kind: IdentityKind::AssumeRole {
                via: Via::Identity("core/admin".to_owned()),
                role_arn: "arn:aws:iam::222222222222:role/deploy/Deployer".to_owned(),
                external_id: Some("ext-123".to_owned()),
                session_name: Some("alice@example.com".to_owned()),
                duration: Some(Duration::from_secs(3600)),
            },
            default: false,
            alias: None,
            env: BTreeMap::new(),
            region: None,
            tags: Default::default(),
            location: Location {
                file: BASE.into(),
                line: 21,
                column: 5
            },
        }
    );
    assert_eq!(
        config.auth.identities["ci/deploy"].kind,
        IdentityKind::AssumeRole {
            via: Via::Provider("github".to_owned()),
            role_arn: "arn:aws-us-gov:iam::333333333333:role/ci".to_owned(),
            external_id: None,
            session_name: None,
            duration: None,
        }
    );
    assert_eq!(
        config.auth.identities["prod/readonly"].region.as_deref(),
        Some("ap-south-1")
    );
    // Permission sets take a region too.
    assert_eq!(
        config.auth.identities["core/admin"].region.as_deref(),
        Some("us-west-2")
    );
}

#[test]
fn user_and_credential_process_identities() {
    let config = kinds();
    let identities = &config.auth.identities;
    assert_eq!(
        identities["me"].kind,
        IdentityKind::User {
            mfa_arn: Some("arn:aws:iam::444444444444:mfa/alice".to_owned()),
            duration: Some(Duration::from_secs(36 * 3600)),
        }
    );
    // No duration means the documented default, which the resolver applies.
    assert_eq!(
        identities["me/bare"].kind,
        IdentityKind::User {
            mfa_arn: None,
            duration: None
        }
    );
    assert_eq!(DEFAULT_USER_DURATION, Duration::from_secs(12 * 3600));
    assert_eq!(
        identities["vault"].kind,
        IdentityKind::CredentialProcess {
            command: ProcessCommand::Shell("aws-vault export --format=json dev".to_owned()),
            timeout: None,
        }
    );
    // Arguments are taken as written, numbers and empty strings included.
    assert_eq!(
        identities["helper"].kind,
        IdentityKind::CredentialProcess {
            command: ProcessCommand::Args(
                ["my-helper", "--duration", "3600", ""]
                    .map(str::to_owned)
                    .to_vec()
            ),
            timeout: None,
        }
    );
    assert_eq!(identities["helper"].region.as_deref(), Some("us-east-2"));
    // In name order: ci/deploy, core/admin, helper, me, me/bare, prod/..., vault.
    let names: Vec<&str> = identities.values().map(|i| i.kind.name()).collect();
    assert_eq!(
        names,
        [
            "aws/assume-role",
            "aws/permission-set",
            "credential_process",
            "aws/user",
            "aws/user",
            "aws/assume-role",
            "aws/assume-role",
            "credential_process"
        ]
    );
}

/// Declares one test per case of `KINDS` edited.
macro_rules! invalid_kinds {
  ($($name:ident: ($from:expr, $to:expr) => [$($expected:expr),* $(,)?];)*) => {
    $(
      #[test]
      fn $name() {
        assert_diagnostics(&[(BASE, &kinds_edit($from, $to))], &[$($expected),*]);
      }
    )*
  };
}

invalid_kinds! {
  github_audience_empty:
    ("audience: sts.example.com", "audience: \"\"") => [
      "atmos.yaml:12:19: `auth.providers.github.spec.audience` must not be empty | help: remove it to use `sts.amazonaws.com`, or give the audience your AWS IAM OIDC provider expects",
    ];
  github_unknown_spec_field:
    ("audience: sts.example.com", "audince: sts.example.com") => [
      "atmos.yaml:12:9: unknown field `audince` in `auth.providers.github.spec` | help: did you mean `audience`?",
    ];
  github_takes_no_identity_center_fields:
    ("      region: eu-west-1\n", "      region: eu-west-1\n      start_url: https://x.awsapps.com/start\n") => [
      "atmos.yaml:11:7: unknown field `start_url` in `auth.providers.github` | help: valid fields: `kind`, `region`, `spec`, `tags`",
    ];
  github_invalid_region:
    ("region: eu-west-1", "region: EU") => [
      "atmos.yaml:10:15: invalid AWS region `EU` for `auth.providers.github.region` | help: use a region code such as `us-east-1`",
    ];
  role_arn_of_a_user:
    (":role/deploy/Deployer", ":user/Deployer") => [
      "atmos.yaml:26:22: invalid role ARN `arn:aws:iam::222222222222:user/Deployer` for `auth.identities.prod/deployer.principal.assume_role`: the resource must start with `role/` | help: use the form `arn:aws:iam::123456789012:role/<name>`",
    ];
  role_arn_with_a_short_account:
    ("iam::222222222222:role/ReadOnly", "iam::22222222222:role/ReadOnly") => [
      "atmos.yaml:34:33: invalid role ARN `arn:aws:iam::22222222222:role/ReadOnly` for `auth.identities.prod/readonly.principal.assume_role`: the account `22222222222` is not exactly 12 digits | help: use the form `arn:aws:iam::123456789012:role/<name>`",
    ];
  role_arn_that_is_a_name:
    ("\"arn:aws-us-gov:iam::333333333333:role/ci\"", "ci") => [
      "atmos.yaml:38:33: invalid role ARN `ci` for `auth.identities.ci/deploy.principal.assume_role`: it must have six `:`-separated parts, `arn:<partition>:iam::<account>:<resource>` | help: use the form `arn:aws:iam::123456789012:role/<name>`",
    ];
  assume_role_missing_role:
    ("{ assume_role: \"arn:aws:iam::222222222222:role/ReadOnly\" }", "{ external_id: x }") => [
      "atmos.yaml:34:7: missing required field `assume_role` in `auth.identities.prod/readonly.principal` | help: add `assume_role: arn:aws:iam::<account>:role/<name>` under `auth.identities.prod/readonly.principal`",
    ];
  assume_role_missing_principal:
    ("      principal: { assume_role: \"arn:aws:iam::222222222222:role/ReadOnly\" }\n", "") => [
      "atmos.yaml:30:5: missing required field `principal` in `auth.identities.prod/readonly` | help: add `principal: { assume_role: arn:aws:iam::<account>:role/<name> }` under `auth.identities.prod/readonly`",
    ];
  session_name_with_a_space:
    ("session_name: alice@example.com", "session_name: alice smith") => [
      "atmos.yaml:28:23: invalid role session name `alice smith` for `auth.identities.prod/deployer.principal.session_name` | help: use 2 to 64 letters, digits or `+=,.@_-` (no spaces or `/`), such as `ci-deploy` or `alice@example.com`",
    ];
  session_name_too_short:
    ("session_name: alice@example.com", "session_name: a") => [
      "atmos.yaml:28:23: invalid role session name `a` for `auth.identities.prod/deployer.principal.session_name` | help: use 2 to 64 letters, digits or `+=,.@_-` (no spaces or `/`), such as `ci-deploy` or `alice@example.com`",
    ];
  assume_role_duration_too_short:
    ("duration: 1h", "duration: 10m") => [
      "atmos.yaml:29:19: duration `10m` for `auth.identities.prod/deployer.principal.duration` is outside 15m to 12h | help: choose a duration from 15m to 12h; STS role sessions last 15 minutes to 12 hours, and the role's maximum session duration may be lower",
    ];
  assume_role_duration_too_long:
    ("duration: 1h", "duration: 12h 1m") => [
      "atmos.yaml:29:19: duration `12h 1m` for `auth.identities.prod/deployer.principal.duration` is outside 15m to 12h | help: choose a duration from 15m to 12h; STS role sessions last 15 minutes to 12 hours, and the role's maximum session duration may be lower",
    ];
  via_both_provider_and_identity:
    ("via: { identity: prod/deployer }", "via: { identity: prod/deployer, provider: github }") => [
      "atmos.yaml:33:7: `auth.identities.prod/readonly.via` sets both `provider` and `identity` | help: keep `identity` to assume the role with another identity's credentials, or `provider` to use a `github/oidc` token",
    ];
  via_neither_provider_nor_identity:
    ("via: { identity: prod/deployer }", "via: {}") => [
      "atmos.yaml:33:7: `auth.identities.prod/readonly.via` needs a `provider` or an `identity` | help: add `identity: <identity to assume the role with>` or `provider: <github/oidc provider>`",
    ];
  via_missing_on_assume_role:
    ("      via: { identity: prod/deployer }\n", "") => [
      "atmos.yaml:30:5: missing required field `via` in `auth.identities.prod/readonly` | help: add `via: { identity: <name> }` or `via: { provider: <github/oidc provider> }` under `auth.identities.prod/readonly`",
    ];
  assume_role_via_identity_center_is_refused:
    ("via: { provider: github }", "via: { provider: sso }") => [
      "atmos.yaml:37:24: `auth.identities.ci/deploy.via.provider` names provider `sso` of kind `aws/iam-identity-center`, but `aws/assume-role` identities need kind `github/oidc` | help: use `kind: aws/permission-set` for an Identity Center permission set, or assume the role from a permission-set identity with `via.identity`",
    ];
  assume_role_via_unknown_provider:
    ("via: { provider: github }", "via: { provider: githb }") => [
      "atmos.yaml:37:24: unknown provider `githb` in `auth.identities.ci/deploy.via.provider` | help: did you mean `github`?",
    ];
  permission_set_via_github_is_refused:
    ("via: { provider: sso }", "via: { provider: github }") => [
      "atmos.yaml:19:24: `auth.identities.core/admin.via.provider` names provider `github` of kind `github/oidc`, but `aws/permission-set` identities need kind `aws/iam-identity-center` | help: to assume a role with the GitHub OIDC token, use `kind: aws/assume-role`",
    ];
  permission_set_via_identity_is_refused:
    ("via: { provider: sso }", "via: { identity: me }") => [
      "atmos.yaml:19:14: `auth.identities.core/admin.via.identity` is not allowed: `aws/permission-set` identities must use `via.provider` | help: a permission set comes straight from an Identity Center provider; to start from another identity's credentials, use `kind: aws/assume-role` with `principal.assume_role`",
    ];
  dangling_via_identity_suggests_a_close_name:
    ("identity: core/admin", "identity: core/admn") => [
      "atmos.yaml:24:19: unknown identity `core/admn` in `auth.identities.prod/deployer.via.identity` | help: did you mean `core/admin`?",
    ];
  dangling_via_identity_lists_defined_ones:
    ("identity: core/admin", "identity: nobody") => [
      "atmos.yaml:24:19: unknown identity `nobody` in `auth.identities.prod/deployer.via.identity` | help: defined identities: `core/admin`, `prod/deployer`, `prod/readonly`, `ci/deploy`, `me`, `me/bare`, `vault`, `helper`",
    ];
  user_mfa_arn_of_a_role:
    (":mfa/alice", ":role/alice") => [
      "atmos.yaml:42:18: invalid MFA device ARN `arn:aws:iam::444444444444:role/alice` for `auth.identities.me.principal.mfa_arn`: the resource must start with `mfa/` | help: use the form `arn:aws:iam::123456789012:mfa/<name>`",
    ];
  user_duration_too_long:
    ("duration: 36h", "duration: 37h") => [
      "atmos.yaml:43:19: duration `37h` for `auth.identities.me.principal.duration` is outside 15m to 36h | help: choose a duration from 15m to 36h; STS sessions of IAM users last 15 minutes to 36 hours",
    ];
  user_takes_no_via:
    ("      kind: aws/user\n      principal:\n", "      kind: aws/user\n      via: { provider: sso }\n      principal:\n") => [
      "atmos.yaml:41:7: `auth.identities.me.via` is not allowed: `aws/user` identities take no `via` | help: remove it; an `aws/user` identity signs in with its own access key, kept in the credential store",
    ];
  user_access_key_id_is_not_a_secret_but_not_a_field_either:
    ("        mfa_arn:", "        access_key_id: AKIAIOSFODNN7EXAMPLE\n        mfa_arn:") => [
      "atmos.yaml:42:9: unknown field `access_key_id` in `auth.identities.me.principal` | help: valid fields: `mfa_arn`, `duration`",
    ];
  credential_process_takes_no_via:
    ("      kind: credential_process\n      spec:\n        command", "      kind: credential_process\n      via: { identity: me }\n      spec:\n        command") => [
      "atmos.yaml:48:7: `auth.identities.vault.via` is not allowed: `credential_process` identities take no `via` | help: remove it; a `credential_process` identity gets its credentials from its program",
    ];
  credential_process_both_command_and_args:
    ("      spec:\n        command: aws-vault export --format=json dev\n", "      spec: { command: x, args: [y] }\n") => [
      "atmos.yaml:48:7: `auth.identities.vault.spec` sets both `command` and `args` | help: keep `command` to run one string through the shell, or `args` to run the program directly",
    ];
  credential_process_neither_command_nor_args:
    ("      spec:\n        command: aws-vault export --format=json dev\n", "      spec: {}\n") => [
      "atmos.yaml:48:7: `auth.identities.vault.spec` needs a `command` or `args` | help: add `command: <shell command>` or `args: [<program>, <argument>, ...]`",
    ];
  credential_process_missing_spec:
    ("      spec:\n        command: aws-vault export --format=json dev\n", "") => [
      "atmos.yaml:46:5: missing required field `spec` in `auth.identities.vault` | help: add `spec: { command: <shell command> }` under `auth.identities.vault`",
    ];
  credential_process_empty_command:
    ("command: aws-vault export --format=json dev", "command: \"  \"") => [
      "atmos.yaml:49:18: `auth.identities.vault.spec.command` must not be empty | help: give the command line that prints the credentials, such as `aws-vault export --format=json dev`",
    ];
  credential_process_empty_args:
    ("args: [my-helper, --duration, 3600, \"\"]", "args: []") => [
      "atmos.yaml:54:15: `auth.identities.helper.spec.args` must not be empty | help: give the program first, then its arguments, such as `[aws-vault, export, --format=json, dev]`",
    ];
  credential_process_empty_program:
    ("args: [my-helper, --duration, 3600, \"\"]", "args: [\"\", x]") => [
      "atmos.yaml:54:16: the program `auth.identities.helper.spec.args[0]` must not be empty | help: give the program first, then its arguments, such as `[aws-vault, export, --format=json, dev]`",
    ];
  credential_process_args_not_a_list:
    ("args: [my-helper, --duration, 3600, \"\"]", "args: my-helper --duration 3600") => [
      "atmos.yaml:54:15: `auth.identities.helper.spec.args` must be a list of strings, found a string",
    ];
  credential_process_arg_not_a_scalar:
    ("args: [my-helper, --duration, 3600, \"\"]", "args: [a, {b: c}]") => [
      "atmos.yaml:54:19: `auth.identities.helper.spec.args[1]` must be a string, found a mapping",
    ];
  identity_region_invalid:
    ("region: us-east-2", "region: US East") => [
      "atmos.yaml:52:15: invalid AWS region `US East` for `auth.identities.helper.region` | help: use a region code such as `us-east-1`",
    ];
  secret_keys_under_credential_process:
    ("        command: aws-vault export --format=json dev\n", "        command: aws-vault export --format=json dev\n        SecretAccessKey: hunter2\n        session-token: hunter3\n") => [
      "atmos.yaml:50:9: `auth.identities.vault.spec.SecretAccessKey` looks like a secret key; atmos-auth refuses to load secrets from config files | help: remove it (and rotate the key if the file was ever shared); credentials belong in the keyring, which atmos-auth fills itself",
      "atmos.yaml:51:9: `auth.identities.vault.spec.session-token` looks like a secret key; atmos-auth refuses to load secrets from config files | help: remove it (and rotate the key if the file was ever shared); credentials belong in the keyring, which atmos-auth fills itself",
    ];
}

#[test]
fn unknown_identity_kind_lists_every_kind() {
    assert_diagnostics(
        &[(
            BASE,
            &kinds_edit(
                "kind: aws/user\n      principal",
                "kind: iam-user\n      principal",
            ),
        )],
        &[
            "atmos.yaml:40:13: unknown kind `iam-user` for `auth.identities.me` | help: supported kinds: `aws/permission-set`, `aws/assume-role`, `aws/user`, `credential_process`",
        ],
    );
}

/// A secret on the same line as another problem: neither diagnostic quotes the line, so the
/// rendered error never shows the secret.
#[test]
fn secret_under_credential_process_is_refused_without_echoing_it() {
    let yaml = kinds_edit(
        "      spec:\n        command: aws-vault export --format=json dev\n",
        "      spec: { command: \"\", aws_session_token: hunter2 }\n",
    );
    assert_diagnostics(
        &[(BASE, &yaml)],
        &[
            "atmos.yaml:48:24: `auth.identities.vault.spec.command` must not be empty | help: give the command line that prints the credentials, such as `aws-vault export --format=json dev`",
            "atmos.yaml:48:28: `auth.identities.vault.spec.aws_session_token` looks like a secret key; atmos-auth refuses to load secrets from config files | help: remove it (and rotate the key if the file was ever shared); credentials belong in the keyring, which atmos-auth fills itself",
        ],
    );
    let error = from_strs(&[(BASE, &yaml)]).unwrap_err();
    let ConfigError::Invalid { diagnostics } = &error else {
        panic!("{error:?}")
    };
    assert!(diagnostics.iter().all(|d| d.source_line.is_none()));
    assert!(!error.to_string().contains("hunter2"), "{error}");
}
