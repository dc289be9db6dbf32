//! `apply`: refuse a stale saved plan, go by the migration's lifecycle (abandon a cutover,
//! fail back after one, refuse a forward apply after one), carry out the plan's metadata
//! actions on the target, then run the engine until cancelled or caught up and sync the
//! groups.

use std::net::SocketAddr;
use std::path::Path;

use miette::miette;

use crate::apply::{self, ApplyReport, Engine, Outcome, Ran, Start, Synced};
use crate::config::Migration;
use crate::plan::{self, Action, Plan};

use super::{engines, CancellationToken, Requested};

/// What `apply` is asked for.
#[derive(Debug, Clone, Default)]
pub struct Options<'a> {
    /// A plan saved by `plan --out`, applied only if the clusters have not changed since.
    pub saved: Option<&'a Path>,
    /// Apply a fresh plan without asking.
    pub auto_approve: bool,
    /// Stop once the target has caught up (and the groups are synced).
    pub until_synced: bool,
    /// Abandon the migration's cutover: the source is the system of record again.
    pub abandon_cutover: bool,
    /// Serve metrics here while the built-in engine runs.
    pub metrics_addr: Option<SocketAddr>,
    pub engine: Requested,
}

/// What `apply` tells as it goes; besides the running engine's state and notes.
#[async_trait::async_trait(?Send)]
pub trait Observer: apply::Observer {
    /// The cutover at `at_ms` is to be abandoned once the plan is confirmed.
    fn abandoning(&mut self, at_ms: i64) {
        let _ = at_ms;
    }
    /// The cutover at `at_ms` was abandoned.
    fn abandoned(&mut self, at_ms: i64);
    /// The saved plan is stale, for these reasons (an error follows).
    fn stale(&mut self, reasons: &[String]);
    /// The fresh plan about to be applied.
    fn planned(&mut self, plan: &Plan);
    /// Whether to apply `plan`, which has changes and no blockers.
    async fn confirm(&mut self, plan: &Plan) -> miette::Result<bool>;
    /// An action of the plan was carried out.
    fn applied(&mut self, action: &Action, outcome: &Outcome);
    /// Every action of the plan was carried out.
    fn metadata(&mut self, report: &ApplyReport);
    /// The engine is about to run.
    fn started(&mut self, start: &Start);
    /// The engine's run ended.
    fn ran(&mut self, ran: &Ran);
    /// The groups were synced after the run.
    fn synced(&mut self, synced: &Synced);
}

/// How `apply` ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The plan was not confirmed (or a signal came while asking): nothing was done.
    NotConfirmed,
    /// A signal came while the plan's actions were carried out: they were, but the engine
    /// did not start.
    Interrupted,
    /// With `until_synced`, no topic is selected: nothing to replicate.
    NothingSelected,
    /// The engine ran, then synced the groups when it does.
    Ran { ran: Ran, synced: Option<Synced> },
}

