//! Exact target offsets of group offsets: which offsets to translate, the walk of both logs
//! off the async runtime, and the translations kept across rounds ([`Known`]). Forward (the
//! plan's group offsets, from the engine's progress) and back (failback) alike: the
//! direction is which cluster's properties come first and which progress aligns them. Source
//! offsets kept outside Kafka go the same way ([`translate_offsets`]), and so does the walk
//! that takes the offset map ([`offset_map`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rdkafka::consumer::ConsumerContext;

use crate::cluster::factory::{self, ReaderContext};
use crate::cluster::{ClusterClient, ClusterError, Role};
use crate::config::{Migration, Rename};
use crate::plan::{set_translated, GroupOffsets, Translated};
use crate::state::offset_map::Runs;
use crate::state::{OffsetMap, PartitionMap, Progress};

use super::Whole;
use super::{translator_config, TranslateError, Translation, Translations, Translator, Wanted};

/// How long a walk of either log may read nothing while translating group offsets.
const TRANSLATE_STALL: std::time::Duration = std::time::Duration::from_secs(60);

/// Translations found earlier, by topic, partition and source offset. Only offsets of
/// records already on the target are kept: those never change, so later rounds need not walk
/// the logs for groups that did not move.
pub type Known = Arc<Mutex<BTreeMap<(String, i32, i64), i64>>>;

/// The exact target offset of every group partition that can be translated now, from
/// `known` where it holds the offset; adds what it translates to `known`.
pub fn translations<C: ConsumerContext + 'static>(
    groups: &[GroupOffsets],
    progress: &Progress,
    translator: &mut Translator<C>,
    known: &Known,
) -> Result<Translated, TranslateError> {
    let mut known = known.lock().unwrap_or_else(|e| e.into_inner());
    // One walk per partition for all the offsets groups committed in it.
    let mut wanted: BTreeMap<(&str, i32), Vec<i64>> = BTreeMap::new();
    for g in groups {
        for p in &g.partitions {
            if !known.contains_key(&(p.topic.clone(), p.partition, p.source_offset)) {
                wanted
                    .entry((p.topic.as_str(), p.partition))
                    .or_default()
                    .push(p.source_offset);
            }
        }
    }
    let wanted: Vec<Wanted<'_>> = wanted
        .into_iter()
        .filter_map(|((topic, partition), offsets)| {
            Some(Wanted {
                topic,
                partition,
                progress: progress.get(topic, partition)?,
                offsets,
            })
        })
        .collect();
    let mut translated = translator.translate(&wanted)?;
    // Offsets of records already on the target never change: keep them for later rounds.
    translated.retain(|(topic, partition, s), t| match t {
        Translation::Exact(t)
            if progress
                .get(topic, *partition)
                .and_then(|p| p.position)
                .is_some_and(|head| *t < head.next_target) =>
        {
            known.insert((topic.clone(), *partition, *s), *t);
            false
        }
        _ => true,
    });
    let mut exact = Translated::new();
    for g in groups {
        for p in &g.partitions {
            let key = (p.topic.clone(), p.partition, p.source_offset);
            let t = known
                .get(&key)
                .copied()
                .map(Translation::Exact)
                .or_else(|| translated.get(&key).copied());
            if let Some(Translation::Exact(offset)) = t {
                exact.insert(key, offset);
            }
        }
    }
    Ok(exact)
}

/// Fills in the target offset of every group partition that can be translated now (see
/// [`translations`]).
pub fn translate_groups<C: ConsumerContext + 'static>(
    groups: &mut [GroupOffsets],
    progress: &Progress,
    translator: &mut Translator<C>,
    known: &Known,
) -> Result<(), TranslateError> {
    let exact = translations(groups, progress, translator, known)?;
    set_translated(groups, &exact);
    Ok(())
}

/// Exact target offsets of the plan's group offsets `groups`, from the engine's `progress`
/// (source → target); `target` names the cluster in errors.
pub async fn translate_forward(
    migration: &Migration,
    groups: &[GroupOffsets],
    progress: &Progress,
    target: &ClusterClient,
    known: Known,
) -> Result<Translated, ClusterError> {
    let clusters = forward_clusters(migration);
    translate_between(
        &migration.name,
        &clusters,
        forward_renames(migration),
        groups,
        progress,
        target,
        known,
    )
    .await
}

/// Exact offsets of `groups` from one cluster's log to the other's (`clusters`: the
/// librdkafka properties of the one the offsets are from, then of the one they go to; `renames`:
/// how each names the source's topics), from `progress` aligning the two; `client` names the cluster in errors. Both logs are walked
/// off the async runtime by read_committed consumers named after `name` (see
/// [`translations`]).
pub async fn translate_between(
    name: &str,
    clusters: &(BTreeMap<String, String>, BTreeMap<String, String>),
    renames: (&Rename, &Rename),
    groups: &[GroupOffsets],
    progress: &Progress,
    client: &ClusterClient,
    known: Known,
) -> Result<Translated, ClusterError> {
    let (groups, progress) = (groups.to_vec(), progress.clone());
    walking(
        name,
        clusters,
        renames,
        client,
        "translating group offsets",
        move |translator| translations(&groups, &progress, translator, &known),
    )
    .await
}

