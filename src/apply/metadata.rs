//! Carrying out a plan's metadata actions on the target, idempotently: an action already done
//! (topic exists with those settings, partitions already there, ACL present, quotas set)
//! counts as done.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminOptions, NewPartitions};
use rdkafka::types::RDKafkaErrorCode;

use crate::cluster::native::{AlterConfigOp, ConfigResourceKind};
use crate::cluster::quotas::{ClientQuota, QuotaAlteration};
use crate::cluster::ADMIN_TIMEOUT as TIMEOUT;
use crate::cluster::{ClusterClient, ClusterError};
use crate::plan::{Action, ConfigChange};

/// What happened to one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The target already had it (an earlier, interrupted apply, or someone else).
    AlreadyDone,
}

/// Topics apply creates together at most. Each group is one CreateTopics request (or a few,
/// for topics with many partitions: see `MAX_RECORDS_PER_REQUEST`), instead of a round trip
/// to the controller per topic; an interrupted apply leaves whole groups done, and progress
/// is reported after each.
pub const TOPICS_PER_CREATE: usize = 100;

/// Carries out one action on the target.
pub async fn execute(target: &ClusterClient, action: &Action) -> Result<Outcome, ClusterError> {
    let opts = AdminOptions::new()
        .operation_timeout(Some(TIMEOUT))
        .request_timeout(Some(TIMEOUT));
    match action {
        Action::CreateTopic { .. } => Ok(execute_topics(target, &[action])
            .await?
            .pop()
            .unwrap_or(Outcome::Done)),
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
        Action::SetClientQuotas { .. } => Ok(execute_quotas(target, &[action])
            .await?
            .pop()
            .unwrap_or(Outcome::Done)),
    }
}

/// Creates the topics of `actions` (all [`Action::CreateTopic`]) together; outcomes in the
/// actions' order. The first topic the target refuses fails the call, naming it; the others
/// created with it stay created (a rerun counts them as already done).
pub async fn execute_topics(
    target: &ClusterClient,
    actions: &[&Action],
) -> Result<Vec<Outcome>, ClusterError> {
    let topics: Vec<_> = actions.iter().filter_map(|a| a.new_topic()).collect();
    let names: Vec<String> = topics.iter().map(|t| t.name.clone()).collect();
    let operation = match topics.as_slice() {
        [one] => format!("creating topic \"{}\"", one.name),
        many => format!("creating {} topics", many.len()),
    };
    let results = target
        .ext()
        .create_topics(topics, false, TIMEOUT)
        .await
        .map_err(|e| target.ext_error(&operation, e))?;
    let mut by_topic: HashMap<String, _> = results.into_iter().collect();
    let mut outcomes = Vec::with_capacity(names.len());
    for topic in names {
        outcomes.push(match by_topic.remove(&topic) {
            Some(Ok(())) => Outcome::Done,
            Some(Err(e)) if e.code == RDKafkaErrorCode::TopicAlreadyExists => Outcome::AlreadyDone,
            Some(Err(e)) => return Err(target.ext_error(&format!("creating topic \"{topic}\""), e)),
            None => {
                return Err(target.error(
                    &format!("creating topic \"{topic}\""),
                    "the target's answer left the topic out".to_string(),
                ))
            }
        });
    }
    Ok(outcomes)
}

/// How long apply waits for the target to show quotas it has set.
const QUOTAS_VISIBLE: Duration = Duration::from_secs(30);

/// The quotas `actions` (all [`Action::SetClientQuotas`]) leave their entities with.
fn wanted(actions: &[&Action]) -> Vec<QuotaAlteration> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SetClientQuotas { entity, changes } => Some(QuotaAlteration {
                entity: entity.clone(),
                ops: changes.iter().map(|c| (c.key.clone(), c.after)).collect(),
            }),
            _ => None,
        })
        .collect()
}

/// Whether `quotas` already hold what `alteration` sets and removes.
fn holds(quotas: &[ClientQuota], alteration: &QuotaAlteration) -> bool {
    let values = quotas
        .iter()
        .find(|q| q.entity == alteration.entity)
        .map(|q| &q.values);
    alteration
        .ops
        .iter()
        .all(|(key, value)| values.and_then(|v| v.get(key)).copied() == *value)
}

/// Carries out client quota actions together (one connection, batched requests), then waits
/// until the target describes them as set: a broker answers DescribeClientQuotas from its copy
/// of the cluster metadata, which follows the controller's. Outcomes in the actions' order.
pub async fn execute_quotas(
    target: &ClusterClient,
    actions: &[&Action],
) -> Result<Vec<Outcome>, ClusterError> {
    let wanted = wanted(actions);
    let current = target.client_quotas().await?;
    let outcomes: Vec<Outcome> = wanted
        .iter()
        .map(|a| {
            if holds(&current, a) {
                Outcome::AlreadyDone
            } else {
                Outcome::Done
            }
        })
        .collect();
    let alterations: Vec<QuotaAlteration> = wanted
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == Outcome::Done)
        .map(|(a, _)| a.clone())
        .collect();
    if alterations.is_empty() {
        return Ok(outcomes);
    }
    target.alter_client_quotas(alterations).await?;
    let started = Instant::now();
    loop {
        let now = target.client_quotas().await?;
        if wanted.iter().all(|a| holds(&now, a)) {
            return Ok(outcomes);
        }
        if started.elapsed() > QUOTAS_VISIBLE {
            return Err(target.error(
                "setting client quotas",
                format!(
                    "the target accepted them but did not show them within {}s",
                    QUOTAS_VISIBLE.as_secs()
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
