//! The identity graph: chains through `via.identity`, cycles, and the provider and region an
//! identity ends up with.

use super::identity_kinds::{KINDS, kinds_edit};
use super::*;

fn names<'c>(identities: impl IntoIterator<Item = &'c Identity>) -> Vec<&'c str> {
    identities.into_iter().map(|i| i.name.as_str()).collect()
}

#[test]
fn chain_of_depth_three_is_root_first() {
    let config = from_strs(&[(BASE, KINDS)]).unwrap();
    let readonly = config.identity("prod/readonly").unwrap();
    assert_eq!(
        names(config.chain(readonly)),
        ["core/admin", "prod/deployer", "prod/readonly"]
    );
    let deployer = config.identity("prod/deployer").unwrap();
    assert_eq!(
        names(config.chain(deployer)),
        ["core/admin", "prod/deployer"]
    );
    for root in ["core/admin", "ci/deploy", "me", "vault"] {
        let identity = config.identity(root).unwrap();
        assert_eq!(names(config.chain(identity)), [root]);
    }
}

#[test]
fn provider_for_is_the_identitys_own_via_provider() {
    let config = from_strs(&[(BASE, KINDS)]).unwrap();
    let provider = |name: &str| {
        config
            .provider_for(config.identity(name).unwrap())
            .map(|p| p.name.as_str())
    };
    assert_eq!(provider("core/admin"), Some("sso"));
    assert_eq!(provider("ci/deploy"), Some("github"));
    // Chained identities have no provider of their own; their root has.
    assert_eq!(provider("prod/readonly"), None);
    assert_eq!(provider("me"), None);
    assert_eq!(provider("helper"), None);
}

#[test]
fn region_for_prefers_the_identity_then_the_chain_then_the_roots_provider() {
    let region = |yaml: &str, name: &str| {
        let config = from_strs(&[(BASE, yaml)]).unwrap();
        config
            .region_for(config.identity(name).unwrap())
            .map(str::to_owned)
    };
    let own = Some("ap-south-1".to_owned());
    let root_identity = Some("us-west-2".to_owned());
    // Its own region wins over everything along the chain.
    assert_eq!(region(KINDS, "prod/readonly"), own);
    // Without one, the nearest region toward the root: here the root identity's.
    assert_eq!(region(KINDS, "prod/deployer"), root_identity);
    let without_own = kinds_edit("      region: ap-south-1\n", "");
    assert_eq!(region(&without_own, "prod/readonly"), root_identity);
    // A region in the middle of the chain is nearer than the root's.
    let middle = without_own.replacen(
        "        identity: core/admin\n",
        "        identity: core/admin\n      region: ca-central-1\n",
        1,
    );
    assert_eq!(
        region(&middle, "prod/readonly"),
        Some("ca-central-1".to_owned())
    );
    // No identity region at all: the root's Identity Center region.
    let none = without_own.replacen("      region: us-west-2\n", "", 1);
    assert_eq!(region(&none, "prod/readonly"), Some("us-east-1".to_owned()));
    assert_eq!(region(&none, "core/admin"), Some("us-east-1".to_owned()));
    // A GitHub provider's region when it has one, and nothing when it has none.
    assert_eq!(region(KINDS, "ci/deploy"), Some("eu-west-1".to_owned()));
    let github_default = kinds_edit("via: { provider: github }", "via: { provider: gh-default }");
    assert_eq!(region(&github_default, "ci/deploy"), None);
    // Roots without a provider have only their own region.
    assert_eq!(region(KINDS, "me"), None);
    assert_eq!(region(KINDS, "helper"), Some("us-east-2".to_owned()));
}

/// A role identity chained from `via`, on one line.
fn role(name: &str, via: &str) -> String {
    format!(
        "    {name}: {{kind: aws/assume-role, via: {{identity: {via}}}, principal: {{assume_role: \"arn:aws:iam::111111111111:role/{name}\"}}}}\n"
    )
}

