//! The quiet gate of `cutover`: watches the source until no selected partition's end offset
//! moved for `cutover.quiet_period` and no selected consumer group has members there, naming
//! what still writes (partitions whose end moves, and the producers DescribeProducers reports
//! on them with their last write time) and what still consumes (groups, client ids, hosts).
//! The end offsets are watched by [`QuietWatch`], as `verify` watches them; this module adds
//! who writes and who reads. It is the same gate for `rollback`, on the target.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cluster::native::{ActiveProducer, IsolationLevel};
use crate::cluster::{ClusterClient, ClusterError, Member, Role};
use crate::config::Migration;
use crate::state::PartitionEnd;
use crate::verify::QuietWatch;

/// How often the source is looked at.
const POLL: Duration = Duration::from_secs(1);

/// A partition still written to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Writing {
    pub topic: String,
    pub partition: i32,
    /// Its end offset when first seen moving in this wait, and now.
    pub from: i64,
    pub to: i64,
    /// The producers that wrote to it within the quiet period (or the latest one).
    pub producers: Vec<ActiveProducer>,
}

/// A selected group with members on the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Consuming {
    pub group: String,
    pub members: Vec<Member>,
}

/// What keeps the source from being quiet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Activity {
    /// The cluster watched: "source" (cutover) or "target" (rollback).
    pub cluster: &'static str,
    /// How long no end offset moved, in milliseconds.
    pub quiet_for_ms: u64,
    /// How long it must stay so (`cutover.quiet_period`), in milliseconds.
    pub quiet_period_ms: u64,
    pub writing: Vec<Writing>,
    /// Why the producers are not named, when DescribeProducers could not be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producers_unknown: Option<String>,
    pub consuming: Vec<Consuming>,
}

impl Activity {
    pub fn is_quiet(&self) -> bool {
        self.writing.is_empty() && self.consuming.is_empty()
    }

    /// Who is active, without offsets or times: what changes when a writer or reader comes or
    /// goes, not at each record.
    pub fn who(&self) -> Vec<String> {
        let writers = self.writing.iter().map(|w| {
            let ids: Vec<String> = w
                .producers
                .iter()
                .map(|p| p.producer_id.to_string())
                .collect();
            format!("{}/{} {}", w.topic, w.partition, ids.join(","))
        });
        let readers = self
            .consuming
            .iter()
            .map(|c| format!("{} {:?}", c.group, c.members));
        writers.chain(readers).collect()
    }
}

/// The source's end offsets of `partitions` (high watermarks), sorted.
pub async fn source_ends(
    source: &ClusterClient,
    partitions: &[(String, i32)],
) -> Result<Vec<PartitionEnd>, ClusterError> {
    let ends = source
        .end_offsets(partitions.to_vec(), IsolationLevel::ReadUncommitted)
        .await?;
    Ok(ends
        .into_iter()
        .map(|((topic, partition), end)| PartitionEnd {
            topic,
            partition,
            end,
        })
        .collect())
}

