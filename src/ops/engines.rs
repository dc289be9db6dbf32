//! Which engine runs a migration, decided here and nowhere else: the one the user asked for
//! (`--engine`), refused when the other engine has replicated the migration; failback once
//! the migration is cut over with failback enabled. Every operation then asks the
//! [`Engine`] trait.

use std::net::SocketAddr;

use miette::miette;

use crate::apply::engine::{BuiltIn, Connect};
use crate::apply::Engine;
use crate::config::Migration;
use crate::connect::{ConnectClient, Connector};
use crate::cutover::failback::Failback;
use crate::plan;
use crate::state::CutoverPoint;
use crate::survey::Snapshot;

/// The engine the user asked for.
#[derive(Debug, Clone, Default)]
pub struct Requested {
    /// The engine as the plan knows it (whether it keeps a progress topic).
    pub engine: plan::Engine,
    /// The Kafka Connect REST API, with the Connect engine.
    pub connect_url: Option<String>,
}

impl Requested {
    fn client(&self) -> miette::Result<ConnectClient> {
        let url = self
            .connect_url
            .as_deref()
            .ok_or_else(|| miette!("--engine connect needs --connect-url URL"))?;
        Ok(ConnectClient::new(url))
    }
}

/// With the Connect engine, the connectors the migration wants; `None` with the built-in one.
/// Refused when the other engine has replicated the migration.
pub fn connectors(
    migration: &Migration,
    requested: &Requested,
    snapshot: &Snapshot,
) -> miette::Result<Option<Vec<Connector>>> {
    crate::connect::for_engine(migration, requested.engine, snapshot)
        .map_err(|e| miette!(help = e.help(), "{e}"))
}

/// The Connect cluster's client and the connector configs deployed there that differ from
/// `wanted`.
pub async fn connector_diffs(
    requested: &Requested,
    wanted: &[Connector],
) -> miette::Result<(String, Vec<crate::connect::ConnectorDiff>)> {
    let client = requested.client()?;
    let diffs = crate::connect::deployed_diffs(&client, wanted)
        .await
        .map_err(|e| miette!("{e}"))?;
    Ok((client.url().to_string(), diffs))
}

/// The engine that replicates `partitions` forward: MirrorMaker 2 when `connectors` are
/// wanted, the built-in engine otherwise.
pub fn forward(
    migration: &Migration,
    requested: &Requested,
    snapshot: &Snapshot,
    connectors: Option<Vec<Connector>>,
    metrics_addr: Option<SocketAddr>,
) -> miette::Result<Box<dyn Engine>> {
    Ok(match connectors {
        Some(connectors) => Box::new(Connect::new(
            migration,
            requested.client()?,
            connectors,
            !snapshot.source_inventory.topics.is_empty(),
        )),
        None => Box::new(built_in(migration, snapshot, metrics_addr)),
    })
}

/// The built-in engine over every selected partition of `snapshot`'s source.
pub fn built_in(
    migration: &Migration,
    snapshot: &Snapshot,
    metrics_addr: Option<SocketAddr>,
) -> BuiltIn {
    let limits = plan::record_limits(
        migration,
        &snapshot.source_inventory,
        &snapshot.target_inventory,
    );
    BuiltIn::new(
        migration,
        snapshot.source_inventory.partitions(),
        limits,
        metrics_addr,
    )
}

/// Failback: the built-in engine from the target back to the source since `point`.
pub fn failback(migration: &Migration, point: CutoverPoint) -> Failback {
    Failback::new(migration, point)
}

/// The engines that may have replicated `migration`, to ask where it stands: the built-in
/// engine first, then MirrorMaker 2 (whose state the target holds, wherever Connect runs).
pub fn replicating(migration: &Migration) -> Vec<Box<dyn Engine>> {
    vec![
        Box::new(BuiltIn::new(
            migration,
            Vec::new(),
            plan::RecordLimits::default(),
            None,
        )),
        Box::new(Connect::reading(migration)),
    ]
}