/// Exact target offsets of source offsets (topic, partition, offset) of `migration`, from the
/// engine's `progress`; `target` names the cluster in errors. A partition the progress does
/// not know is left out.
pub async fn translate_offsets(
    migration: &Migration,
    offsets: &[(String, i32, i64)],
    progress: &Progress,
    target: &ClusterClient,
) -> Result<Translations, ClusterError> {
    let mut by_partition: BTreeMap<(String, i32), Vec<i64>> = BTreeMap::new();
    for (topic, partition, offset) in offsets {
        by_partition
            .entry((topic.clone(), *partition))
            .or_default()
            .push(*offset);
    }
    let progress = progress.clone();
    walking_forward(
        migration,
        target,
        "translating offsets",
        move |translator| {
            let wanted: Vec<Wanted<'_>> = by_partition
                .iter()
                .filter_map(|((topic, partition), offsets)| {
                    Some(Wanted {
                        topic,
                        partition: *partition,
                        progress: progress.get(topic, *partition)?,
                        offsets: offsets.clone(),
                    })
                })
                .collect();
            translator.translate(&wanted)
        },
    )
    .await
}

/// The offset map of `partitions` of `migration` (see [`crate::state::offset_map`]), taken at
/// `at_ms` from the engine's `progress` by walking both logs whole; `target` names the
/// cluster in errors. A partition the progress holds no position of is left out.
pub async fn offset_map(
    migration: &Migration,
    partitions: &[(String, i32)],
    progress: &Progress,
    target: &ClusterClient,
    at_ms: i64,
) -> Result<OffsetMap, ClusterError> {
    let progress = progress.clone();
    let partitions = partitions.to_vec();
    walking_forward(
        migration,
        target,
        "taking the offset map",
        move |translator| {
            let whole: Vec<Whole<'_>> = partitions
                .iter()
                .filter_map(|(topic, partition)| {
                    let progress = progress.get(topic, *partition)?;
                    progress.position.map(|_| Whole {
                        topic,
                        partition: *partition,
                        progress,
                    })
                })
                .collect();
            let mut runs: Vec<Runs> = whole.iter().map(|_| Runs::default()).collect();
            translator.pair_all(&whole, |i, source, target| runs[i].push(source, target))?;
            let partitions = whole
                .iter()
                .zip(runs)
                .map(|(w, runs)| PartitionMap {
                    topic: w.topic.to_string(),
                    partition: w.partition,
                    alignments: super::translate::alignments(w.progress)
                        .iter()
                        .map(|p| (p.next_source, p.next_target))
                        .collect(),
                    runs: runs.into_runs(),
                })
                .collect();
            Ok(OffsetMap { at_ms, partitions })
        },
    )
    .await
}

/// [`walking`] from the source's log to the target's of `migration`.
async fn walking_forward<R: Send + 'static>(
    migration: &Migration,
    target: &ClusterClient,
    operation: &str,
    work: impl FnOnce(&mut Translator<ReaderContext>) -> Result<R, TranslateError> + Send + 'static,
) -> Result<R, ClusterError> {
    let clusters = forward_clusters(migration);
    let renames = forward_renames(migration);
    walking(&migration.name, &clusters, renames, target, operation, work).await
}

/// How the source, then the target, name the source's topics.
fn forward_renames(migration: &Migration) -> (&Rename, &Rename) {
    static SAME: std::sync::OnceLock<Rename> = std::sync::OnceLock::new();
    (SAME.get_or_init(Rename::default), &migration.topics.rename)
}

/// The librdkafka properties of the source, then of the target.
fn forward_clusters(migration: &Migration) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let props = |role| factory::properties(migration, role);
    (props(Role::Source), props(Role::Target))
}

/// Runs `work` with a translator from one cluster's log to the other's (`clusters`: the
/// librdkafka properties of the one the offsets are from, then of the one they go to;
/// `renames`: how each names the source's topics), off the async runtime; its read_committed consumers are named after `name`. `client` names
/// the cluster in errors, `operation` what was done.
async fn walking<R: Send + 'static>(
    name: &str,
    clusters: &(BTreeMap<String, String>, BTreeMap<String, String>),
    renames: (&Rename, &Rename),
    client: &ClusterClient,
    operation: &str,
    work: impl FnOnce(&mut Translator<ReaderContext>) -> Result<R, TranslateError> + Send + 'static,
) -> Result<R, ClusterError> {
    let reader =
        |props: &BTreeMap<String, String>| factory::reader(&translator_config(props, name));
    let fail = |e: String| client.error(operation, e);
    let from = reader(&clusters.0).map_err(|e| fail(e.to_string()))?;
    let to = reader(&clusters.1).map_err(|e| fail(e.to_string()))?;
    let (from_names, to_names) = (renames.0.clone(), renames.1.clone());
    tokio::task::spawn_blocking(move || {
        let mut translator =
            Translator::new(from, to, TRANSLATE_STALL).renamed(&from_names, &to_names);
        work(&mut translator)
    })
    .await
    .map_err(|e| fail(e.to_string()))?
    .map_err(|e| fail(e.to_string()))
}
