//! The `plan` and `apply` commands: argument handling, output and exit codes around the
//! library's survey, plan, apply and replication calls.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use miette::{miette, IntoDiagnostic};

use crate::apply;
use crate::config::Migration;
use crate::groups::GroupSync;
use crate::plan;
use crate::render::{self, Paint};

use super::{EngineArgs, ExitStatus};

pub(super) fn runtime() -> miette::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()
}

/// Both clusters and the plan for the chosen engine, with the connectors it wants when that is
/// the Connect engine.
fn survey(
    rt: &tokio::runtime::Runtime,
    migration: &Migration,
    engine: &EngineArgs,
) -> miette::Result<(
    crate::survey::Survey,
    Option<Vec<crate::connect::Connector>>,
)> {
    let survey = rt.block_on(crate::survey::survey(
        migration,
        engine.plan_engine(),
        &Default::default(),
    ))?;
    let connectors = super::connect::for_engine(migration, engine, &survey)?;
    Ok((survey, connectors))
}

/// `plan`: survey both clusters, show the plan, optionally save it.
pub fn plan(
    migration: &Migration,
    out: Option<&Path>,
    json: bool,
    detailed: bool,
    engine: &EngineArgs,
) -> miette::Result<ExitStatus> {
    let rt = runtime()?;
    let (survey, connectors) = survey(&rt, migration, engine)?;
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
    let connectors_change = match &connectors {
        Some(wanted) => super::connect::show_diffs(&rt, engine, wanted)?,
        None => false,
    };
    Ok(if detailed && (plan.has_changes() || connectors_change) {
        ExitStatus::Attention
    } else {
        ExitStatus::Success
    })
}

/// The yes/no flags of `apply`.
pub struct ApplyFlags {
    pub auto_approve: bool,
    pub until_synced: bool,
    pub abandon_cutover: bool,
}

/// `apply`: carry out a saved or fresh plan, then replicate.
pub fn apply(
    migration: &Migration,
    saved: Option<&Path>,
    flags: ApplyFlags,
    metrics_addr: Option<std::net::SocketAddr>,
    engine: &EngineArgs,
) -> miette::Result<ExitStatus> {
    // A saved plan is read and checked before either cluster is contacted: a bad file is
    // told at once, naming the file.
    let saved = match saved {
        Some(path) => Some((path, plan::read_plan_file(path)?)),
        None => None,
    };
    if let Some((path, plan)) = &saved {
        if plan.migration != migration.name {
            return Err(miette!(
                help = "apply the plan with the migration file it was made from",
                "{} is a plan for migration \"{}\", but the migration file is \"{}\"",
                path.display(),
                plan.migration,
                migration.name
            ));
        }
    }
    let rt = runtime()?;
    let (survey, connectors) = survey(&rt, migration, engine)?;
    let ApplyFlags {
        auto_approve,
        until_synced,
        abandon_cutover,
    } = flags;
    let progress = survey.snapshot.engine_progress();
    if abandon_cutover {
        if let Some(point) = rt.block_on(crate::cutover::abandon(migration, progress))? {
            println!(
                "Cutover of {} abandoned: the source is the system of record again.",
                crate::state::cutover::utc(point.at_ms)
            );
        }
    } else if let Some(point) = crate::cutover::cut_over(progress)
        .and_then(|c| c.point.clone())
        .filter(|_| migration.failback.enabled)
    {
        return super::cutover::failback(&rt, migration, &survey.snapshot, &point, until_synced);
    } else {
        crate::cutover::refuse_forward(migration, progress)?;
    }
    let fresh = &survey.plan;
    match saved {
        Some((path, saved)) => {
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
        &survey.snapshot.target,
        fresh,
        |action, outcome| {
            println!(
                "{} {}",
                paint.create("✓"),
                render::describe(action, outcome)
            )
        },
    ))?;
    println!(
        "Metadata: {} change(s) made, {} already in place.",
        report.done.len(),
        report.already_done.len()
    );
    if let Some(connectors) = connectors {
        let has_topics = !survey.snapshot.source_inventory.topics.is_empty();
        return super::connect::run(
            &rt,
            migration,
            engine,
            &connectors,
            has_topics,
            until_synced,
        );
    }
    let partitions = survey.snapshot.source_inventory.partitions();
    if partitions.is_empty() && until_synced {
        println!("No topics selected: nothing to replicate.");
        return Ok(ExitStatus::Success);
    }
    // The sync rounds while replicating and the final one share what they learnt: a group
    // seen cut over during the run is not synced at the end either.
    let groups = Arc::new(tokio::sync::Mutex::new(GroupSync::recording(migration)));
    let limits = plan::record_limits(
        migration,
        &survey.snapshot.source_inventory,
        &survey.snapshot.target_inventory,
    );
    let status = replicate(
        &rt,
        migration,
        partitions,
        &limits,
        until_synced,
        metrics_addr,
        groups.clone(),
    )?;
    if until_synced && migration.consumer_groups.sync {
        sync_groups(&rt, migration, &groups)?;
    }
    Ok(status)
}

