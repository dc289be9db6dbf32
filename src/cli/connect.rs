//! The Connect engine's commands: `export connect`, and the parts of `plan` and `apply` that
//! differ with `--engine connect` (connector config diffs; deploying and waiting for the
//! connectors instead of replicating in this process).

use std::path::Path;

use miette::{miette, IntoDiagnostic};

use crate::config::Migration;
use crate::connect::{self, ConnectClient, Connector};
use crate::render::{self, Paint};
use crate::survey::Survey;

use super::{EngineArgs, ExitStatus};

/// `export connect`: writes the worker file and the connector configs into `dir`.
pub fn export(migration: &Migration, dir: &Path) -> miette::Result<ExitStatus> {
    let written = connect::write_files(migration, dir).map_err(|e| miette!("{e}"))?;
    for path in &written {
        println!("Wrote {}", path.display());
    }
    println!(
        "Start Kafka Connect workers with connect-distributed.properties, then: kafka-migrate apply --engine connect --connect-url URL"
    );
    Ok(ExitStatus::Success)
}

/// With `--engine connect`: the connectors the migration wants; `None` with the native engine.
pub fn for_engine(
    migration: &Migration,
    engine: &EngineArgs,
    survey: &Survey,
) -> miette::Result<Option<Vec<Connector>>> {
    connect::for_engine(migration, engine.plan_engine(), &survey.snapshot)
        .map_err(|e| miette!(help = e.help(), "{e}"))
}

fn client(engine: &EngineArgs) -> miette::Result<ConnectClient> {
    let url = engine
        .connect_url
        .as_deref()
        .ok_or_else(|| miette!("--engine connect needs --connect-url URL"))?;
    Ok(ConnectClient::new(url))
}

/// Shows how the deployed connector configs differ from the wanted ones; whether any does.
pub fn show_diffs(
    rt: &tokio::runtime::Runtime,
    engine: &EngineArgs,
    wanted: &[Connector],
) -> miette::Result<bool> {
    let client = client(engine)?;
    let diffs = rt
        .block_on(connect::deployed_diffs(&client, wanted))
        .map_err(|e| miette!("{e}"))?;
    print!(
        "{}",
        render::connector_diffs(client.url(), &diffs, Paint::for_stdout())
    );
    Ok(diffs.iter().any(|d| d.has_changes()))
}

/// After the metadata: put the connector configs, wait for every task to run, and with
/// `until_synced` wait for MirrorMaker 2 to catch up and sync the groups' offsets exactly.
pub fn run(
    rt: &tokio::runtime::Runtime,
    migration: &Migration,
    engine: &EngineArgs,
    connectors: &[Connector],
    has_topics: bool,
    until_synced: bool,
) -> miette::Result<ExitStatus> {
    let client = client(engine)?;
    let paint = Paint::for_stdout();
    rt.block_on(connect::run(
        &client,
        migration,
        connectors,
        has_topics,
        until_synced,
        |step| println!("{}", render::connect_step(&step, client.url(), paint)),
    ))
    .map_err(|e| miette!("{e}"))?;
    if !until_synced {
        println!("MirrorMaker 2 replicates on the Connect cluster; follow it with `kafka-migrate verify`.");
        return Ok(ExitStatus::Success);
    }
    if migration.consumer_groups.sync {
        super::commands::sync_groups(rt, migration, &Default::default())?;
    }
    std::io::Write::flush(&mut std::io::stdout()).into_diagnostic()?;
    Ok(ExitStatus::Success)
}