/// Applies `migration`.
pub async fn apply(
    migration: &Migration,
    options: &Options<'_>,
    cancel: CancellationToken,
    observer: &mut dyn Observer,
) -> miette::Result<Applied> {
    // A saved plan is read and checked before either cluster is contacted: a bad file is
    // told at once, naming the file.
    let saved = match options.saved {
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
    let requested = &options.engine;
    // Nothing has changed yet: a signal stops it at once.
    let known = Default::default();
    let survey = tokio::select! {
        survey = crate::survey::survey(migration, requested.engine, &known) => survey?,
        () = cancel.cancelled() => return Err(miette!("apply stopped on a signal: nothing was changed")),
    };
    let connectors = engines::connectors(migration, requested, &survey.snapshot)?;
    let progress = survey.snapshot.engine_progress();
    // The cutover to abandon, once the plan is confirmed: refused now if the target was
    // written since.
    let abandoning = crate::cutover::cut_over(progress)
        .and_then(|c| c.point.as_ref())
        .map(|p| p.at_ms)
        .filter(|_| options.abandon_cutover);
    if let Some(at_ms) = abandoning {
        crate::cutover::abandonable(migration, &survey.snapshot, progress).await?;
        observer.abandoning(at_ms);
    } else if options.abandon_cutover {
        // Nothing to abandon: the forward apply goes on as usual.
    } else if let Some(point) = crate::cutover::cut_over(progress)
        .and_then(|c| c.point.clone())
        .filter(|_| migration.failback.enabled)
    {
        let engine = engines::failback(migration, point);
        let snapshot = &survey.snapshot;
        record_identity(migration, snapshot).await?;
        return run(
            Box::new(engine),
            snapshot,
            options.until_synced,
            cancel,
            observer,
        )
        .await;
    } else {
        crate::cutover::refuse_forward(migration, progress)?;
    }
    let fresh = &survey.plan;
    match saved {
        Some((path, saved)) => {
            if let Err(stale) = apply::check_stale(&saved, fresh) {
                observer.stale(&stale.reasons);
                return Err(miette!(
                    help = "run `kafka-migrate plan --out FILE` again and apply the new plan",
                    "Saved plan is stale: {} since {} was made",
                    stale.what_changed(),
                    path.display()
                ));
            }
        }
        None => {
            observer.planned(fresh);
            let changes = fresh.has_changes() || abandoning.is_some();
            if fresh.blockers.is_empty() && changes && !options.auto_approve {
                let confirmed = tokio::select! {
                    confirmed = observer.confirm(fresh) => confirmed?,
                    () = cancel.cancelled() => false,
                };
                if !confirmed {
                    return Ok(Applied::NotConfirmed);
                }
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
    if abandoning.is_some() {
        if let Some(point) = crate::cutover::abandon(migration, progress).await? {
            observer.abandoned(point.at_ms);
        }
    }
    let report = apply::apply_metadata(&survey.snapshot.target, fresh, |action, outcome| {
        observer.applied(action, outcome)
    })
    .await?;
    observer.metadata(&report);
    if cancel.is_cancelled() {
        return Ok(Applied::Interrupted);
    }
    if connectors.is_none()
        && options.until_synced
        && survey.snapshot.source_inventory.partitions().is_empty()
    {
        return Ok(Applied::NothingSelected);
    }
    if connectors.is_none() {
        // The built-in engine's progress topic exists now (the plan creates it).
        record_identity(migration, &survey.snapshot).await?;
    }
    let engine = engines::forward(
        migration,
        requested,
        &survey.snapshot,
        connectors,
        options.metrics_addr,
    )?;
    run(
        engine,
        &survey.snapshot,
        options.until_synced,
        cancel,
        observer,
    )
    .await
}

/// Records the clusters' ids in the migration's progress topic when it holds none yet: at a
/// run's first start, or the next run of a migration that replicated before they were kept.
/// MirrorMaker 2's migrations have no progress topic of the tool's to hold them.
async fn record_identity(
    migration: &Migration,
    snapshot: &crate::survey::Snapshot,
) -> miette::Result<()> {
    if snapshot.replicated_by == crate::survey::ReplicatedBy::MirrorMaker2
        || snapshot
            .progress
            .as_ref()
            .is_some_and(|p| p.identity.is_some())
    {
        return Ok(());
    }
    let store = crate::state::Store::of(migration);
    let record = snapshot.identity.record();
    tokio::task::spawn_blocking(move || store.write(&[record]))
        .await
        .map_err(|e| miette!("recording the migration's clusters: {e}"))?
        .map_err(|e| miette!("target cluster: recording the migration's clusters failed: {e}"))?;
    Ok(())
}

/// Prepares and runs `engine`, then the group sync after it.
async fn run(
    mut engine: Box<dyn Engine>,
    snapshot: &crate::survey::Snapshot,
    until_synced: bool,
    cancel: CancellationToken,
    observer: &mut dyn Observer,
) -> miette::Result<Applied> {
    if let Some(start) = engine.start(until_synced) {
        observer.started(&start);
    }
    engine.prepare(snapshot).await?;
    let ran = engine.run(until_synced, cancel, observer).await?;
    observer.ran(&ran);
    let synced = engine.sync_groups(until_synced).await?;
    if let Some(synced) = &synced {
        observer.synced(synced);
    }
    Ok(Applied::Ran { ran, synced })
}
