//! The target's word on a plan: each topic creation and config change asked in validate-only
//! mode while the plan is made, so that what the target would refuse is left out with a
//! warning or becomes a blocker before anything is applied.

use std::time::Duration;

use rdkafka::types::RDKafkaErrorCode;

use crate::cluster::native::{
    AdminExtError, AlterConfigOp, AlterOp, ConfigResourceKind, NewTopicSpec,
};
use crate::cluster::{ClusterClient, ClusterError};
use crate::config::Migration;

use super::{Action, Blocker, BlockerKind, ConfigChange, Plan};

/// How long an admin request to the target may take.
pub const ADMIN_TIMEOUT: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = ADMIN_TIMEOUT;

/// Asks the target, in validate-only mode, whether it would accept each topic creation and
/// config change of `plan`. A refusal that names a config copied from the source (one the
/// target's version does not know or rejects) leaves that config out of the plan with a
/// warning, and the rest is asked again; any other refusal becomes a blocker naming what was
/// refused, the broker's message and the setting that gets past it.
pub async fn validate_on_target(
    migration: &Migration,
    target: &ClusterClient,
    plan: &mut Plan,
) -> Result<(), ClusterError> {
    let creates: Vec<NewTopicSpec> = plan.actions.iter().filter_map(Action::new_topic).collect();
    let mut refused: Vec<String> = Vec::new();
    if !creates.is_empty() {
        let results = target
            .ext()
            .create_topics(creates, true, TIMEOUT)
            .await
            .map_err(|e| target.ext_error("validating topic creations", e))?;
        refused = results
            .into_iter()
            .filter(|(_, r)| {
                r.as_ref()
                    .is_err_and(|e| e.code != RDKafkaErrorCode::TopicAlreadyExists)
            })
            .map(|(topic, _)| topic)
            .collect();
    }
    let Plan {
        actions,
        blockers,
        warnings,
        ..
    } = plan;
    for action in actions.iter_mut() {
        let asked_again = match action {
            Action::CreateTopic { topic, .. } => refused.contains(topic),
            Action::UpdateTopicConfig { .. } => true,
            _ => false,
        };
        if !asked_again {
            continue;
        }
        // Each refusal names at most one config: leave it out and ask again.
        while !matches!(action, Action::UpdateTopicConfig { changes, .. } if changes.is_empty()) {
            let Some(refusal) = validate_one(target, action).await? else {
                break;
            };
            let (topic, configs) = planned_configs(action);
            let named = named_config(&refusal.message, &configs);
            let from_source = named
                .clone()
                .filter(|(key, _)| !migration.topics.config.overrides().any(|(k, _)| k == key));
            if let Some((key, value)) = from_source {
                let why = format!("the target refuses it ({})", refusal.message);
                warnings.push(super::left_out(&topic, &key, &value, &why));
                leave_out(action, &key);
                continue;
            }
            blockers.push(Blocker {
                kind: BlockerKind::ConfigRejected,
                subject: format!("topic \"{topic}\""),
                reason: refusal_reason(action, named, &refusal),
            });
            break;
        }
    }
    // A config change whose every config was left out changes nothing.
    actions
        .retain(|a| !matches!(a, Action::UpdateTopicConfig { changes, .. } if changes.is_empty()));
    Ok(())
}

/// The target's validate-only answer to one topic creation or config change.
async fn validate_one(
    target: &ClusterClient,
    action: &Action,
) -> Result<Option<AdminExtError>, ClusterError> {
    match action {
        Action::CreateTopic { topic, .. } => {
            let results = target
                .ext()
                .create_topics(action.new_topic().into_iter().collect(), true, TIMEOUT)
                .await
                .map_err(|e| target.ext_error(&format!("validating topic \"{topic}\""), e))?;
            Ok(results.into_iter().find_map(|(_, r)| {
                r.err()
                    .filter(|e| e.code != RDKafkaErrorCode::TopicAlreadyExists)
            }))
        }
        Action::UpdateTopicConfig { topic, changes } => Ok(target
            .ext()
            .incremental_alter_configs(
                vec![(
                    ConfigResourceKind::Topic,
                    topic.clone(),
                    changes.iter().map(ConfigChange::alter_op).collect(),
                )],
                true,
            )
            .await
            .err()),
        _ => Ok(None),
    }
}

/// The topic of a creation or config change, and the configs it sets.
fn planned_configs(action: &Action) -> (String, Vec<(String, String)>) {
    match action {
        Action::CreateTopic { topic, configs, .. } => (
            topic.clone(),
            configs
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        Action::UpdateTopicConfig { topic, changes } => (
            topic.clone(),
            changes
                .iter()
                .filter_map(|c| Some((c.key.clone(), c.after.clone()?)))
                .collect(),
        ),
        _ => (String::new(), Vec::new()),
    }
}

/// The config among `configs` that the broker's `message` names, as a whole word.
fn named_config(message: &str, configs: &[(String, String)]) -> Option<(String, String)> {
    let words: Vec<&str> = message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-'))
        .map(|w| w.trim_end_matches('.'))
        .collect();
    configs
        .iter()
        .find(|(key, _)| words.contains(&key.as_str()))
        .cloned()
}

/// Removes config `key` from a creation or config change.
fn leave_out(action: &mut Action, key: &str) {
    match action {
        Action::CreateTopic { configs, .. } => {
            configs.remove(key);
        }
        Action::UpdateTopicConfig { changes, .. } => changes.retain(|c| c.key != key),
        _ => {}
    }
}

/// Why the target refuses `action`, with what gets past it.
fn refusal_reason(
    action: &Action,
    named: Option<(String, String)>,
    refusal: &AdminExtError,
) -> String {
    let what = match action {
        Action::CreateTopic { .. } => "to create it as planned",
        _ => "the config change",
    };
    let broker = format!(
        "the broker says \"{}\" ({:?})",
        refusal.message, refusal.code
    );
    match named {
        Some((key, value)) => format!(
            "the target refuses {what}: config {key}={value} from `topics.config.override`: \
             {broker}; change or remove it there"
        ),
        None => {
            let (_, configs) = planned_configs(action);
            let keys: Vec<String> = configs.iter().map(|(k, _)| format!("\"{k}\"")).collect();
            let hint = if keys.is_empty() {
                String::new()
            } else {
                format!(
                    "; if one of its configs is the cause, `topics.config.exclude = [{}]` \
                     (the ones concerned) leaves it out",
                    keys.join(", ")
                )
            };
            format!("the target refuses {what}: {broker}{hint}")
        }
    }
}

impl Action {
    /// The topic a `CreateTopic` action creates.
    pub fn new_topic(&self) -> Option<NewTopicSpec> {
        let Action::CreateTopic {
            topic,
            partitions,
            replication_factor,
            configs,
        } = self
        else {
            return None;
        };
        Some(NewTopicSpec {
            name: topic.clone(),
            partitions: *partitions,
            replication_factor: *replication_factor,
            configs: configs.clone(),
        })
    }
}

impl ConfigChange {
    /// The incremental alter-config operation that makes this change.
    pub fn alter_op(&self) -> AlterConfigOp {
        AlterConfigOp {
            name: self.key.clone(),
            op: if self.after.is_some() {
                AlterOp::Set
            } else {
                AlterOp::Delete
            },
            value: self.after.clone(),
        }
    }
}
