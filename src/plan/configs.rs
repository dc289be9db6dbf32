//! Which topic configs a migration copies, and how they differ on the target.
//!
//! A target topic gets the configs set on the source topic itself (inherited defaults are
//! left to the target, as MirrorMaker 2 does with `use.defaults.from = target`), minus
//! MirrorMaker 2's default exclusions and the user's, plus the user's overrides.

use std::collections::BTreeMap;

use crate::cluster::inventory::Topic;
use crate::config::Migration;

use super::model::{ConfigChange, Warning, WarningKind};

/// Configs MirrorMaker 2 never copies (its `DefaultConfigPropertyFilter`): broker-local
/// throttles, timestamp policy, durability settings the target owns.
pub const DEFAULT_EXCLUDED: &[&str] = &[
    "follower.replication.throttled.replicas",
    "leader.replication.throttled.replicas",
    "message.timestamp.difference.max.ms",
    "message.timestamp.type",
    "unclean.leader.election.enable",
    "min.insync.replicas",
];

/// Whether `key` is never copied nor changed on the target.
pub fn is_excluded(migration: &Migration, key: &str) -> bool {
    DEFAULT_EXCLUDED.contains(&key) || migration.topics.config.excludes(key)
}

/// The topic-level configs the target topic should have.
pub fn desired(migration: &Migration, source: &Topic) -> BTreeMap<String, String> {
    let mut wanted: BTreeMap<String, String> = source
        .dynamic_configs()
        .filter(|(key, entry)| !entry.sensitive && !is_excluded(migration, key))
        .filter_map(|(key, entry)| Some((key.clone(), entry.value.clone()?)))
        .collect();
    for (key, value) in migration.topics.config.overrides() {
        wanted.insert(key.clone(), value.clone());
    }
    wanted
}

/// Leaves out of `wanted` the configs copied from the source that the target does not know
/// (not among `known`, the target's topic config names), with a warning for each. The user's
/// overrides stay: the target's answer to them is the user's to see.
pub fn drop_unknown(
    migration: &Migration,
    topic: &str,
    wanted: &mut BTreeMap<String, String>,
    known: &std::collections::BTreeSet<String>,
) -> Vec<Warning> {
    let overridden: Vec<&String> = migration
        .topics
        .config
        .overrides()
        .map(|(k, _)| k)
        .collect();
    let unknown: Vec<String> = wanted
        .keys()
        .filter(|k| !known.contains(*k) && !overridden.contains(k))
        .cloned()
        .collect();
    unknown
        .into_iter()
        .filter_map(|key| {
            let value = wanted.remove(&key)?;
            Some(left_out(topic, &key, &value, "the target does not know it"))
        })
        .collect()
}

/// The warning for a source config of `topic` left out of the plan, and `why`.
pub fn left_out(topic: &str, key: &str, value: &str, why: &str) -> Warning {
    Warning {
        kind: WarningKind::ConfigLeftOut,
        subject: format!("topic \"{topic}\""),
        message: format!(
            "config {key}={value} of the source topic is left out: {why}; \
             `topics.config.exclude = [\"{key}\"]` leaves it out without this warning"
        ),
    }
}

/// Changes that turn `target`'s topic-level configs into `wanted`. A wanted value equal to
/// the target's effective value (its own default included) is no change; a value set on the
/// target that the source does not want is removed, unless excluded.
pub fn changes(
    migration: &Migration,
    wanted: &BTreeMap<String, String>,
    target: &Topic,
    skip: &[&str],
) -> Vec<ConfigChange> {
    let mut changes = Vec::new();
    for (key, value) in wanted {
        if skip.contains(&key.as_str()) {
            continue;
        }
        let current = target.config_value(key);
        if current != Some(value.as_str()) {
            changes.push(ConfigChange {
                key: key.clone(),
                before: current.map(str::to_string),
                after: Some(value.clone()),
            });
        }
    }
    for (key, entry) in target.dynamic_configs() {
        if wanted.contains_key(key)
            || skip.contains(&key.as_str())
            || entry.sensitive
            || is_excluded(migration, key)
        {
            continue;
        }
        changes.push(ConfigChange {
            key: key.clone(),
            before: entry.value.clone(),
            after: None,
        });
    }
    changes.sort_by(|a, b| a.key.cmp(&b.key));
    changes
}
