//! Record size limits: the largest record batch each selected topic accepts on the source and,
//! once the plan is applied, on the target (its `max.message.bytes`, else the brokers'
//! `message.max.bytes`). `diff` blocks a topic whose target would refuse records its source
//! accepts; the engines size their clients from [`RecordLimits`].

use std::collections::BTreeMap;

use crate::cluster::inventory::{Inventory, Topic};
use crate::config::Migration;

use super::configs;
use super::model::{Blocker, BlockerKind};

const KEY: &str = "max.message.bytes";

/// The record size limits of a migration's selected topics, in bytes of a record batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordLimits {
    /// Per selected topic, the largest record batch the target topic accepts once the plan is
    /// applied (topics whose limit is unknown are left out).
    pub target: BTreeMap<String, u64>,
    /// The largest record batch any selected source topic accepts.
    pub source_max: Option<u64>,
    /// The target brokers' `socket.request.max.bytes`: no request may be larger.
    pub target_request_max: Option<u64>,
}

impl RecordLimits {
    /// The largest limit of any selected target topic.
    pub fn target_max(&self) -> Option<u64> {
        self.target.values().copied().max()
    }

    /// The smallest limit of any selected target topic.
    pub fn target_min(&self) -> Option<u64> {
        self.target.values().copied().min()
    }
}

/// The limits of every topic `migration` selects on `source` (or carries with its unit), as
/// the plan leaves them.
pub fn record_limits(
    migration: &Migration,
    source: &Inventory,
    target: &Inventory,
) -> RecordLimits {
    let added = super::units::added(&super::units::recognise(migration, source));
    let selected = source
        .topics
        .values()
        .filter(|t| migration.topics.selects(&t.name) || added.contains(&t.name));
    let mut limits = RecordLimits {
        target_request_max: target.defaults.socket_request_max_bytes,
        ..RecordLimits::default()
    };
    for topic in selected {
        limits.source_max = limits.source_max.max(topic.max_message_bytes());
        let wanted = configs::desired(migration, topic);
        if let Some(limit) = target_limit(migration, &wanted, topic, target) {
            limits.target.insert(topic.name.clone(), limit);
        }
    }
    limits
}

/// The largest record batch the target topic accepts once the plan gives it the `wanted`
/// configs: the planned `max.message.bytes`, else the existing topic's own (unless the plan
/// removes it), else the target brokers' default.
fn target_limit(
    migration: &Migration,
    wanted: &BTreeMap<String, String>,
    source: &Topic,
    target: &Inventory,
) -> Option<u64> {
    if let Some(value) = wanted.get(KEY) {
        return value.parse().ok();
    }
    let existing = target.topics.get(&source.name);
    let kept = existing.filter(|t| {
        // A topic-level limit the source does not want is removed (unless excluded).
        !t.dynamic_configs().any(|(k, _)| k == KEY) || configs::is_excluded(migration, KEY)
    });
    match kept {
        Some(t) => t.max_message_bytes(),
        None => target.defaults.message_max_bytes,
    }
}

/// A blocker when the target topic, as planned, would refuse records its source accepts.
pub fn check(
    migration: &Migration,
    wanted: &BTreeMap<String, String>,
    source: &Topic,
    target: &Inventory,
) -> Option<Blocker> {
    let source_limit = source.max_message_bytes()?;
    let target_limit = target_limit(migration, wanted, source, target)?;
    if target_limit >= source_limit {
        return None;
    }
    let whose = if wanted.contains_key(KEY) {
        "the planned max.message.bytes of the topic"
    } else if target
        .topics
        .get(&source.name)
        .is_some_and(|t| t.dynamic_configs().any(|(k, _)| k == KEY))
    {
        "the target topic's max.message.bytes"
    } else {
        "the target brokers' message.max.bytes"
    };
    Some(Blocker {
        kind: BlockerKind::RecordLimitTooLow,
        subject: format!("topic \"{}\"", source.name),
        reason: format!(
            "the source accepts record batches up to {source_limit} bytes (max.message.bytes), \
             the target only up to {target_limit} bytes ({whose}): larger records could not be \
             replicated; set `topics.config.override = {{ \"max.message.bytes\" = \
             \"{source_limit}\" }}` or raise message.max.bytes of the target brokers"
        ),
    })
}
