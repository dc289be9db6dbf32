//! The built-in engine: this process replicates, exactly once, under the apply supervisor
//! (which follows new topics and partitions, syncs groups while it runs and keeps the
//! metrics); the final group sync shares what the supervisor's rounds learnt.

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use miette::miette;
use tokio_util::sync::CancellationToken;

use super::{Engine, Ran, Start, Synced};
use crate::apply::{metrics, supervise, Note, Observer, SupervisorError};
use crate::config::Migration;
use crate::groups::GroupSync;
use crate::plan::RecordLimits;
use crate::replicate::{self, Settings, Status};

/// The built-in engine over the selected partitions of a migration.
pub struct BuiltIn {
    migration: Migration,
    partitions: Vec<(String, i32)>,
    limits: RecordLimits,
    metrics_addr: Option<SocketAddr>,
    /// What the sync rounds while replicating learnt (groups seen cut over, translations),
    /// for the final sync.
    groups: Arc<tokio::sync::Mutex<GroupSync>>,
}

impl BuiltIn {
    /// The engine for `partitions` of `migration`, sized for the topics' record `limits`;
    /// serving metrics on `metrics_addr` while it runs.
    pub fn new(
        migration: &Migration,
        partitions: Vec<(String, i32)>,
        limits: RecordLimits,
        metrics_addr: Option<SocketAddr>,
    ) -> BuiltIn {
        BuiltIn {
            groups: Arc::new(tokio::sync::Mutex::new(GroupSync::recording(migration))),
            migration: migration.clone(),
            partitions,
            limits,
            metrics_addr,
        }
    }
}

#[async_trait::async_trait(?Send)]
impl Engine for BuiltIn {
    fn start(&self, until_synced: bool) -> Option<Start> {
        Some(Start::Replicating {
            partitions: self.partitions.len(),
            // As many as run: no more than there are partitions.
            tasks: crate::replicate::task_count(
                self.migration.replication.tasks,
                self.partitions.len(),
            ),
            until_synced,
        })
    }

    async fn run(
        &mut self,
        until_synced: bool,
        cancel: CancellationToken,
        observer: &mut dyn Observer,
    ) -> miette::Result<Ran> {
        if let Some(addr) = self.metrics_addr {
            metrics::serve(addr, &self.migration.name)?;
            observer.note(Note::ServingMetrics { addr });
        }
        let finished = supervise(
            &self.migration,
            self.partitions.clone(),
            &self.limits,
            until_synced,
            self.groups.clone(),
            cancel,
            observer,
        )
        .await
        .map_err(|e| match e {
            SupervisorError::Failed(_) => miette!(
                help = "replicated records are committed; run apply again to go on",
                "{e}"
            ),
            SupervisorError::Engine(e) => miette::Report::new(e),
        })?;
        Ok(Ran::Replicated(finished))
    }

    async fn sync_groups(&mut self, until_synced: bool) -> miette::Result<Option<Synced>> {
        if !(until_synced && self.migration.consumer_groups.sync) {
            return Ok(None);
        }
        let mut groups = self.groups.lock().await;
        let synced = groups.survey_round(&self.migration).await?;
        Ok(Some(Synced::Forward(synced)))
    }

    async fn status(&self) -> miette::Result<Option<Status>> {
        Ok(Some(replicate::status(&self.migration).await?))
    }

    async fn drain(&mut self) -> miette::Result<()> {
        let settings = Arc::new(
            Settings::from_migration(&self.migration, true).with_record_limits(&self.limits),
        );
        let (events, _ignored) = tokio::sync::mpsc::unbounded_channel();
        replicate::replicate(
            settings,
            self.partitions.clone(),
            Arc::new(AtomicBool::new(false)),
            events,
        )
        .await?;
        Ok(())
    }
}
