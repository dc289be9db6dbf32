//! The `plan` and `apply` commands: argument handling, output and exit codes around the
//! library's survey, plan, apply and replication calls.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use miette::{miette, IntoDiagnostic};

use crate::apply::{self, Outcome};
use crate::config::Migration;
use crate::plan::{self, Action};
use crate::render::{self, Paint};
use crate::replicate::{self, Event, Settings};

use super::ExitStatus;

fn runtime() -> miette::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()
}

/// `plan`: survey both clusters, show the plan, optionally save it.
pub fn plan(
    migration: &Migration,
    out: Option<&Path>,
    json: bool,
    detailed: bool,
) -> miette::Result<ExitStatus> {
    let survey = runtime()?.block_on(apply::survey(migration))?;
    let plan = &survey.plan;
    if json {
        println!("{}", render::plan_json(plan));
    } else {
        print!("{}", render::plan_text(plan, Paint::for_stdout()));
    }
    if let Some(path) = out {
        plan::write_plan_file(plan, path)?;
        if !json {
            println!(
                "\nSaved the plan to {}. Apply it with: kafka-migrate apply {}",
                path.display(),
                path.display()
            );
        }
    }
    if !plan.blockers.is_empty() {
        return Err(miette!(
            help = "resolve the blockers listed above, then plan again",
            "the plan has {} blocker(s): apply would refuse it",
            plan.blockers.len()
        ));
    }
    Ok(if detailed && plan.has_changes() {
        ExitStatus::Attention
    } else {
        ExitStatus::Success
    })
}

/// `apply`: carry out a saved or fresh plan, then replicate.
pub fn apply(
    migration: &Migration,
    saved: Option<&Path>,
    auto_approve: bool,
    until_synced: bool,
) -> miette::Result<ExitStatus> {
    let rt = runtime()?;
    let survey = rt.block_on(apply::survey(migration))?;
    let fresh = &survey.plan;
    match saved {
        Some(path) => {
            let saved = plan::read_plan_file(path)?;
            if let Err(stale) = apply::check_stale(&saved, fresh) {
                for reason in &stale.reasons {
                    eprintln!("  - {reason}");
                }
                return Err(miette!(
                    help = "run `kafka-migrate plan --out FILE` again and apply the new plan",
                    "Saved plan is stale: the clusters changed since {} was made",
                    path.display()
                ));
            }
        }
        None => {
            print!("{}", render::plan_text(fresh, Paint::for_stdout()));
            if fresh.blockers.is_empty() && fresh.has_changes() && !auto_approve && !confirm()? {
                println!("Apply cancelled.");
                return Ok(ExitStatus::Error);
            }
        }
    }
    if !fresh.blockers.is_empty() {
        return Err(miette!(
            help = "resolve the blockers listed by `kafka-migrate plan`, then apply again",
            "apply refuses a plan with {} blocker(s)",
            fresh.blockers.len()
        ));
    }
    let paint = Paint::for_stdout();
    let report = rt.block_on(apply::apply_metadata(
        &survey.target,
        fresh,
        |action, outcome| {
            let verb = match outcome {
                Outcome::Done => "done",
                Outcome::AlreadyDone => "already there",
            };
            println!("{} {}", paint.create("✓"), describe(action, verb));
        },
    ))?;
    println!(
        "Metadata: {} change(s) made, {} already in place.",
        report.done.len(),
        report.already_done.len()
    );
    let partitions: Vec<(String, i32)> = survey
        .source_inventory
        .topics
        .values()
        .flat_map(|t| t.partitions.keys().map(move |p| (t.name.clone(), *p)))
        .collect();
    if partitions.is_empty() {
        println!("No topics selected: nothing to replicate.");
        return Ok(ExitStatus::Success);
    }
    let status = replicate_until_stopped(&rt, migration, partitions, until_synced)?;
    if until_synced && migration.consumer_groups.sync {
        // Caught up: every group's committed offset now translates exactly.
        let survey = rt.block_on(apply::survey(migration))?;
        let synced = rt.block_on(crate::offsets::sync_groups(
            &survey.target,
            &survey.plan.group_offsets,
        ))?;
        for g in synced {
            println!(
                "{} group \"{}\": {} offset(s) committed on the target{}",
                paint.create("✓"),
                g.group,
                g.committed,
                if g.pending > 0 {
                    format!(", {} pending replication", g.pending)
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(status)
}

fn confirm() -> miette::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(miette!(
            help = "review the plan and pass --auto-approve, or apply a saved plan file",
            "apply needs confirmation, but standard input is not a terminal"
        ));
    }
    print!("\nDo you want to perform these actions? Only 'yes' is accepted: ");
    std::io::stdout().flush().into_diagnostic()?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .into_diagnostic()?;
    Ok(answer.trim() == "yes")
}

fn describe(action: &Action, outcome: &str) -> String {
    match action {
        Action::CreateTopic {
            topic, partitions, ..
        } => format!("create topic \"{topic}\" ({partitions} partitions): {outcome}"),
        Action::CreatePartitions { topic, after, .. } => {
            format!("grow topic \"{topic}\" to {after} partitions: {outcome}")
        }
        Action::UpdateTopicConfig { topic, changes } => format!(
            "update {} config(s) of topic \"{topic}\": {outcome}",
            changes.len()
        ),
        Action::CreateAcl { binding, .. } => format!("create acl {binding}: {outcome}"),
    }
}

/// Runs the engine; the first Ctrl-C drains and commits, the second exits at once.
fn replicate_until_stopped(
    rt: &tokio::runtime::Runtime,
    migration: &Migration,
    partitions: Vec<(String, i32)>,
    until_synced: bool,
) -> miette::Result<ExitStatus> {
    let settings = Arc::new(Settings::from_migration(migration, until_synced));
    let stop = Arc::new(AtomicBool::new(false));
    let count = partitions.len();
    println!(
        "Replicating {count} partition(s) with {} task(s){}…",
        settings.tasks,
        if until_synced {
            " until the target has caught up"
        } else {
            "; press Ctrl-C to stop"
        }
    );
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let signals = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("Stopping: finishing the current batch and committing (Ctrl-C again to exit now)…");
                signals.store(true, Ordering::Relaxed);
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("Exiting now; the last uncommitted batch will be replicated again next time.");
                    std::process::exit(130);
                }
            }
        });
        let engine = tokio::spawn(replicate::replicate(settings.clone(), partitions, stop.clone(), tx));
        let syncing = migration.consumer_groups.sync.then(|| {
            let (migration, stop) = (migration.clone(), stop.clone());
            tokio::spawn(async move { sync_groups_periodically(&migration, &stop).await })
        });
        let started = Instant::now();
        let (mut records, mut bytes) = (0u64, 0u64);
        let mut last_report = Instant::now();
        while let Some(event) = rx.recv().await {
            if let Event::Replicated { records: r, bytes: b, .. } = event {
                records += r;
                bytes += b;
            }
            if last_report.elapsed() >= Duration::from_secs(5) {
                last_report = Instant::now();
                let secs = started.elapsed().as_secs_f64().max(0.001);
                tracing::info!(records, bytes, records_per_second = (records as f64 / secs) as u64, "Replicating.");
                println!("  {records} records ({:.1} MiB) replicated, {:.0} records/s", bytes as f64 / 1048576.0, records as f64 / secs);
            }
        }
        let summary = engine.await.into_diagnostic()??;
        if let Some(task) = syncing {
            task.abort();
        }
        println!(
            "Replication {}: {records} records ({:.1} MiB) in {:.1}s over {} partition(s) and {} task(s).",
            if until_synced && !stop.load(Ordering::Relaxed) { "caught up" } else { "stopped" },
            bytes as f64 / 1048576.0,
            started.elapsed().as_secs_f64(),
            summary.partitions,
            summary.tasks
        );
        Ok(ExitStatus::Success)
    })
}

