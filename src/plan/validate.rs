//! The target's word on a plan: the survey asks the target, in validate-only mode, about each
//! topic creation and config change (`crate::survey`), and records its refusals in
//! [`TargetAnswers`]; here, purely, each refusal either leaves a config copied from the source
//! out with a warning or becomes a blocker — one step ([`take_refusal`]) that the survey's
//! questions and the plan's replay of the answers share, so both see the same plan.

use std::collections::BTreeMap;

use crate::cluster::native::{AdminExtError, AlterConfigOp, AlterOp, NewTopicSpec};
use crate::config::Migration;

use super::{Action, Blocker, BlockerKind, ConfigChange, Plan, Warning};

/// The target's validate-only refusals of a plan's topic creations and config changes, per
/// topic, in the order it was asked. A creation it accepted together with all the others, or
/// a change it accepted at once, has no entry; after each refusal that leaves a config out it
/// was asked again.
#[derive(Debug, Clone, Default)]
pub struct TargetAnswers {
    pub creations: BTreeMap<String, Vec<AdminExtError>>,
    pub config_changes: BTreeMap<String, Vec<AdminExtError>>,
}

impl TargetAnswers {
    /// The refusals of `action`, when it is a creation or config change the target refused.
    pub fn of(&self, action: &Action) -> &[AdminExtError] {
        let refusals = match action {
            Action::CreateTopic { topic, .. } => self.creations.get(topic),
            Action::UpdateTopicConfig { topic, .. } => self.config_changes.get(topic),
            _ => None,
        };
        refusals.map_or(&[], Vec::as_slice)
    }

    /// Records the `refusals` of `action` (nothing when there are none).
    pub fn record(&mut self, action: &Action, refusals: Vec<AdminExtError>) {
        let (by_topic, topic) = match action {
            Action::CreateTopic { topic, .. } => (&mut self.creations, topic),
            Action::UpdateTopicConfig { topic, .. } => (&mut self.config_changes, topic),
            _ => return,
        };
        if !refusals.is_empty() {
            by_topic.insert(topic.clone(), refusals);
        }
    }
}

/// What one refusal did to a creation or config change.
#[derive(Debug, Clone)]
pub enum Refused {
    /// The config copied from the source that the refusal names was left out: ask again.
    LeftOut(Warning),
    /// Anything else: the action is blocked.
    Blocked(Blocker),
}

/// Takes one validate-only `refusal` of `action` (a topic creation or config change). A
/// refusal that names a config copied from the source (one the target's version does not know
/// or rejects) leaves that config out of `action`, with a warning; any other refusal becomes a
/// blocker naming what was refused, the broker's message and the setting that gets past it.
pub fn take_refusal(
    migration: &Migration,
    action: &mut Action,
    refusal: &AdminExtError,
) -> Refused {
    let (topic, configs) = planned_configs(action);
    let named = named_config(&refusal.message, &configs);
    let from_source = named
        .clone()
        .filter(|(key, _)| !migration.topics.config.overrides().any(|(k, _)| k == key));
    if let Some((key, value)) = from_source {
        let why = format!("the target refuses it ({})", refusal.message);
        let warning = super::left_out(&topic, &key, &value, &why);
        leave_out(action, &key);
        return Refused::LeftOut(warning);
    }
    Refused::Blocked(Blocker {
        kind: BlockerKind::ConfigRejected,
        subject: format!("topic \"{topic}\""),
        reason: refusal_reason(action, named, refusal),
    })
}

/// Whether `action` still changes anything: a config change whose every config was left out
/// does not (and the target is not asked about it again).
pub fn changes_something(action: &Action) -> bool {
    !matches!(action, Action::UpdateTopicConfig { changes, .. } if changes.is_empty())
}

/// Takes the target's `answers` into `plan`, in the order of its actions: configs left out
/// with warnings, blockers, and config changes left with nothing to change dropped.
pub fn take_answers(migration: &Migration, plan: &mut Plan, answers: &TargetAnswers) {
    let Plan {
        actions,
        blockers,
        warnings,
        ..
    } = plan;
    for action in actions.iter_mut() {
        for refusal in answers.of(action) {
            if !changes_something(action) {
                break;
            }
            match take_refusal(migration, action, refusal) {
                Refused::LeftOut(warning) => warnings.push(warning),
                Refused::Blocked(blocker) => {
                    blockers.push(blocker);
                    break;
                }
            }
        }
    }
    actions.retain(changes_something);
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
