use std::path::Path;

use super::*;

const ARN: &str = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders-msk/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-3";

fn acl(
    resource_type: ResourceType,
    name: &str,
    pattern_type: PatternType,
    principal: &str,
    operation: AclOperation,
    permission: AclPermission,
) -> AclBinding {
    AclBinding {
        resource_type,
        name: name.into(),
        pattern_type,
        principal: principal.into(),
        host: "*".into(),
        operation,
        permission,
    }
}

/// A consumer, a transactional producer and an operator, with prefixed and literal patterns,
/// groups, transactional ids, cluster grants, a DENY, a host restriction and an operation
/// with no IAM equivalent.
fn fixture() -> Vec<AclBinding> {
    use AclOperation as Op;
    use AclPermission::{Allow, Deny};
    use PatternType::{Literal, Prefixed};
    use ResourceType::*;
    let mut acls = vec![
        acl(Topic, "orders.", Prefixed, "User:reader", Op::Read, Allow),
        acl(
            Topic,
            "orders.audit",
            Literal,
            "User:reader",
            Op::Read,
            Deny,
        ),
        acl(Group, "billing-", Prefixed, "User:reader", Op::Read, Allow),
        acl(
            Group,
            "billing-eu",
            Literal,
            "User:reader",
            Op::Describe,
            Allow,
        ),
        acl(Topic, "payments", Literal, "User:writer", Op::Write, Allow),
        acl(
            Topic,
            "payments",
            Literal,
            "User:writer",
            Op::Describe,
            Allow,
        ),
        acl(
            TransactionalId,
            "payments-tx-",
            Prefixed,
            "User:writer",
            Op::Write,
            Allow,
        ),
        acl(
            Cluster,
            "kafka-cluster",
            Literal,
            "User:writer",
            Op::IdempotentWrite,
            Allow,
        ),
        acl(Topic, "*", Literal, "User:ops", Op::Describe, Allow),
        acl(Topic, "*", Literal, "User:ops", Op::DescribeConfigs, Allow),
        acl(Group, "*", Literal, "User:ops", Op::All, Allow),
        acl(
            Cluster,
            "kafka-cluster",
            Literal,
            "User:ops",
            Op::Create,
            Allow,
        ),
        acl(
            Cluster,
            "kafka-cluster",
            Literal,
            "User:ops",
            Op::ClusterAction,
            Allow,
        ),
        acl(Topic, "secrets.", Prefixed, "User:ops", Op::All, Deny),
    ];
    let mut from_host = acl(Topic, "payments", Literal, "User:reader", Op::Read, Allow);
    from_host.host = "10.0.0.7".into();
    acls.push(from_host);
    acls
}

#[test]
fn export_matches_the_golden_file() {
    let cluster = MskCluster::parse(ARN).unwrap();
    let output = export_json(&cluster, &translate(&cluster, &fixture()));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/iam-policy.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{output}\n")).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        output.trim_end(),
        golden.trim_end(),
        "tests/golden/iam-policy.json differs: check the change, then UPDATE_GOLDEN=1 cargo test --lib iam_policy"
    );
}

#[test]
fn every_principal_connects_and_deny_is_explicit() {
    let cluster = MskCluster::parse(ARN).unwrap();
    let policies = translate(&cluster, &fixture());
    let principals: Vec<&str> = policies.iter().map(|p| p.principal.as_str()).collect();
    assert_eq!(principals, ["User:ops", "User:reader", "User:writer"]);
    for policy in &policies {
        assert!(policy
            .document
            .statements
            .iter()
            .any(|s| s.effect == Effect::Allow
                && s.actions.iter().any(|a| a == "kafka-cluster:Connect")
                && s.resources == [cluster.cluster_arn()]));
    }
    let reader = &policies[1];
    let deny: Vec<&Statement> = reader
        .document
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Deny)
        .collect();
    assert_eq!(deny.len(), 1);
    assert_eq!(deny[0].actions, ["kafka-cluster:ReadData"]);
    assert_eq!(
        deny[0].resources,
        ["arn:aws:kafka:eu-west-1:123456789012:topic/orders-msk/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-3/orders.audit"]
    );
    assert!(reader.not_translated[0].contains("host restriction"));
    assert!(policies[0].not_translated[0].contains("ClusterAction"));
}

#[test]
fn prefixed_patterns_become_wildcard_arns() {
    let cluster = MskCluster::parse(ARN).unwrap();
    let policies = translate(&cluster, &fixture());
    let resources: Vec<&str> = policies
        .iter()
        .flat_map(|p| &p.document.statements)
        .flat_map(|s| &s.resources)
        .map(String::as_str)
        .collect();
    let base = "arn:aws:kafka:eu-west-1:123456789012";
    let uuid = "orders-msk/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-3";
    for expected in [
        format!("{base}:topic/{uuid}/orders.*"),
        format!("{base}:group/{uuid}/billing-*"),
        format!("{base}:transactional-id/{uuid}/payments-tx-*"),
        format!("{base}:group/{uuid}/*"),
        format!("{base}:topic/{uuid}/secrets.*"),
    ] {
        assert!(
            resources.contains(&expected.as_str()),
            "{expected} in {resources:#?}"
        );
    }
}

#[test]
fn cluster_arns_are_checked() {
    assert!(MskCluster::parse(ARN).is_ok());
    for (bad, why) in [
        ("arn:aws:s3:::bucket", "not"),
        ("arn:aws:kafka:us-east-1:123:cluster/a/b", "12 digits"),
        (
            "arn:aws:kafka:us-east-1:123456789012:topic/a/b/c",
            "cluster/NAME/UUID",
        ),
        (
            "arn:aws:kafka:us-east-1:123456789012:cluster/a",
            "cluster/NAME/UUID",
        ),
        ("orders", "expected"),
    ] {
        let err = MskCluster::parse(bad).unwrap_err();
        assert!(err.contains(why), "{bad}: {err}");
    }
}
