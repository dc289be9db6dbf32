//! `bench translate`: how long exact group offset translation and one sync round take for
//! 1,000 groups × 60 partitions (10 topics × 6), each group committed at its own offset in
//! every partition. The goal is well within one `consumer_groups.sync_interval` (10 s).
//! Figures, not assertions: run it on a quiet machine, in release mode.
//!
//! ```text
//! cargo run --release -p xtask -- bench translate [--groups 1000] [--records 300000]
//! ```

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use kafka_harness::{data, Cluster};
use kafka_migrate::plan::OffsetTarget;
use rdkafka::consumer::BaseConsumer;

use crate::bench_replicate::{flag, replicated, PARTITIONS, TOPICS};

pub fn run(args: &[String]) -> Result<i32> {
    let groups: usize = flag(args, "--groups").unwrap_or(1_000);
    let records: usize = flag(args, "--records").unwrap_or(300_000);
    let per_partition = (records / (TOPICS * PARTITIONS as usize)) as i64;
    let (source, target, topics, rt) = replicated(records)?;

    println!(
        "Committing {groups} groups × {} partitions on the source …",
        topics.len() * PARTITIONS as usize
    );
    // Spread over each partition with a fixed pseudo-random sequence (an LCG).
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |bound: i64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        ((seed >> 33) % (bound as u64 + 1)) as i64
    };
    for g in 0..groups {
        let offsets: Vec<(&str, i32, i64)> = topics
            .iter()
            .flat_map(|t| (0..PARTITIONS).map(move |p| (t.as_str(), p)))
            .map(|(t, p)| (t, p, next(per_partition)))
            .collect();
        data::commit_offsets(
            &source.admin_config(),
            &format!("bench-group-{g:04}"),
            &offsets,
        )?;
    }

    let text = format!(
        "name = \"bench\"\ncluster \"source\" {{ bootstrap_servers = [\"{}\"] }}\ncluster \"target\" {{ bootstrap_servers = [\"{}\"] }}\ntopics {{ include = [\"^bench\\\\.\"] }}\nconsumer_groups {{ include = [\"^bench-group-\"] }}\n",
        source.bootstrap(),
        target.bootstrap()
    );
    let migration =
        kafka_migrate::config::parse_with_env("bench.hcl", &text, Path::new("."), &[], &|_| None)?;

    // Rounds as `apply` runs them: the first translates everything, later ones reuse what
    // earlier rounds found.
    let mut sync = kafka_migrate::groups::GroupSync::default();
    for run in 1..=3 {
        // Survey: both inventories with every group's offsets, and the plan with translations.
        let start = Instant::now();
        let survey = rt.block_on(kafka_migrate::survey::survey(
            &migration,
            kafka_migrate::plan::Engine::Native,
            sync.known(),
        ))?;
        let surveyed = start.elapsed().as_secs_f64();

        // Translation alone, on the same group offsets, with nothing known.
        let mut offsets = survey.plan.group_offsets.clone();
        for p in offsets.iter_mut().flat_map(|g| g.partitions.iter_mut()) {
            p.target = OffsetTarget::PendingReplication;
        }
        let reader =
            |cluster: &Cluster| -> Result<BaseConsumer<kafka_migrate::cluster::ReaderContext>> {
                let props = cluster
                    .client_properties(kafka_harness::ADMIN)
                    .into_iter()
                    .collect();
                Ok(kafka_migrate::cluster::factory::reader(
                    &kafka_migrate::groups::translator_config(&props, "bench"),
                )?)
            };
        let mut translator = kafka_migrate::groups::Translator::new(
            reader(&source)?,
            reader(&target)?,
            std::time::Duration::from_secs(60),
        );
        let progress = survey.snapshot.progress.clone().unwrap_or_default();
        let start = Instant::now();
        kafka_migrate::groups::translate_groups(
            &mut offsets,
            &progress,
            &mut translator,
            &Default::default(),
        )?;
        let translated = start.elapsed().as_secs_f64();
        let exact = offsets
            .iter()
            .flat_map(|g| &g.partitions)
            .filter(|p| matches!(p.target, OffsetTarget::Translated { .. }))
            .count();

        // Commit on the target: the first round moves every group, later ones nothing.
        let start = Instant::now();
        let synced = rt.block_on(sync.round(
            &survey.snapshot.target,
            &survey.plan.group_offsets,
            &survey.snapshot.source_inventory,
            &survey.snapshot.target_inventory,
            survey.snapshot.engine_progress(),
        ))?;
        let committed_secs = start.elapsed().as_secs_f64();
        let committed: usize = synced.iter().map(|g| g.committed).sum();
        println!(
            "round #{run}: {} groups; translating all {exact} group partitions from scratch {translated:.2}s; \
             survey of both clusters with translation (reusing earlier rounds') {surveyed:.2}s; {committed} offsets committed in {committed_secs:.2}s; \
             whole sync round {:.2}s",
            survey.plan.group_offsets.len(),
            surveyed + committed_secs
        );
    }
    Ok(0)
}
