//! Which engine runs a migration, decided here and nowhere else: the one the user asked for
//! (`--engine`), refused when the other engine has replicated the migration; failback once
//! the migration is cut over with failback enabled. Every operation then asks the
//! [`Engine`] trait.

use std::net::SocketAddr;

use miette::miette;

use crate::apply::engine::{BuiltIn, Connect};
use crate::apply::Engine;
use crate::config::{files, Migration, Secret};
use crate::connect::{ConnectClient, Connector};
use crate::cutover::failback::Failback;
use crate::plan;
use crate::state::CutoverPoint;
use crate::survey::Snapshot;

/// The engine the user asked for.
#[derive(Clone, Default)]
pub struct Requested {
    /// The engine as the plan knows it (whether it keeps a progress topic).
    pub engine: plan::Engine,
    /// The Kafka Connect REST API, with the Connect engine.
    pub connect_url: Option<String>,
    /// The REST API's basic-authentication user; the password is read from
    /// [`CONNECT_PASSWORD_ENV`] or `connect_password_file`.
    pub connect_user: Option<String>,
    pub connect_password_file: Option<std::path::PathBuf>,
    /// A CA to trust for an https REST API.
    pub connect_ca_file: Option<std::path::PathBuf>,
}

/// The environment variable holding the Connect REST API's password.
pub const CONNECT_PASSWORD_ENV: &str = "KAFKA_MIGRATE_CONNECT_PASSWORD";

/// Shows the Connect URL without the credentials it may carry.
impl std::fmt::Debug for Requested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Requested")
            .field("engine", &self.engine)
            .field(
                "connect_url",
                &self.connect_url.as_deref().map(crate::config::shown_url),
            )
            .field("connect_user", &self.connect_user)
            .field("connect_password_file", &self.connect_password_file)
            .field("connect_ca_file", &self.connect_ca_file)
            .finish()
    }
}

impl Requested {
    fn client(&self) -> miette::Result<ConnectClient> {
        let url = self
            .connect_url
            .as_deref()
            .ok_or_else(|| miette!("--engine connect needs --connect-url URL"))?;
        let basic = match &self.connect_user {
            None => None,
            Some(_) if crate::config::shown_url(url) != url => {
                return Err(miette!(
                    help = "give the user and password once: with --connect-user and $KAFKA_MIGRATE_CONNECT_PASSWORD (or --connect-password-file)",
                    "--connect-user is given and --connect-url carries credentials too"
                ));
            }
            Some(user) => Some((user.clone(), self.connect_password()?)),
        };
        let ca = match &self.connect_ca_file {
            Some(path) => Some((
                path.as_path(),
                files::read_bounded(path, files::MAX_SMALL_FILE).map_err(|e| {
                    miette!(
                        "cannot read the Kafka Connect CA file {}: {}",
                        e.path.display(),
                        e.reason()
                    )
                })?,
            )),
            None => None,
        };
        ConnectClient::with_access(url, basic, ca.as_ref().map(|(p, pem)| (*p, pem.as_slice())))
            .map_err(|e| miette!("{e}"))
    }

    /// The Connect password: the first line of `--connect-password-file`, else the environment.
    fn connect_password(&self) -> miette::Result<Secret> {
        if let Some(path) = &self.connect_password_file {
            let text = files::read_text(path, files::MAX_SMALL_FILE).map_err(|e| {
                miette!(
                    "cannot read the Kafka Connect password file {}: {}",
                    e.path.display(),
                    e.reason()
                )
            })?;
            return Ok(Secret::new(text.lines().next().unwrap_or_default()));
        }
        std::env::var(CONNECT_PASSWORD_ENV).map(Secret::new).map_err(|_| {
            miette!(
                help = "export KAFKA_MIGRATE_CONNECT_PASSWORD, or pass --connect-password-file FILE",
                "--connect-user is given but no password: {CONNECT_PASSWORD_ENV} is not set"
            )
        })
    }

    /// What to say about how the Connect credentials are given: in the URL (visible in
    /// process lists and manifests), or over plain http (readable on the way).
    pub fn warnings(&self) -> Vec<String> {
        let Some(url) = self.connect_url.as_deref() else {
            return Vec::new();
        };
        let shown = crate::config::shown_url(url);
        let in_url = shown != url;
        let mut warnings = Vec::new();
        if in_url {
            warnings.push(format!(
                "the Kafka Connect credentials are in --connect-url, where process lists and job manifests show them: give them with --connect-user and ${CONNECT_PASSWORD_ENV} (or --connect-password-file)"
            ));
        }
        if (in_url || self.connect_user.is_some())
            && url
                .get(..7)
                .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
        {
            warnings.push(format!(
                "the Kafka Connect credentials go to {shown} over plain http, readable by anyone on the way: use https"
            ));
        }
        warnings
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