/// Replicates with the apply supervisor until stopped or, with `until_synced`, until the
/// target has caught up, drawing its progress.
fn replicate(
    rt: &tokio::runtime::Runtime,
    migration: &Migration,
    partitions: Vec<(String, i32)>,
    limits: &plan::RecordLimits,
    until_synced: bool,
    metrics_addr: Option<std::net::SocketAddr>,
    groups: Arc<tokio::sync::Mutex<GroupSync>>,
) -> miette::Result<ExitStatus> {
    println!(
        "Replicating {} partition(s) with {} task(s){}…",
        partitions.len(),
        migration.replication.tasks,
        if until_synced {
            " until the target has caught up"
        } else {
            "; press Ctrl-C to stop"
        }
    );
    let finished = rt.block_on(async {
        if let Some(addr) = metrics_addr {
            apply::metrics::serve(addr)?;
            println!("Serving metrics at http://{addr}/metrics");
        }
        let mut display = render::Display::new(std::io::stdout().is_terminal());
        apply::supervise(
            migration,
            partitions,
            limits,
            until_synced,
            groups,
            &mut display,
        )
        .await
        .map_err(|e| match e {
            apply::SupervisorError::Failed(_) => miette!(
                help = "replicated records are committed; run apply again to go on",
                "{e}"
            ),
            apply::SupervisorError::Engine(e) => miette::Report::new(e),
        })
    })?;
    println!(
        "Replication {}: {} records ({:.1} MiB) in {:.1}s over {} partition(s) and {} task(s).",
        if finished.caught_up {
            "caught up"
        } else {
            "stopped"
        },
        finished.records,
        finished.bytes as f64 / 1_048_576.0,
        finished.elapsed.as_secs_f64(),
        finished.summary.partitions,
        finished.summary.tasks
    );
    Ok(ExitStatus::Success)
}

/// Once caught up, every group's committed offset translates exactly: commit it on the target
/// for every group that has not cut over.
pub(super) fn sync_groups(
    rt: &tokio::runtime::Runtime,
    migration: &Migration,
    sync: &tokio::sync::Mutex<GroupSync>,
) -> miette::Result<()> {
    let paint = Paint::for_stdout();
    let rounds = rt.block_on(async { sync.lock().await.survey_round(migration).await })?;
    for g in rounds {
        match &g.cut_over {
            Some(why) => println!("- group \"{}\": cut over ({why}); not synced", g.group),
            None => println!(
                "{} group \"{}\": {} offset(s) committed on the target{}",
                paint.create("✓"),
                g.group,
                g.committed,
                if g.pending > 0 {
                    format!(", {} pending replication", g.pending)
                } else {
                    String::new()
                }
            ),
        }
    }
    Ok(())
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

/// How often `status --watch` shows the status again.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// `status`: once, or with `watch` again every [`WATCH_INTERVAL`] until Ctrl-C (a failed
/// read is shown and tried again).
pub fn status(migration: &Migration, json: bool, watch: bool) -> miette::Result<ExitStatus> {
    let rt = runtime()?;
    if !watch {
        return show_status(&rt, migration, json).map(|()| ExitStatus::Success);
    }
    let terminal = std::io::stdout().is_terminal();
    loop {
        if terminal && !json {
            // Clear the screen and draw from the top.
            print!("\x1b[2J\x1b[H");
        }
        if let Err(e) = show_status(&rt, migration, json) {
            eprintln!("{e:?}");
        }
        if !terminal {
            println!();
        }
        let _ = std::io::stdout().flush();
        let interrupted = rt.block_on(async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => true,
                _ = tokio::time::sleep(WATCH_INTERVAL) => false,
            }
        });
        if interrupted {
            return Ok(ExitStatus::Success);
        }
    }
}

/// The status once: lag per topic and partition, from whichever engine replicates, and where
/// each consumer group stands.
fn show_status(
    rt: &tokio::runtime::Runtime,
    migration: &Migration,
    json: bool,
) -> miette::Result<()> {
    let status = rt.block_on(apply::status(migration))?;
    if json {
        println!("{}", render::status_json(&status));
    } else {
        print!("{}", render::status_text(&status));
    }
    Ok(())
}