/// Syncs group offsets every `sync_interval` while replication runs; a failed round is
/// logged and tried again at the next interval.
async fn sync_groups_periodically(migration: &Migration, stop: &AtomicBool) {
    let mut ticks = tokio::time::interval(migration.consumer_groups.sync_interval.0);
    ticks.tick().await;
    while !stop.load(Ordering::Relaxed) {
        ticks.tick().await;
        let round = async {
            let survey = apply::survey(migration).await?;
            crate::offsets::sync_groups(&survey.target, &survey.plan.group_offsets).await
        };
        match round.await {
            Ok(synced) => {
                let committed: usize = synced.iter().map(|g| g.committed).sum();
                tracing::info!(groups = synced.len(), committed, "Group offsets synced.");
            }
            Err(e) => {
                tracing::warn!(error = %e, "Group offset sync failed; trying again at the next interval.")
            }
        }
    }
}

/// `status`: lag per topic and partition.
pub fn status(migration: &Migration, json: bool) -> miette::Result<ExitStatus> {
    let status = runtime()?.block_on(replicate::status(migration))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&status).into_diagnostic()?
        );
        return Ok(ExitStatus::Success);
    }
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["topic", "partitions", "records replicated", "lag"]);
    for (topic, (partitions, lag, records)) in status.by_topic() {
        table.add_row([
            topic.to_string(),
            partitions.to_string(),
            records.to_string(),
            lag.to_string(),
        ]);
    }
    println!("{table}");
    let behind: Vec<String> = status
        .partitions
        .iter()
        .filter(|p| p.lag > 0)
        .map(|p| {
            format!(
                "{} partition {}: {} behind (source end {}, replicated to {})",
                p.topic,
                p.partition,
                p.lag,
                p.source_end,
                p.replicated_to
                    .map_or("nothing".to_string(), |o| o.to_string())
            )
        })
        .collect();
    for line in &behind {
        println!("  {line}");
    }
    println!(
        "Migration \"{}\": {} partition(s), total lag {}.",
        status.migration,
        status.partitions.len(),
        status.total_lag()
    );
    Ok(ExitStatus::Success)
}
