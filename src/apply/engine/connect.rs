//! The Connect engine: MirrorMaker 2's connectors configured on a Kafka Connect cluster over
//! its REST API; `apply` waits for their tasks to run and, until synced, for MirrorMaker 2 to
//! catch up, then syncs the groups exactly itself.

use miette::miette;
use tokio_util::sync::CancellationToken;

use super::{Engine, Ran, Start, Synced};
use crate::apply::{Note, Observer};
use crate::config::Migration;
use crate::connect::{self, ConnectClient, Connector};
use crate::groups::GroupSync;
use crate::replicate::Status;

/// MirrorMaker 2 for a migration: deployed on a Connect cluster by `apply`, or only read
/// (its state is on the target, wherever Connect runs).
pub struct Connect {
    migration: Migration,
    deploy: Option<Deploy>,
}

/// Where and what to deploy.
struct Deploy {
    client: ConnectClient,
    connectors: Vec<Connector>,
    /// The migration selects topics: the source connector must run a task.
    has_topics: bool,
}

impl Connect {
    /// MirrorMaker 2 deployed with `connectors` on the Connect cluster at `client`'s URL.
    pub fn new(
        migration: &Migration,
        client: ConnectClient,
        connectors: Vec<Connector>,
        has_topics: bool,
    ) -> Connect {
        Connect {
            migration: migration.clone(),
            deploy: Some(Deploy {
                client,
                connectors,
                has_topics,
            }),
        }
    }

    /// MirrorMaker 2's replication of `migration`, only to read where it stands.
    pub fn reading(migration: &Migration) -> Connect {
        Connect {
            migration: migration.clone(),
            deploy: None,
        }
    }
}

#[async_trait::async_trait(?Send)]
impl Engine for Connect {
    fn start(&self, _until_synced: bool) -> Option<Start> {
        None
    }

    async fn run(
        &mut self,
        until_synced: bool,
        cancel: CancellationToken,
        observer: &mut dyn Observer,
    ) -> miette::Result<Ran> {
        let Some(deploy) = &self.deploy else {
            return Err(miette!(
                "MirrorMaker 2 runs only with --engine connect --connect-url URL"
            ));
        };
        let url = deploy.client.url().to_string();
        let deployed = connect::run(
            &deploy.client,
            &self.migration,
            &deploy.connectors,
            deploy.has_topics,
            until_synced,
            |step| {
                observer.note(Note::Connect {
                    step,
                    url: url.clone(),
                })
            },
        );
        tokio::select! {
            deployed = deployed => {
                deployed.map_err(|e| miette!("{e}"))?;
            }
            () = cancel.cancelled() => {
                return Err(miette!(
                    help = "the connector configs put so far stay on the Connect cluster; run apply again to finish",
                    "apply --engine connect stopped on a signal"
                ));
            }
        }
        Ok(Ran::Deployed { until_synced })
    }

    async fn sync_groups(&mut self, until_synced: bool) -> miette::Result<Option<Synced>> {
        if !(until_synced && self.migration.consumer_groups.sync) {
            return Ok(None);
        }
        let synced = GroupSync::default().survey_round(&self.migration).await?;
        Ok(Some(Synced::Forward(synced)))
    }

    async fn status(&self) -> miette::Result<Option<Status>> {
        Ok(connect::mirrored_status(&self.migration).await?)
    }

    async fn drain(&mut self) -> miette::Result<()> {
        Err(miette!(
            help = "cutover and rollback drain with kafka-migrate's own engine; MirrorMaker 2 keeps replicating on the Connect cluster",
            "MirrorMaker 2 on Kafka Connect cannot be drained by kafka-migrate"
        ))
    }
}
