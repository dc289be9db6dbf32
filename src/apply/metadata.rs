//! Carrying out a plan's metadata actions on the target, idempotently: an action already done
//! (topic exists with those settings, partitions already there, ACL present) counts as done.

use rdkafka::admin::{AdminOptions, NewPartitions};
use rdkafka::types::RDKafkaErrorCode;

use crate::cluster::native::{AlterConfigOp, ConfigResourceKind};
use crate::cluster::{ClusterClient, ClusterError};
use crate::plan::{Action, ConfigChange, ADMIN_TIMEOUT as TIMEOUT};

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
            let operation = format!("creating topic \"{topic}\"");
            let results = target
                .ext()
                .create_topics(action.new_topic().into_iter().collect(), false, TIMEOUT)
                .await
                .map_err(|e| target.ext_error(&operation, e))?;
            match results.into_iter().next() {
                Some((_, Err(e))) if e.code == RDKafkaErrorCode::TopicAlreadyExists => {
                    Ok(Outcome::AlreadyDone)
                }
                Some((_, Err(e))) => Err(target.ext_error(&operation, e)),
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
            let ops: Vec<AlterConfigOp> = changes.iter().map(ConfigChange::alter_op).collect();
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
