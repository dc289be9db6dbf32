//! The Connect engine's commands: `export connect`, and the parts of `plan` and `apply` that
//! differ with `--engine connect` (connector config diffs; deploying and waiting for the
//! connectors instead of replicating in this process).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use miette::{miette, IntoDiagnostic};
use similar::ChangeTag;

use crate::config::Migration;
use crate::connect::{self, ConnectClient, Connector};
use crate::plan::Survey;
use crate::render::Paint;
use crate::state::ReplicatedBy;

use super::{Engine, EngineArgs, ExitStatus};

/// How long `apply --engine connect` waits for every connector and task to run.
const RUNNING_TIMEOUT: Duration = Duration::from_secs(300);
/// How long `apply --engine connect --until-synced` waits for MirrorMaker 2 to catch up.
const SYNC_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

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

/// With `--engine connect`: the connectors the migration wants, and the plan without the
/// engine's own progress topic (MirrorMaker 2 keeps its state in Connect's topics). `None`
/// with the native engine.
///
/// Each engine keeps its own record of what it replicated: switching engines mid-migration
/// would copy everything again, so it is refused.
pub fn for_engine(
    migration: &Migration,
    engine: &EngineArgs,
    survey: &Survey,
) -> miette::Result<Option<Vec<Connector>>> {
    let progress = crate::config::names::progress_topic(&migration.name);
    let snapshot = &survey.snapshot;
    match (engine.engine, snapshot.replicated_by) {
        (Engine::Native, ReplicatedBy::MirrorMaker2) => {
            return Err(miette!(
                help = "go on with --engine connect --connect-url URL",
                "MirrorMaker 2 has replicated migration \"{}\" to the target (its topic {} is there): the built-in engine would copy every record again",
                migration.name,
                connect::offset_syncs_topic(&migration.name)
            ))
        }
        (Engine::Connect, ReplicatedBy::Engine) => {
            return Err(miette!(
                help = "go on without --engine connect",
                "kafka-migrate's engine has replicated migration \"{}\" to the target (its progress topic {progress} is there): MirrorMaker 2 would copy every record again",
                migration.name
            ))
        }
        (Engine::Native, _) => return Ok(None),
        (Engine::Connect, _) => {}
    }
    let mut connectors = connect::connectors(migration).map_err(|e| {
        miette!(
            help = "write the pattern without a comma (for example `{{2}}` instead of `{{1,2}}`)",
            "{e}"
        )
    })?;
    let limits = crate::plan::record_limits(
        migration,
        &snapshot.source_inventory,
        &snapshot.target_inventory,
    );
    // Sized for the topics' record size limits, which only the clusters tell: these settings
    // are not in what `export connect` writes.
    connect::with_record_limits(&mut connectors, &limits);
    Ok(Some(connectors))
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
    let paint = Paint::for_stdout();
    println!("\nMirrorMaker 2 connectors on {}:", client.url());
    for d in &diffs {
        match &d.deployed {
            None => println!(
                "  {} connector \"{}\" will be created ({} settings)",
                paint.create("+"),
                d.name,
                d.wanted.len()
            ),
            Some(deployed) if deployed == &d.wanted => {
                println!("    connector \"{}\": no changes", d.name)
            }
            Some(deployed) => {
                println!(
                    "  {} connector \"{}\" will be updated",
                    paint.update("~"),
                    d.name
                );
                for (tag, line) in connect::config_diff(deployed, &d.wanted) {
                    match tag {
                        ChangeTag::Delete => {
                            println!("        {}", paint.remove(&format!("- {line}")))
                        }
                        _ => println!("        {}", paint.create(&format!("+ {line}"))),
                    }
                }
            }
        }
    }
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
    let fail = |e: connect::DeployError| miette!("{e}");
    rt.block_on(connect::deploy(&client, connectors, |c| {
        println!(
            "{} connector \"{}\" configured on {}",
            paint.create("✓"),
            c.name,
            client.url()
        )
    }))
    .map_err(fail)?;
    let mut min_tasks = BTreeMap::new();
    if has_topics {
        if let Some(source) = connectors.first() {
            min_tasks.insert(source.name.clone(), 1);
        }
    }
    let states = rt
        .block_on(connect::wait_running(
            &client,
            connectors,
            &min_tasks,
            RUNNING_TIMEOUT,
        ))
        .map_err(fail)?;
    for s in &states {
        println!(
            "{} connector \"{}\" RUNNING with {} task(s)",
            paint.create("✓"),
            s.name,
            s.tasks.len()
        );
    }
    if !until_synced {
        println!("MirrorMaker 2 replicates on the Connect cluster; follow it with `kafka-migrate verify`.");
        return Ok(ExitStatus::Success);
    }
    let status = rt
        .block_on(connect::wait_synced(migration, SYNC_TIMEOUT))
        .map_err(fail)?;
    println!(
        "{} MirrorMaker 2 caught up: {} partition(s), lag 0.",
        paint.create("✓"),
        status.partitions.len()
    );
    if migration.consumer_groups.sync {
        super::commands::sync_groups(rt, migration, &Default::default())?;
    }
    std::io::Write::flush(&mut std::io::stdout()).into_diagnostic()?;
    Ok(ExitStatus::Success)
}
