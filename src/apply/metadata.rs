//! Carrying out a plan's metadata actions on the target, idempotently: an action already done
//! (topic exists with those settings, partitions already there, ACL present) counts as done.

use std::time::Duration;

use rdkafka::admin::{AdminOptions, NewPartitions, NewTopic, TopicReplication};
use rdkafka::types::RDKafkaErrorCode;

use crate::cluster::native::{AlterConfigOp, AlterOp, ConfigResourceKind};
use crate::cluster::{ClusterClient, ClusterError};
use crate::plan::{Action, Blocker, BlockerKind, ConfigChange};

const TIMEOUT: Duration = Duration::from_secs(60);

/// What happened to one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The target already had it (an earlier, interrupted apply, or someone else).
    AlreadyDone,
}

/// Carries out one action on the target.
pub async fn execute(target: &ClusterClient, action: &Action) -> Result<Outcome, ClusterError> {
    let opts = AdminOptions::new()
        .operation_timeout(Some(TIMEOUT))
        .request_timeout(Some(TIMEOUT));
    match action {
        Action::CreateTopic { topic, .. } => {
            let new = new_topic(action).into_iter().collect::<Vec<_>>();
            let results = target
                .admin()
                .create_topics(new.iter(), &opts)
                .await
                .map_err(|e| target.kafka_error(&format!("creating topic \"{topic}\""), e))?;
            match results.into_iter().next() {
                Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => Ok(Outcome::AlreadyDone),
                Some(Err((_, code))) => {
                    Err(target.error(&format!("creating topic \"{topic}\""), code.to_string()))
                }
                _ => Ok(Outcome::Done),
            }
        }
        Action::CreatePartitions { topic, after, .. } => {
            let new = NewPartitions::new(topic, *after as usize);
            let results = target
                .admin()
                .create_partitions([&new], &opts)
                .await
                .map_err(|e| {
                    target.kafka_error(&format!("adding partitions to topic \"{topic}\""), e)
                })?;
            match results.into_iter().next() {
                // The topic already has that many partitions (or more, which plan blocks).
                Some(Err((_, RDKafkaErrorCode::InvalidPartitions))) => Ok(Outcome::AlreadyDone),
                Some(Err((_, code))) => Err(target.error(
                    &format!("adding partitions to topic \"{topic}\""),
                    code.to_string(),
                )),
                _ => Ok(Outcome::Done),
            }
        }
        Action::UpdateTopicConfig { topic, changes } => {
            let ops: Vec<AlterConfigOp> = changes.iter().map(alter_op).collect();
            target
                .ext()
                .incremental_alter_configs(
                    vec![(ConfigResourceKind::Topic, topic.clone(), ops)],
                    false,
                )
                .await
                .map_err(|e| {
                    target.ext_error(&format!("updating configs of topic \"{topic}\""), e)
                })?;
            Ok(Outcome::Done)
        }
        Action::CreateAcl { binding, .. } => {
            target
                .ext()
                .create_acls(vec![binding.clone()])
                .await
                .map_err(|e| target.ext_error(&format!("creating acl {binding}"), e))?;
            Ok(Outcome::Done)
        }
    }
}

/// Asks the target, in validate-only mode, whether it would accept each topic creation and
/// config change; every refusal becomes a blocker naming the topic and the broker's reason.
pub async fn validate_on_target(
    target: &ClusterClient,
    actions: &[Action],
) -> Result<Vec<Blocker>, ClusterError> {
    let opts = AdminOptions::new()
        .validate_only(true)
        .operation_timeout(Some(TIMEOUT))
        .request_timeout(Some(TIMEOUT));
    let mut blockers = Vec::new();
    let creates: Vec<NewTopic<'_>> = actions.iter().filter_map(new_topic).collect();
    if !creates.is_empty() {
        let results = target
            .admin()
            .create_topics(creates.iter(), &opts)
            .await
            .map_err(|e| target.kafka_error("validating topic creations", e))?;
        for result in results {
            if let Err((topic, code)) = result {
                if code != RDKafkaErrorCode::TopicAlreadyExists {
                    blockers.push(Blocker {
                        kind: BlockerKind::ConfigRejected,
                        subject: format!("topic \"{topic}\""),
                        reason: format!("the target refuses to create it as planned: {code}"),
                    });
                }
            }
        }
    }
    for action in actions {
        if let Action::UpdateTopicConfig { topic, changes } = action {
            let ops = changes.iter().map(alter_op).collect();
            if let Err(e) = target
                .ext()
                .incremental_alter_configs(
                    vec![(ConfigResourceKind::Topic, topic.clone(), ops)],
                    true,
                )
                .await
            {
                blockers.push(Blocker {
                    kind: BlockerKind::ConfigRejected,
                    subject: format!("topic \"{topic}\""),
                    reason: format!("the target refuses the config change: {e}"),
                });
            }
        }
    }
    Ok(blockers)
}

/// The topic a `CreateTopic` action creates.
fn new_topic(action: &Action) -> Option<NewTopic<'_>> {
    let Action::CreateTopic {
        topic,
        partitions,
        replication_factor,
        configs,
    } = action
    else {
        return None;
    };
    let mut new = NewTopic::new(
        topic,
        *partitions,
        TopicReplication::Fixed(*replication_factor),
    );
    for (k, v) in configs {
        new = new.set(k, v);
    }
    Some(new)
}

fn alter_op(change: &ConfigChange) -> AlterConfigOp {
    AlterConfigOp {
        name: change.key.clone(),
        op: if change.after.is_some() {
            AlterOp::Set
        } else {
            AlterOp::Delete
        },
        value: change.after.clone(),
    }
}
