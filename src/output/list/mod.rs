//! `list` output: the configured providers and identities, with their session and credential
//! state, as a table, a tree, JSON, YAML, a Graphviz digraph or a Mermaid flowchart.
//!
//! It renders a small view model, not the config: the command layer builds a `ListView` from
//! the `Config` and the credential store, and this module only turns it into text. That keeps
//! it pure (no I/O, no clock: `now` is passed in) and testable from plain data. The view holds
//! names, kinds, targets and expiry times and never a secret, so nothing here can print one.
//!
//! Output is deterministic: rows, tree children and graph nodes follow the order of the
//! view's vectors. Text from the view is escaped for each format (control characters for the
//! terminal, quotes for DOT and Mermaid), so an odd name cannot break the output.
//!
//! `view` holds the view model (and the time formats it shares with other output), `text` the
//! table and tree, `graph` the Graphviz and Mermaid renderings.

mod graph;
mod text;
mod view;

use std::time::SystemTime;

pub(super) use view::until_text;
pub use view::{
    CredentialStatus, Format, IdentityView, ListView, ProviderView, SessionStatus, Via,
};

/// The text of `view` in `format`, ending in a newline. `now` only feeds relative times such
/// as "in 52m"; whether something is valid or expired is already decided in the view.
pub fn render(view: &ListView, format: Format, now: SystemTime) -> String {
    match format {
        Format::Table => text::text(view, |out| text::table(view, now, out)),
        Format::Tree => text::text(view, |out| text::tree(view, now, out)),
        Format::Json => {
            let mut text = crate::text::json_pretty(view);
            text.push('\n');
            text
        }
        Format::Yaml => crate::text::yaml(view),
        Format::Dot => graph::dot(view),
        Format::Mermaid => graph::mermaid(view),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use std::time::Duration;

    use super::view::{MAX_RFC3339_SECS, relative, rfc3339};
    use super::*;

    /// 2026-11-25T19:19:57Z
    const NOW_SECS: u64 = 1_795_634_397;

    fn at(secs_from_now: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_SECS + secs_from_now)
    }

    fn now() -> SystemTime {
        at(0)
    }

    fn identity(name: &str, kind: &str, via: Option<Via>, target: &str) -> IdentityView {
        IdentityView {
            name: name.to_owned(),
            kind: kind.to_owned(),
            via,
            target: target.to_owned(),
            default: false,
            alias: None,
            credentials: CredentialStatus::None,
            provisioned: false,
            tags: Vec::new(),
        }
    }

    fn provider(name: &str) -> Option<Via> {
        Some(Via::Provider(name.to_owned()))
    }

    fn through(name: &str) -> Option<Via> {
        Some(Via::Identity(name.to_owned()))
    }

    fn view(providers: Vec<ProviderView>, identities: Vec<IdentityView>) -> ListView {
        let profile = None;
        ListView {
            profile,
            realm: None,
            providers,
            identities,
            store_error: None,
        }
    }

    fn provider_view(name: &str, kind: &str, detail: &str, session: SessionStatus) -> ProviderView {
        let (name, kind, detail) = (name.to_owned(), kind.to_owned(), detail.to_owned());
        ProviderView {
            name,
            kind,
            detail,
            session,
        }
    }

    fn fixture() -> ListView {
        let set = |name: &str, target: &str| {
            identity(name, "aws/permission-set", provider("sso"), target)
        };
        let role = |name: &str, via: Option<Via>, arn: &str| {
            identity(name, "aws/assume-role", via, &format!("arn:aws:iam::{arn}"))
        };
        let mut identities = vec![
            set("plat-dev/terraform", "TerraformApplyAccess @ plat-dev"),
            set("plat-prod/readonly", "ReadOnlyAccess @ plat-prod"),
            role(
                "plat-dev/admin",
                through("plat-dev/terraform"),
                "111111111111:role/Admin",
            ),
            role(
                "plat-dev/audit",
                through("plat-dev/admin"),
                "111111111111:role/Audit",
            ),
            role("ci/deploy", provider("github"), "222222222222:role/Deploy"),
            identity("ops/break-glass", "aws/user", None, "IAM user"),
            identity(
                "ops/vault",
                "credential_process",
                None,
                "vault-aws-creds --role ops",
            ),
        ];
        identities[0].default = true;
        identities[0].alias = Some("tf".to_owned());
        identities[0].credentials = CredentialStatus::Valid {
            until: at(52 * 60 + 20),
        };
        identities[1].provisioned = true;
        identities[2].credentials = CredentialStatus::Expired;
        identities[5].credentials = CredentialStatus::Valid {
            until: at(3 * 86400 + 90),
        };
        let logged_in = SessionStatus::LoggedIn {
            until: at(7 * 3600 + 52 * 60 + 30),
        };
        let start_url = "https://acme.awsapps.com/start (us-east-1)";
        ListView {
            profile: Some("devops".to_owned()),
            realm: None,
            providers: vec![
                provider_view("sso", "aws/iam-identity-center", start_url, logged_in),
                provider_view(
                    "github",
                    "github/oidc",
                    "audience sts.amazonaws.com",
                    SessionStatus::NotApplicable,
                ),
            ],
            identities,
            store_error: None,
        }
    }

    #[track_caller]
    fn assert_text(actual: &str, expected: &str) {
        assert!(
            actual == expected,
            "output differs\n--- expected\n{expected}--- actual\n{actual}---"
        );
    }

    #[test]
    fn table() {
        let expected = "\
profile: devops

PROVIDER  KIND                     DETAIL                                      SESSION
sso       aws/iam-identity-center  https://acme.awsapps.com/start (us-east-1)  logged in until 2026-11-26T03:12:27Z (in 7h 52m)
github    github/oidc              audience sts.amazonaws.com                  -

  IDENTITY                          KIND                VIA                 TARGET                                 CREDENTIALS
* plat-dev/terraform (alias tf)     aws/permission-set  sso                 TerraformApplyAccess @ plat-dev        valid until 2026-11-25T20:12:17Z (in 52m)
  plat-prod/readonly (provisioned)  aws/permission-set  sso                 ReadOnlyAccess @ plat-prod             none
  plat-dev/admin                    aws/assume-role     plat-dev/terraform  arn:aws:iam::111111111111:role/Admin   expired
  plat-dev/audit                    aws/assume-role     plat-dev/admin      arn:aws:iam::111111111111:role/Audit   none
  ci/deploy                         aws/assume-role     github              arn:aws:iam::222222222222:role/Deploy  none
  ops/break-glass                   aws/user            -                   IAM user                               valid until 2026-11-28T19:21:27Z (in 3days 1m)
  ops/vault                         credential_process  -                   vault-aws-creds --role ops             none
";
        assert_text(&render(&fixture(), Format::Table, now()), expected);
    }

    #[test]
    fn tree() {
        let expected = "\
profile: devops

sso (aws/iam-identity-center, https://acme.awsapps.com/start (us-east-1), logged in until 2026-11-26T03:12:27Z, in 7h 52m)
├── plat-dev/terraform * (aws/permission-set TerraformApplyAccess @ plat-dev, alias tf, valid until 2026-11-25T20:12:17Z, in 52m)
│   └── plat-dev/admin (aws/assume-role arn:aws:iam::111111111111:role/Admin, credentials expired)
│       └── plat-dev/audit (aws/assume-role arn:aws:iam::111111111111:role/Audit, no credentials)
└── plat-prod/readonly (aws/permission-set ReadOnlyAccess @ plat-prod, provisioned, no credentials)
github (github/oidc, audience sts.amazonaws.com)
└── ci/deploy (aws/assume-role arn:aws:iam::222222222222:role/Deploy, no credentials)
ops/break-glass (aws/user IAM user, valid until 2026-11-28T19:21:27Z, in 3days 1m)
ops/vault (credential_process vault-aws-creds --role ops, no credentials)
";
        assert_text(&render(&fixture(), Format::Tree, now()), expected);
    }

    #[test]
    fn dot() {
        let expected = r#"digraph "atmos-auth" {
    rankdir=LR;
    label="profile devops";
    "provider:sso" [shape=box, label="sso\naws/iam-identity-center"];
    "provider:github" [shape=box, label="github\ngithub/oidc"];
    "identity:plat-dev/terraform" [shape=ellipse, label="plat-dev/terraform *", style="bold"];
    "identity:plat-prod/readonly" [shape=ellipse, label="plat-prod/readonly", style="dashed"];
    "identity:plat-dev/admin" [shape=ellipse, label="plat-dev/admin"];
    "identity:plat-dev/audit" [shape=ellipse, label="plat-dev/audit"];
    "identity:ci/deploy" [shape=ellipse, label="ci/deploy"];
    "identity:ops/break-glass" [shape=ellipse, label="ops/break-glass"];
    "identity:ops/vault" [shape=ellipse, label="ops/vault"];
    "provider:sso" -> "identity:plat-dev/terraform" [label="aws/permission-set"];
    "provider:sso" -> "identity:plat-prod/readonly" [label="aws/permission-set"];
    "identity:plat-dev/terraform" -> "identity:plat-dev/admin" [label="aws/assume-role"];
    "identity:plat-dev/admin" -> "identity:plat-dev/audit" [label="aws/assume-role"];
    "provider:github" -> "identity:ci/deploy" [label="aws/assume-role"];
}
"#;
        assert_text(&render(&fixture(), Format::Dot, now()), expected);
    }

    #[test]
    fn mermaid() {
        let expected = r#"flowchart LR
    %% profile: devops
    p_sso["sso (aws/iam-identity-center)"]
    p_github["github (github/oidc)"]
    i_plat_dev_terraform(["plat-dev/terraform *"])
    i_plat_prod_readonly(["plat-prod/readonly"])
    i_plat_dev_admin(["plat-dev/admin"])
    i_plat_dev_audit(["plat-dev/audit"])
    i_ci_deploy(["ci/deploy"])
    i_ops_break_glass(["ops/break-glass"])
    i_ops_vault(["ops/vault"])
    p_sso -->|"aws/permission-set"| i_plat_dev_terraform
    p_sso -->|"aws/permission-set"| i_plat_prod_readonly
    i_plat_dev_terraform -->|"aws/assume-role"| i_plat_dev_admin
    i_plat_dev_admin -->|"aws/assume-role"| i_plat_dev_audit
    p_github -->|"aws/assume-role"| i_ci_deploy
"#;
        assert_text(&render(&fixture(), Format::Mermaid, now()), expected);
    }

    #[test]
    fn json_is_the_view_with_rfc3339_times() {
        let text = render(&fixture(), Format::Json, now());
        assert!(text.ends_with("}\n"));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["profile"], "devops");
        let session = json!({ "status": "logged_in", "until": "2026-11-26T03:12:27Z" });
        assert_eq!(value["providers"][0]["session"], session);
        assert_eq!(
            value["providers"][1]["session"],
            json!({ "status": "not_applicable" })
        );
        let terraform = json!({
            "name": "plat-dev/terraform",
            "kind": "aws/permission-set",
            "via": { "provider": "sso" },
            "target": "TerraformApplyAccess @ plat-dev",
            "default": true,
            "alias": "tf",
            "credentials": { "status": "valid", "until": "2026-11-25T20:12:17Z" },
            "provisioned": false,
            "tags": [],
        });
        let identities = value["identities"].as_array().unwrap();
        assert_eq!(identities[0], terraform);
        assert_eq!(
            identities[2]["via"],
            json!({ "identity": "plat-dev/terraform" })
        );
        assert_eq!(identities[6]["via"], serde_json::Value::Null);
        let field = |key: &str, inner: &str| -> Vec<String> {
            let text = |v: &serde_json::Value| v.as_str().map_or(v.to_string(), str::to_owned);
            identities.iter().map(|i| text(&i[key][inner])).collect()
        };
        let names: Vec<String> = fixture().identities.into_iter().map(|i| i.name).collect();
        assert_eq!(
            identities
                .iter()
                .map(|i| i["name"].as_str().unwrap())
                .collect::<Vec<_>>(),
            names
        );
        let statuses = ["valid", "none", "expired", "none", "none", "valid", "none"];
        assert_eq!(field("credentials", "status"), statuses);
    }

    #[test]
    fn yaml_holds_the_same_document_as_json() {
        let yaml = render(&fixture(), Format::Yaml, now());
        let json = render(&fixture(), Format::Json, now());
        let from_yaml: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
        let from_json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(from_yaml, from_json);
        let until = "    until: \"2026-11-25T20:12:17Z\"\n";
        assert!(yaml.contains(until), "{yaml}");
    }

    #[test]
    fn empty_view() {
        let view = view(Vec::new(), Vec::new());
        let none = "no providers or identities configured\n";
        assert_text(&render(&view, Format::Table, now()), none);
        assert_text(&render(&view, Format::Tree, now()), none);
        assert_text(
            &render(&view, Format::Dot, now()),
            "digraph \"atmos-auth\" {\n    rankdir=LR;\n}\n",
        );
        assert_text(&render(&view, Format::Mermaid, now()), "flowchart LR\n");
        assert_text(
            &render(&view, Format::Json, now()),
            "{\n  \"profile\": null,\n  \"providers\": [],\n  \"identities\": []\n}\n",
        );
    }

    #[test]
    fn an_unreadable_store_leaves_the_configuration_shown_and_says_why() {
        let mut view = view(
            vec![provider_view(
                "sso",
                "aws/iam-identity-center",
                "https://x.awsapps.com/start (us-east-1)",
                SessionStatus::Unknown,
            )],
            vec![identity(
                "plat-dev/admin",
                "aws/permission-set",
                provider("sso"),
                "Admin @ plat-dev",
            )],
        );
        view.identities[0].credentials = CredentialStatus::Unknown;
        view.store_error = Some("no D-Bus\x1b[2J session".to_owned());
        let expected = "\
sessions and credentials unknown: no D-Bus\\u{1b}[2J session

PROVIDER  KIND                     DETAIL                                   SESSION
sso       aws/iam-identity-center  https://x.awsapps.com/start (us-east-1)  unknown: store unreachable

  IDENTITY        KIND                VIA  TARGET            CREDENTIALS
  plat-dev/admin  aws/permission-set  sso  Admin @ plat-dev  unknown: store unreachable
";
        assert_text(&render(&view, Format::Table, now()), expected);
        let json: serde_json::Value =
            serde_json::from_str(&render(&view, Format::Json, now())).unwrap();
        assert_eq!(json["store_error"], "no D-Bus\u{1b}[2J session");
        assert_eq!(
            json["identities"][0]["credentials"],
            json!({"status": "unknown"})
        );
        assert_eq!(
            json["providers"][0]["session"],
            json!({"status": "unknown"})
        );
    }

    #[test]
    fn relative_times() {
        assert_eq!(relative(at(45), now()), "in 45s");
        assert_eq!(relative(at(52 * 60 + 59), now()), "in 52m");
        assert_eq!(relative(now(), at(3 * 60 + 5)), "3m ago");
        assert_eq!(relative(now(), now()), "in 0s");
    }

    #[test]
    fn times_outside_humantime_range_are_clamped() {
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(MAX_RFC3339_SECS + 1_000);
        assert_eq!(rfc3339(far), "9999-12-31T23:59:59Z");
    }

    /// A name that tries to close the quoting of each format, with a secret-looking tail and
    /// a terminal escape, is escaped everywhere and never breaks the structure.
    fn hostile_view() -> ListView {
        let github = "p\"]; x -> y #|<b>";
        let oidc = provider_view(github, "github/oidc", "", SessionStatus::NotApplicable);
        let name = "evil\"\\n\u{1b}[31m/AKIASENTINEL0000";
        let role = identity(name, "aws/assume-role", provider(github), "arn:R");
        view(vec![oidc], vec![role])
    }

    #[test]
    fn hostile_names_are_escaped_in_dot() {
        let text = render(&hostile_view(), Format::Dot, now());
        let expected = r#"digraph "atmos-auth" {
    rankdir=LR;
    "provider:p\"]; x -> y #|<b>" [shape=box, label="p\"]; x -> y #|<b>\ngithub/oidc"];
    "identity:evil\"\\n\\u{1b}[31m/AKIASENTINEL0000" [shape=ellipse, label="evil\"\\n\\u{1b}[31m/AKIASENTINEL0000"];
    "provider:p\"]; x -> y #|<b>" -> "identity:evil\"\\n\\u{1b}[31m/AKIASENTINEL0000" [label="aws/assume-role"];
}
"#;
        assert_text(&text, expected);
    }

    #[test]
    fn hostile_names_are_escaped_in_mermaid() {
        let text = render(&hostile_view(), Format::Mermaid, now());
        let expected = r#"flowchart LR
    p_p____x____y____b_["p#34;]; x -#62; y #35;#124;#60;b#62; (github/oidc)"]
    i_evil__n__31m_AKIASENTINEL0000(["evil#34;\n#27;[31m/AKIASENTINEL0000"])
    p_p____x____y____b_ -->|"aws/assume-role"| i_evil__n__31m_AKIASENTINEL0000
"#;
        assert_text(&text, expected);
    }

    #[test]
    fn hostile_names_are_escaped_for_the_terminal() {
        for format in [Format::Table, Format::Tree] {
            let text = render(&hostile_view(), format, now());
            assert!(!text.contains('\u{1b}'), "{format:?}: {text}");
            assert!(text.contains("evil\"\\n\\u{1b}[31m/AKIASENTINEL0000"));
        }
        for format in [Format::Json, Format::Yaml] {
            let text = render(&hostile_view(), format, now());
            assert!(!text.contains('\u{1b}'), "{format:?}: {text}");
        }
        let json: serde_json::Value =
            serde_json::from_str(&render(&hostile_view(), Format::Json, now())).unwrap();
        let name = &hostile_view().identities[0].name;
        assert_eq!(json["identities"][0]["name"], *name);
        let yaml: serde_json::Value =
            serde_saphyr::from_str(&render(&hostile_view(), Format::Yaml, now())).unwrap();
        assert_eq!(yaml, json);
    }

    #[test]
    fn bidi_controls_are_escaped_in_yaml_as_in_json() {
        let name = "evil\u{202e}gpj.exe/\u{2066}x\u{2069}";
        let view = view(Vec::new(), vec![identity(name, "aws/user", None, "")]);
        let yaml = render(&view, Format::Yaml, now());
        assert!(
            !yaml.chars().any(|c| crate::text::is_unsafe(c) && c != '\n'),
            "{yaml}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render(&view, Format::Json, now())).unwrap();
        assert_eq!(json["identities"][0]["name"], name);
        let from_yaml: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(from_yaml, json);
    }

    #[test]
    fn mermaid_ids_stay_unique_when_names_reduce_alike() {
        let names = ["a-b", "a.b", "a_b", "end"];
        let view = view(
            Vec::new(),
            names
                .map(|name| identity(name, "aws/user", None, ""))
                .to_vec(),
        );
        let expected = r#"flowchart LR
    i_a_b(["a-b"])
    i_a_b_2(["a.b"])
    i_a_b_3(["a_b"])
    i_end(["end"])
"#;
        assert_text(&render(&view, Format::Mermaid, now()), expected);
    }

    #[test]
    fn cycles_and_dangling_references_are_shown_once_as_roots() {
        let view = view(
            Vec::new(),
            vec![
                identity("a", "aws/assume-role", through("b"), "arn:a"),
                identity("b", "aws/assume-role", through("a"), "arn:b"),
                identity("c", "aws/assume-role", provider("gone"), "arn:c"),
                identity("d", "aws/assume-role", through("d"), "arn:d"),
            ],
        );
        let expected = "\
c (aws/assume-role arn:c, no credentials)
d (aws/assume-role arn:d, no credentials)
a (aws/assume-role arn:a, no credentials)
└── b (aws/assume-role arn:b, no credentials)
";
        assert_text(&render(&view, Format::Tree, now()), expected);
    }

    #[test]
    fn graphviz_accepts_the_dot_output() {
        use std::io::Write as _;
        use std::process::{Command, Stdio};
        let installed = Command::new("dot").arg("-V").output().is_ok();
        assert!(
            installed,
            "graphviz's `dot` is missing: tests/run.sh installs it"
        );
        for view in [fixture(), hostile_view()] {
            let piped = Stdio::piped;
            let mut dot = Command::new("dot")
                .arg("-Tsvg")
                .stdin(piped())
                .stdout(piped())
                .stderr(piped())
                .spawn()
                .unwrap();
            let text = render(&view, Format::Dot, now());
            let mut stdin = dot.stdin.take().unwrap();
            stdin.write_all(text.as_bytes()).unwrap();
            drop(stdin);
            let output = dot.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success() && stderr.is_empty(), "{stderr}");
            let svg = String::from_utf8_lossy(&output.stdout);
            let nodes = view.providers.len() + view.identities.len();
            assert_eq!(svg.matches("class=\"node\"").count(), nodes, "{svg}");
        }
    }
}
