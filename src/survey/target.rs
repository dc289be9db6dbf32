//! The target's word on a draft plan: each topic creation and config change asked in
//! validate-only mode, all creations at once first, then one by one those refused and every
//! config change — after each refusal that leaves a config copied from the source out
//! ([`crate::plan::take_refusal`]), again without it. Changes nothing on the target.

use rdkafka::types::RDKafkaErrorCode;

use crate::cluster::native::{AdminExtError, ConfigResourceKind, NewTopicSpec};
use crate::cluster::{ClusterClient, ClusterError, ADMIN_TIMEOUT as TIMEOUT};
use crate::config::Migration;
use crate::plan::{changes_something, take_refusal, Action, ConfigChange, Refused, TargetAnswers};

/// Asks `target` about each topic creation and config change of `actions` (the draft plan's):
/// its refusals, in the order asked.
pub async fn ask(
    migration: &Migration,
    target: &ClusterClient,
    actions: &[Action],
) -> Result<TargetAnswers, ClusterError> {
    let creates: Vec<NewTopicSpec> = actions.iter().filter_map(Action::new_topic).collect();
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
    let mut answers = TargetAnswers::default();
    for action in actions {
        let asked_again = match action {
            Action::CreateTopic { topic, .. } => refused.contains(topic),
            Action::UpdateTopicConfig { .. } => true,
            _ => false,
        };
        if !asked_again {
            continue;
        }
        // Each refusal names at most one config: leave it out and ask again.
        let mut action = action.clone();
        let mut refusals = Vec::new();
        while changes_something(&action) {
            let Some(refusal) = validate_one(target, &action).await? else {
                break;
            };
            let taken = take_refusal(migration, &mut action, &refusal);
            refusals.push(refusal);
            if let Refused::Blocked(_) = taken {
                break;
            }
        }
        answers.record(&action, refusals);
    }
    Ok(answers)
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