/// Waits until the cluster of `role` (`source`: its client) is quiet — the ends it stood
/// still at — or `deadline` passes — what was still active then —, telling `waiting` what is
/// active at each look that finds any. The end offsets are watched by a [`QuietWatch`].
pub async fn wait(
    migration: &Migration,
    role: Role,
    source: &ClusterClient,
    partitions: &[(String, i32)],
    deadline: Instant,
    waiting: &mut dyn FnMut(&Activity),
) -> Result<Result<Vec<PartitionEnd>, Activity>, ClusterError> {
    let period = migration.cutover.quiet_period.0;
    let started = Instant::now();
    let mut watch = QuietWatch::new();
    loop {
        let now = Instant::now();
        let ends = source_ends(source, partitions).await?;
        watch.observe(
            &ends
                .iter()
                .map(|e| ((e.topic.clone(), e.partition), e.end))
                .collect(),
            now,
        );
        let moving = watch.moving(period, now);
        // Counted from the wait's start while no partition moved within the period.
        let quiet_for = if moving.is_empty() {
            now.duration_since(started)
        } else {
            watch.quiet_for(now)
        };
        let mut activity = Activity {
            cluster: role.name(),
            writing: Vec::new(),
            producers_unknown: None,
            quiet_for_ms: quiet_for.as_millis() as u64,
            quiet_period_ms: period.as_millis() as u64,
            consuming: source
                .group_members(|g| migration.consumer_groups.selects(g))
                .await?
                .into_iter()
                .map(|(group, members)| Consuming { group, members })
                .collect(),
        };
        if !moving.is_empty() {
            let keys: Vec<(String, i32)> = moving
                .iter()
                .map(|m| (m.topic.clone(), m.partition))
                .collect();
            let producers = source.active_producers(keys).await;
            if let Err(why) = &producers {
                activity.producers_unknown = Some(why.clone());
            }
            let producers = producers.unwrap_or_default();
            let since_ms = crate::state::cutover::now_ms() - period.as_millis() as i64;
            for m in moving {
                let key = (m.topic.clone(), m.partition);
                activity.writing.push(Writing {
                    producers: recent(producers.get(&key).cloned().unwrap_or_default(), since_ms),
                    topic: m.topic,
                    partition: m.partition,
                    from: m.before,
                    to: m.after,
                });
            }
        }
        if activity.is_quiet() && watch.remaining(period, now).is_zero() {
            // Standing still is not enough: a transaction left open (idle, not writing) would
            // hold every read_committed reader — the drain's too — until it ends.
            let open = open_transactions(source, &ends).await?;
            if open.is_empty() {
                return Ok(Ok(ends));
            }
            activity.quiet_for_ms = 0;
            activity.writing = open;
        }
        if !activity.is_quiet() {
            waiting(&activity);
        }
        if now >= deadline {
            return Ok(Err(activity));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The partitions of `ends` with a transaction open (their last stable offset below their
/// end), with the producers holding them.
async fn open_transactions(
    cluster: &ClusterClient,
    ends: &[PartitionEnd],
) -> Result<Vec<Writing>, ClusterError> {
    let keys: Vec<(String, i32)> = ends
        .iter()
        .map(|e| (e.topic.clone(), e.partition))
        .collect();
    let stable = cluster
        .end_offsets(keys, IsolationLevel::ReadCommitted)
        .await?;
    let open: Vec<&PartitionEnd> = ends
        .iter()
        .filter(|e| {
            stable
                .get(&(e.topic.clone(), e.partition))
                .is_some_and(|s| *s < e.end)
        })
        .collect();
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let producers = cluster
        .active_producers(
            open.iter()
                .map(|e| (e.topic.clone(), e.partition))
                .collect(),
        )
        .await
        .unwrap_or_default();
    Ok(open
        .into_iter()
        .map(|e| {
            let key = (e.topic.clone(), e.partition);
            Writing {
                producers: producers
                    .get(&key)
                    .map(|all| {
                        all.iter()
                            .filter(|p| p.open_transaction_from.is_some())
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default(),
                topic: e.topic.clone(),
                partition: e.partition,
                from: e.end,
                to: e.end,
            }
        })
        .collect())
}

/// The producers that wrote at or after `since_ms`, newest first; the newest one when none
/// did (the clocks of producer and broker may differ).
fn recent(mut producers: Vec<ActiveProducer>, since_ms: i64) -> Vec<ActiveProducer> {
    producers.sort_by_key(|p| std::cmp::Reverse(p.last_timestamp_ms));
    let newest = producers.first().cloned();
    producers.retain(|p| p.last_timestamp_ms >= since_ms);
    if producers.is_empty() {
        producers.extend(newest);
    }
    producers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn producer(id: i64, at: i64) -> ActiveProducer {
        ActiveProducer {
            producer_id: id,
            producer_epoch: 0,
            last_timestamp_ms: at,
            open_transaction_from: None,
        }
    }

    #[test]
    fn the_producers_named_are_those_that_wrote_within_the_period() {
        let all = vec![producer(1, 100), producer(2, 500), producer(3, 900)];
        let named: Vec<i64> = recent(all.clone(), 400)
            .iter()
            .map(|p| p.producer_id)
            .collect();
        assert_eq!(named, [3, 2]);
        // None that recent: the newest is named all the same.
        let named: Vec<i64> = recent(all, 1_000).iter().map(|p| p.producer_id).collect();
        assert_eq!(named, [3]);
    }
}
