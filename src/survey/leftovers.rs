//! What a target partition holds past the migration's recorded position, judged so that only
//! records this migration did not write count as foreign.
//!
//! The inventory's end offsets are high watermarks: they include a transaction still open
//! (a crashed run's, or the running engine's own) and the commit marker that ends each of the
//! engine's transactions. A partition whose end lies more than one marker past the recorded
//! position is a *suspect*; it is read read_committed from the position. No committed record
//! there: what lies past the position is open or aborted, and the partition is accounted for
//! up to its end. Committed records there may still be the engine's own, when an `apply` runs
//! beside this survey and committed since its progress was read: then the progress is read
//! again (once every transaction open on it now has ended, so that a transaction whose
//! records are readable has its progress readable too) and a position that moved past the
//! records explains them. What no position ever explains is foreign.
//!
//! Reads only; `plan` decides what a foreign record means.

use std::time::Duration;

use crate::cluster::{factory, ClusterClient, ClusterError, Inventory, Role};
use crate::config::Migration;
use crate::state::{RangeReader, Store};

/// How long one read of the target may get nothing before it gives up.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the transactions open on the progress topic to end, per round.
const TRANSACTIONS_WAIT: Duration = Duration::from_secs(10);
/// Rounds of reading the progress again while a running engine keeps committing.
const ROUNDS: usize = 10;
/// Rounds in a row in which no position moved before the records found count as foreign (an
/// at-least-once run writes its progress after the records, outside any transaction).
const STILL_ROUNDS: usize = 3;
/// The pause before reading again a progress that did not move.
const STILL_PAUSE: Duration = Duration::from_millis(500);

/// A target partition that holds more than the migration's position (plus a commit marker).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Suspect {
    topic: String,
    partition: i32,
    /// Where the migration's records end: its position, or the log start when it has none.
    from: i64,
    /// The partition's end as surveyed.
    end: i64,
    /// `from` is a position read again since the survey.
    moved: bool,
}

/// Accounts in `inventory.replicated` for what the migration's target partitions hold past
/// its positions: up to their end where no committed record follows, up to a newer position
/// where the running engine committed since. `engine_progress`: the positions are the built-in
/// engine's, in its progress topic (which can be read again).
pub async fn account_for(
    migration: &Migration,
    selects: &(dyn Fn(&str) -> bool + Sync),
    inventory: &mut Inventory,
    target: &ClusterClient,
    engine_progress: bool,
) -> Result<(), ClusterError> {
    let suspects = suspects(selects, inventory);
    if suspects.is_empty() {
        return Ok(());
    }
    // The suspects are read together up to their ends: the broker must answer a fetch at the
    // end at once, not after fetch.wait.max.ms (500 ms by default).
    let mut config = factory::reader_config(
        &factory::properties(migration, Role::Target),
        &migration.name,
        "inspector",
    );
    config.set("fetch.wait.max.ms", "10");
    let consumer = factory::reader(&config)
        .map_err(|e| target.error("inspecting target partitions", e.to_string()))?;
    let store = engine_progress.then(|| Store::of(migration));
    let rename = migration.topics.rename.clone();
    let judged = tokio::task::spawn_blocking(move || {
        let mut reader = RangeReader::new("target", consumer, READ_TIMEOUT).renamed(&rename);
        judge(suspects, &mut reader, store.as_ref())
    })
    .await
    .map_err(|e| target.error("inspecting target partitions", e.to_string()))?;
    for (topic, partition, to) in judged {
        inventory
            .replicated
            .entry(topic)
            .or_default()
            .insert(partition, to);
    }
    Ok(())
}

/// The selected target partitions whose end lies past the migration's position by more than
/// one commit marker, or that hold records where the migration has no position.
fn suspects(selects: &dyn Fn(&str) -> bool, inventory: &Inventory) -> Vec<Suspect> {
    let mut suspects = Vec::new();
    for (name, topic) in &inventory.topics {
        if !selects(name) {
            continue;
        }
        for (p, part) in &topic.partitions {
            let position = inventory.replicated.get(name).and_then(|w| w.get(p));
            let from = position.copied().unwrap_or(part.log_start);
            if part.end > from + 1 || (part.end > from && position.is_none()) {
                suspects.push(Suspect {
                    topic: name.clone(),
                    partition: *p,
                    from,
                    end: part.end,
                    moved: false,
                });
            }
        }
    }
    suspects
}

/// Reads the `suspects` and, with the engine's `store`, its progress again while it explains
/// what was found: per partition accounted for, the offset up to which the migration wrote.
fn judge(
    mut open: Vec<Suspect>,
    reader: &mut RangeReader<factory::ReaderContext>,
    store: Option<&Store>,
) -> Vec<(String, i32, i64)> {
    let mut judged = Vec::new();
    let mut still = 0;
    for round in 0.. {
        let probes: Vec<((String, i32), i64)> = open
            .iter()
            .map(|s| ((s.topic.clone(), s.partition), s.from))
            .collect();
        let clean = reader.without_committed_records(&probes);
        open.retain(|s| {
            let is_clean = clean.contains(&(s.topic.clone(), s.partition));
            if is_clean {
                judged.push((s.topic.clone(), s.partition, s.end));
            }
            !is_clean
        });
        let Some(store) = store.filter(|_| !open.is_empty() && round < ROUNDS) else {
            break;
        };
        // Committed records past the positions: the engine's own if its progress moved.
        if let Err(e) = store.await_no_open_transaction(TRANSACTIONS_WAIT) {
            tracing::debug!(error = %e, "A transaction on the progress topic is still open.");
        }
        let progress = match store.read() {
            Ok(progress) => progress,
            Err(e) => {
                tracing::warn!(error = %e, "Could not read the migration's progress again.");
                break;
            }
        };
        let mut moved = false;
        for s in &mut open {
            let position = progress.get(&s.topic, s.partition).and_then(|p| p.position);
            if let Some(at) = position.filter(|at| at.next_target > s.from) {
                s.from = at.next_target;
                s.moved = true;
                moved = true;
            }
        }
        open.retain(|s| {
            // Within one commit marker of the end as surveyed: nothing else is there.
            let within = s.end <= s.from + 1;
            if within {
                judged.push((s.topic.clone(), s.partition, s.from));
            }
            !within
        });
        still = if moved { 0 } else { still + 1 };
        if still >= STILL_ROUNDS {
            break;
        }
        if !moved {
            std::thread::sleep(STILL_PAUSE);
        }
    }
    // Past a newer position: foreign records, if any, lie after it.
    judged.extend(
        open.into_iter()
            .filter(|s| s.moved)
            .map(|s| (s.topic, s.partition, s.from)),
    );
    judged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{inventory, topic};

    #[test]
    fn a_partition_past_its_position_by_more_than_a_marker_is_a_suspect() {
        let migration = crate::testing::migration("topics { include = [\"^t\"] }");
        let mut target = inventory(
            Role::Target,
            vec![topic("t", 3, &[], 10), topic("other", 1, &[], 10)],
            vec![],
            vec![],
        );
        // Partition 0 ends at its position's marker; 1 holds more; 2 has no position.
        target
            .replicated
            .insert("t".into(), [(0, 9), (1, 5)].into());
        let found = suspects(&|t| migration.topics.selects(t), &target);
        let keys: Vec<(&str, i32, i64)> = found
            .iter()
            .map(|s| (s.topic.as_str(), s.partition, s.from))
            .collect();
        assert_eq!(keys, vec![("t", 1, 5), ("t", 2, 0)]);
    }
}
