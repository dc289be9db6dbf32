//! The engines that replicate a migration, behind one trait: `apply`, `status`, `cutover` and
//! `rollback` ask an [`Engine`], never which engine it is. The built-in engine ([`BuiltIn`]:
//! this process, exactly once) and MirrorMaker 2 on Kafka Connect ([`Connect`]) are here;
//! failback (the built-in engine with the clusters swapped) implements the trait in
//! `cutover::failback`. Which engine runs a migration is decided in one place, `ops::engines`.
//!
//! An engine draws nothing: it tells an [`Observer`] as it goes and ends with a [`Ran`].

mod builtin;
mod connect;

pub use builtin::BuiltIn;
pub use connect::Connect;

use tokio_util::sync::CancellationToken;

use super::{Finished, Observer};
use crate::groups::GroupSynced;
use crate::replicate::Status;
use crate::survey::Snapshot;

/// What an engine's run is about to do: the first line `apply` shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// The built-in engine replicates `partitions` partitions with `tasks` tasks.
    Replicating {
        partitions: usize,
        tasks: usize,
        until_synced: bool,
    },
    /// Failback replicates what producers write to the target back to the source, since the
    /// cutover of `migration` at `at_ms`.
    FailingBack {
        migration: String,
        at_ms: i64,
        until_synced: bool,
    },
}

/// How an engine's run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ran {
    /// The built-in engine stopped or caught up.
    Replicated(Finished),
    /// MirrorMaker 2's connectors run on the Connect cluster; with `until_synced` it caught up.
    Deployed { until_synced: bool },
    /// Failback stopped, or caught up (with `until_synced`, not on a signal).
    FailedBack {
        partitions: usize,
        records: u64,
        bytes: u64,
        caught_up: bool,
    },
}

/// What the group sync after a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Synced {
    /// Each group's offsets committed on the target.
    Forward(Vec<GroupSynced>),
    /// A line per group translated back to the source.
    Back(Vec<String>),
}

/// What an engine is asked for. Errors are the user's diagnostics, with what to do about them.
#[async_trait::async_trait(?Send)]
pub trait Engine: Send {
    /// What a run is about to do, told before [`Engine::prepare`]; `None` says nothing.
    fn start(&self, until_synced: bool) -> Option<Start>;

    /// What the engine creates before it runs, on the clusters of `snapshot` (nothing for
    /// most).
    async fn prepare(&mut self, snapshot: &Snapshot) -> miette::Result<()> {
        let _ = snapshot;
        Ok(())
    }

    /// Replicates until `cancel` or, with `until_synced`, until caught up. Tells `observer`
    /// as it goes.
    async fn run(
        &mut self,
        until_synced: bool,
        cancel: CancellationToken,
        observer: &mut dyn Observer,
    ) -> miette::Result<Ran>;

    /// The group sync after a run (`until_synced`: the run caught up); `None` when the
    /// migration does not sync groups or this run does not end with a sync.
    async fn sync_groups(&mut self, until_synced: bool) -> miette::Result<Option<Synced>>;

    /// Where the engine's replication of the migration stands; `None` when this engine has
    /// not replicated it.
    async fn status(&self) -> miette::Result<Option<Status>>;

    /// Replicates everything the source holds now, then stops: what `cutover` and `rollback`
    /// wait for before they take their point.
    async fn drain(&mut self) -> miette::Result<()>;
}
