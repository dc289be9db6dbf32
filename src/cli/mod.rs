//! The command line: argument parsing (clap), output mode, exit codes. It turns arguments into
//! calls on the library and outcomes into exit codes; it never diffs, plans or talks to Kafka
//! itself.

mod args;
mod commands;
mod connect;
mod exit;
mod export;
mod live;
mod metrics;
mod replicating;
mod verify;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use miette::IntoDiagnostic;

pub use args::{Cli, Command, Engine, EngineArgs, ExportTarget, LogFormat};
pub use exit::ExitStatus;

/// Entry point of the `kafka-migrate` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose, cli.log_format);
    let status = match run(cli) {
        Ok(status) => status,
        Err(report) => {
            eprintln!("{report:?}");
            ExitStatus::Error
        }
    };
    status.into()
}

fn run(cli: Cli) -> miette::Result<ExitStatus> {
    match cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "kafka-migrate",
                &mut std::io::stdout(),
            );
            Ok(ExitStatus::Success)
        }
        Command::Validate { json } => {
            let migration = load_migration(&cli.config, &cli.vars)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&migration).into_diagnostic()?
                );
            } else {
                println!("{} is valid: {}", cli.config.display(), migration.summary());
            }
            Ok(ExitStatus::Success)
        }
        Command::Plan {
            out,
            json,
            detailed_exitcode,
            engine,
        } => {
            let migration = load_migration(&cli.config, &cli.vars)?;
            commands::plan(&migration, out.as_deref(), json, detailed_exitcode, &engine)
        }
        Command::Apply {
            plan,
            auto_approve,
            until_synced,
            metrics_addr,
            engine,
        } => {
            let migration = load_migration(&cli.config, &cli.vars)?;
            commands::apply(
                &migration,
                plan.as_deref(),
                auto_approve,
                until_synced,
                metrics_addr,
                &engine,
            )
        }
        Command::Status { json } => {
            let migration = load_migration(&cli.config, &cli.vars)?;
            commands::status(&migration, json)
        }
        Command::Verify {
            json,
            watch,
            timeout,
        } => {
            let migration = load_migration(&cli.config, &cli.vars)?;
            verify::verify(&migration, json, watch.then_some(timeout))
        }
        Command::Export {
            target: ExportTarget::Connect { dir },
        } => {
            let migration = load_migration(&cli.config, &cli.vars)?;
            connect::export(&migration, &dir)
        }
        Command::Export {
            target: ExportTarget::IamPolicy { format: _ },
        } => {
            let migration = load_migration(&cli.config, &cli.vars)?;
            export::iam_policy(&migration)
        }
    }
}

/// Reads the migration file with `--var` values.
fn load_migration(
    path: &std::path::Path,
    vars: &[String],
) -> miette::Result<crate::config::Migration> {
    let vars = crate::config::parse_vars(vars)?;
    Ok(crate::config::load(path, &vars)?)
}

fn init_tracing(verbose: u8, format: LogFormat) {
    let default = match verbose {
        0 => "warn,librdkafka=error",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KAFKA_MIGRATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => logs.json().flatten_event(true).try_init(),
    };
}
