//! Kafka ACLs → IAM policy documents for an MSK cluster with IAM access control: one policy
//! per principal, with MSK's `kafka-cluster:*` actions on MSK's cluster, topic, group and
//! transactional-id ARNs. Pure translation: which ACLs to translate is the caller's choice.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cluster::native::{AclBinding, AclOperation, AclPermission, PatternType, ResourceType};
pub use crate::config::MskCluster;

/// The IAM policy for one Kafka principal, and the ACLs it could not express.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PrincipalPolicy {
    /// The principal on the target (after `principal_map`), such as "User:alice".
    pub principal: String,
    /// The IAM policy document to attach to the IAM identity that principal becomes.
    pub document: PolicyDocument,
    /// ACLs with no IAM equivalent, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_translated: Vec<String>,
}

/// An IAM policy document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PolicyDocument {
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Statement")]
    pub statements: Vec<Statement>,
}

/// One statement: these actions are allowed (or denied) on these resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Statement {
    #[serde(rename = "Effect")]
    pub effect: Effect,
    #[serde(rename = "Action")]
    pub actions: Vec<String>,
    #[serde(rename = "Resource")]
    pub resources: Vec<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum Effect {
    Allow,
    Deny,
}

/// Translates ACL bindings into one policy per principal, in principal order. Every principal
/// may connect; each ALLOW binding adds the actions its operation needs, each DENY binding an
/// explicit Deny of the actions its operation names (not of those it merely needs, so a
/// denied Read still leaves DescribeTopic to other grants, as in Kafka).
pub fn translate(cluster: &MskCluster, bindings: &[AclBinding]) -> Vec<PrincipalPolicy> {
    let mut by_principal: BTreeMap<&str, Vec<&AclBinding>> = BTreeMap::new();
    for binding in bindings {
        by_principal
            .entry(binding.principal.as_str())
            .or_default()
            .push(binding);
    }
    by_principal
        .into_iter()
        .map(|(principal, bindings)| principal_policy(cluster, principal, &bindings))
        .collect()
}