/// `role` lines under `auth.identities`, after a user identity `root` on line 3.
fn graph(roles: &[(&str, &str)]) -> String {
    let mut yaml = "auth:\n  identities:\n    root: {kind: aws/user}\n".to_owned();
    for (name, via) in roles {
        yaml += &role(name, via);
    }
    yaml
}

/// The column of a `role` line's `via.identity` value, when names are one character long.
const VIA_COLUMN: usize = 48;

const CYCLE_HINT: &str = "help: one identity of the chain must get its credentials without `via.identity`: from a provider with `via.provider`, or as an `aws/user` or `credential_process` identity";

#[test]
fn cycle_of_two_is_reported_once_at_its_first_member() {
    let yaml = graph(&[("a", "b"), ("b", "a")]);
    let expected = format!(
        "atmos.yaml:4:{VIA_COLUMN}: `auth.identities.a.via.identity` closes a cycle: `a → b → a` | {CYCLE_HINT}"
    );
    assert_diagnostics(&[(BASE, &yaml)], &[&expected]);
}

#[test]
fn cycle_of_three_names_every_member_in_order_from_the_first_written() {
    // Written c, a, b: the cycle starts at `c`, the first of its members in the file.
    let yaml = graph(&[("c", "a"), ("a", "b"), ("b", "c")]);
    let expected = format!(
        "atmos.yaml:4:{VIA_COLUMN}: `auth.identities.c.via.identity` closes a cycle: `c → a → b → c` | {CYCLE_HINT}"
    );
    assert_diagnostics(&[(BASE, &yaml)], &[&expected]);
}

#[test]
fn chains_into_a_cycle_and_separate_cycles() {
    // `t` leads into the cycle without being part of it; `s` is its own cycle; `u` is fine.
    let yaml = graph(&[
        ("t", "a"),
        ("a", "b"),
        ("u", "root"),
        ("b", "a"),
        ("s", "s"),
    ]);
    assert_diagnostics(
        &[(BASE, &yaml)],
        &[
            &format!(
                "atmos.yaml:5:{VIA_COLUMN}: `auth.identities.a.via.identity` closes a cycle: `a → b → a` | {CYCLE_HINT}"
            ),
            &format!(
                "atmos.yaml:8:{VIA_COLUMN}: `auth.identities.s.via.identity` closes a cycle: `s → s` | {CYCLE_HINT}"
            ),
        ],
    );
}

#[test]
fn cycles_are_found_even_when_members_have_other_errors() {
    let yaml = graph(&[("a", "b"), ("b", "a")]).replace("role/b\"", "user/b\"");
    assert_diagnostics(
        &[(BASE, &yaml)],
        &[
            &format!(
                "atmos.yaml:4:{VIA_COLUMN}: `auth.identities.a.via.identity` closes a cycle: `a → b → a` | {CYCLE_HINT}"
            ),
            "atmos.yaml:5:77: invalid role ARN `arn:aws:iam::111111111111:user/b` for `auth.identities.b.principal.assume_role`: the resource must start with `role/` | help: use the form `arn:aws:iam::123456789012:role/<name>`",
        ],
    );
}

#[test]
fn chains_may_start_from_any_kind_of_root() {
    let yaml = graph(&[("a", "root"), ("b", "a")]);
    let config = from_strs(&[(BASE, &yaml)]).unwrap();
    assert_eq!(
        names(config.chain(config.identity("b").unwrap())),
        ["root", "a", "b"]
    );
}

/// A hand-built `Config` can hold a cycle that loading would refuse; walking it must end.
#[test]
fn chain_of_a_hand_built_cycle_ends() {
    let yaml = graph(&[("a", "root"), ("b", "a")]);
    let mut config = from_strs(&[(BASE, &yaml)]).unwrap();
    let a = config.auth.identities.get_mut("a").unwrap();
    let IdentityKind::AssumeRole { via, .. } = &mut a.kind else {
        panic!()
    };
    *via = Via::Identity("b".to_owned());
    let b = config.identity("b").unwrap();
    assert_eq!(names(config.chain(b)), ["a", "b"]);
    assert_eq!(config.region_for(b), None);
}
