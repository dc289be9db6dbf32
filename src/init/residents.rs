//! What tells the source's applications apart, read for `init` to list them and for `plan`
//! to recognise them (`crate::cluster::residents`): every topic, every group's protocol
//! type, the keys of the first records of each compacted topic (Kafka Connect's and a schema
//! registry's topics are compacted, and their keys say which they are) and whether the
//! selected topics' first records are framed with a schema id. Reads only, through the one
//! range reader; decides nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::cluster::inventory::Inventory;
use crate::cluster::residents::Residents;
use crate::cluster::{factory, ClusterClient, ClusterError, Role};
use crate::config::Migration;
use crate::state::{Range, RangeReader};

/// Keys read from the start of each partition of a compacted topic.
const KEYS_PER_PARTITION: usize = 8;
/// How long the read may get nothing before it gives up.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads the residents of the source, whose inventory of every topic is `all`.
pub async fn read(
    migration: &Migration,
    source: &ClusterClient,
    all: &Inventory,
) -> Result<Residents, ClusterError> {
    let groups = source.group_protocols().await?;
    let mut ranges = Vec::new();
    let mut keyed = BTreeSet::new();
    for topic in all.topics.values() {
        // Streams changelogs are told by their names; their records need no look.
        let compacted = topic.is_compacted() && !topic.name.ends_with("-changelog");
        let selected = migration.topics.selects(&topic.name);
        if !compacted && !selected {
            continue;
        }
        if compacted {
            keyed.insert(topic.name.clone());
        }
        let limit = if compacted { KEYS_PER_PARTITION } else { 1 };
        for (p, part) in &topic.partitions {
            if part.last_stable > part.log_start {
                ranges.push(Range {
                    limit,
                    ..Range::to_end(&topic.name, *p, part.log_start, part.last_stable)
                });
            }
        }
    }
    let config = factory::reader_config(
        &factory::properties(migration, Role::Source),
        &migration.name,
        "inspector",
    );
    let consumer =
        factory::reader(&config).map_err(|e| source.error("reading topic keys", e.to_string()))?;
    let read = tokio::task::spawn_blocking(move || {
        let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut framed = BTreeSet::new();
        let mut reader = RangeReader::new("source", consumer, READ_TIMEOUT);
        use rdkafka::message::Message;
        let outcome = reader.read(&ranges, |i, m| {
            let topic = &ranges[i].topic;
            if keyed.contains(topic) {
                if let Some(key) = m.key() {
                    keys.entry(topic.clone())
                        .or_default()
                        .push(String::from_utf8_lossy(key).into_owned());
                }
            }
            if m.payload().is_some_and(|v| v.len() > 5 && v[0] == 0) {
                framed.insert(topic.clone());
            }
        });
        (outcome, keys, framed)
    })
    .await
    .map_err(|e| source.error("reading topic keys", e.to_string()))?;
    let (outcome, keys, framed) = read;
    // Recognition is a help, not a condition of the plan: a topic the credentials may not
    // read leaves its application unrecognised, and the log says so.
    if let Err(e) = outcome {
        tracing::warn!(error = %e, "Could not read the first records of the source's compacted topics; applications kept in them are not recognised.");
    }
    Ok(Residents {
        topics: all.topics.keys().cloned().collect(),
        groups,
        keys,
        framed,
    })
}