fn principal_policy(
    cluster: &MskCluster,
    principal: &str,
    bindings: &[&AclBinding],
) -> PrincipalPolicy {
    // (effect, resource) → actions; then statements group resources with the same actions.
    let mut grants: BTreeMap<(Effect, String), Vec<&'static str>> = BTreeMap::new();
    grants.insert(
        (Effect::Allow, cluster.cluster_arn()),
        vec!["kafka-cluster:Connect"],
    );
    let mut not_translated = Vec::new();
    for binding in bindings {
        let effect = match binding.permission {
            AclPermission::Allow => Effect::Allow,
            AclPermission::Deny => Effect::Deny,
        };
        let actions = actions(binding.resource_type, binding.operation, effect);
        if actions.is_empty() {
            not_translated.push(format!("{binding}: no MSK IAM action corresponds"));
            continue;
        }
        if binding.host != "*" {
            not_translated.push(format!(
                "{binding}: the host restriction is dropped (IAM policies here do not restrict by host)"
            ));
        }
        // Kafka's cluster-level Create lets a principal create any topic.
        let resource = if binding.resource_type == ResourceType::Cluster
            && binding.operation == AclOperation::Create
        {
            cluster.arn("topic", Some("*"))
        } else {
            resource_arn(cluster, binding)
        };
        let entry = grants.entry((effect, resource)).or_default();
        entry.extend(actions);
        entry.sort_unstable();
        entry.dedup();
    }
    let mut statements: BTreeMap<(Effect, Vec<&'static str>), Vec<String>> = BTreeMap::new();
    for ((effect, resource), actions) in grants {
        statements
            .entry((effect, actions))
            .or_default()
            .push(resource);
    }
    PrincipalPolicy {
        principal: principal.to_string(),
        document: PolicyDocument {
            version: "2012-10-17".into(),
            statements: statements
                .into_iter()
                .map(|((effect, actions), resources)| Statement {
                    effect,
                    actions: actions.into_iter().map(String::from).collect(),
                    resources,
                })
                .collect(),
        },
        not_translated,
    }
}

/// MSK IAM actions for a Kafka operation on a resource type. An Allow includes the actions
/// the operation depends on (reading a topic needs describing it); a Deny names only the
/// operation's own actions.
fn actions(resource: ResourceType, operation: AclOperation, effect: Effect) -> Vec<&'static str> {
    use AclOperation as Op;
    let allow = effect == Effect::Allow;
    let with_describe = |own: &'static str, describe: &'static str| {
        if allow {
            vec![describe, own]
        } else {
            vec![own]
        }
    };
    let actions: Vec<&'static str> = match (resource, operation) {
        (ResourceType::Topic, Op::Read) => {
            with_describe("kafka-cluster:ReadData", "kafka-cluster:DescribeTopic")
        }
        (ResourceType::Topic, Op::Write) => {
            with_describe("kafka-cluster:WriteData", "kafka-cluster:DescribeTopic")
        }
        (ResourceType::Topic, Op::Create) => vec!["kafka-cluster:CreateTopic"],
        (ResourceType::Topic, Op::Delete) => vec!["kafka-cluster:DeleteTopic"],
        (ResourceType::Topic, Op::Alter) => {
            with_describe("kafka-cluster:AlterTopic", "kafka-cluster:DescribeTopic")
        }
        (ResourceType::Topic, Op::Describe) => vec!["kafka-cluster:DescribeTopic"],
        (ResourceType::Topic, Op::DescribeConfigs) => {
            vec!["kafka-cluster:DescribeTopicDynamicConfiguration"]
        }
        (ResourceType::Topic, Op::AlterConfigs) => {
            vec!["kafka-cluster:AlterTopicDynamicConfiguration"]
        }
        (ResourceType::Topic, Op::All) => vec![
            "kafka-cluster:AlterTopic",
            "kafka-cluster:AlterTopicDynamicConfiguration",
            "kafka-cluster:CreateTopic",
            "kafka-cluster:DeleteTopic",
            "kafka-cluster:DescribeTopic",
            "kafka-cluster:DescribeTopicDynamicConfiguration",
            "kafka-cluster:ReadData",
            "kafka-cluster:WriteData",
        ],
        (ResourceType::Group, Op::Read) => {
            with_describe("kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup")
        }
        (ResourceType::Group, Op::Describe) => vec!["kafka-cluster:DescribeGroup"],
        (ResourceType::Group, Op::Delete) => vec!["kafka-cluster:DeleteGroup"],
        (ResourceType::Group, Op::All) => vec![
            "kafka-cluster:AlterGroup",
            "kafka-cluster:DeleteGroup",
            "kafka-cluster:DescribeGroup",
        ],
        (ResourceType::TransactionalId, Op::Write) => with_describe(
            "kafka-cluster:AlterTransactionalId",
            "kafka-cluster:DescribeTransactionalId",
        ),
        (ResourceType::TransactionalId, Op::Describe) => {
            vec!["kafka-cluster:DescribeTransactionalId"]
        }
        (ResourceType::TransactionalId, Op::All) => vec![
            "kafka-cluster:AlterTransactionalId",
            "kafka-cluster:DescribeTransactionalId",
        ],
        (ResourceType::Cluster, Op::Create) => vec!["kafka-cluster:CreateTopic"],
        (ResourceType::Cluster, Op::Alter) => with_describe(
            "kafka-cluster:AlterCluster",
            "kafka-cluster:DescribeCluster",
        ),
        (ResourceType::Cluster, Op::Describe) => vec!["kafka-cluster:DescribeCluster"],
        (ResourceType::Cluster, Op::DescribeConfigs) => {
            vec!["kafka-cluster:DescribeClusterDynamicConfiguration"]
        }
        (ResourceType::Cluster, Op::AlterConfigs) => {
            vec!["kafka-cluster:AlterClusterDynamicConfiguration"]
        }
        (ResourceType::Cluster, Op::IdempotentWrite) => {
            vec!["kafka-cluster:WriteDataIdempotently"]
        }
        (ResourceType::Cluster, Op::All) => vec![
            "kafka-cluster:AlterCluster",
            "kafka-cluster:AlterClusterDynamicConfiguration",
            "kafka-cluster:DescribeCluster",
            "kafka-cluster:DescribeClusterDynamicConfiguration",
            "kafka-cluster:WriteDataIdempotently",
        ],
        _ => Vec::new(),
    };
    let mut actions = actions;
    actions.sort_unstable();
    actions
}

/// What `export iam-policy` prints: the cluster and one policy per principal, as JSON.
pub fn export_json(cluster: &MskCluster, policies: &[PrincipalPolicy]) -> String {
    #[derive(Serialize)]
    struct Export<'a> {
        cluster_arn: String,
        policies: &'a [PrincipalPolicy],
    }
    let export = Export {
        cluster_arn: cluster.cluster_arn(),
        policies,
    };
    crate::quote::json_pretty(&export).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

#[cfg(test)]
mod tests;

/// The ARN of the resources an ACL's resource pattern covers: a prefixed pattern or `*`
/// becomes a wildcard.
fn resource_arn(cluster: &MskCluster, binding: &AclBinding) -> String {
    let kind = match binding.resource_type {
        ResourceType::Cluster => return cluster.cluster_arn(),
        ResourceType::Topic => "topic",
        ResourceType::Group => "group",
        ResourceType::TransactionalId => "transactional-id",
    };
    let name = match binding.pattern_type {
        PatternType::Prefixed => format!("{}*", binding.name),
        PatternType::Literal => binding.name.clone(),
    };
    cluster.arn(kind, Some(&name))
}
