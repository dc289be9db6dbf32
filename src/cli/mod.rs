//! The command line: argument parsing (clap), output mode, exit codes. It turns arguments into
//! calls on the library and outcomes into exit codes; it never diffs, plans or talks to Kafka
//! itself.

mod args;
mod commands;
mod connect;
mod cutover;
mod exit;
mod export;
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
            eprintln!("{}", shown(&format!("{report:?}")));
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
        Command::Init {
            name,
            source,
            target,
            out,
            force,
        } => {
            let request = crate::init::Request {
                name,
                source: source.side(),
                target: target.side(),
                out: out.unwrap_or(cli.config),
                force,
            };
            println!("{}", crate::init::init(&request)?);
            Ok(ExitStatus::Success)
        }
        Command::Validate { json } => {
            let migration = match load_migration_offline(&cli.config, &cli.vars) {
                Ok(migration) => migration,
                // A program reading --json gets the error as JSON too.
                Err(e) if json => {
                    let error = e.downcast_ref::<crate::config::ConfigError>().map_or_else(
                        || serde_json::json!({"error": {"message": shown(&e.to_string())}}),
                        crate::config::ConfigError::to_json,
                    );
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&error).into_diagnostic()?
                    );
                    return Ok(ExitStatus::Error);
                }
                Err(e) => return Err(e),
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&migration.to_json()).into_diagnostic()?
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
            abandon_cutover,
            engine,
        } => {
            let migration = load_migration(&cli.config, &cli.vars)?;
            commands::apply(
                &migration,
                plan.as_deref(),
                commands::ApplyFlags {
                    auto_approve,
                    until_synced,
                    abandon_cutover,
                },
                metrics_addr,
                &engine,
            )
        }
        Command::Cutover { json, timeout } => {
            let migration = load_migration(&cli.config, &cli.vars)?;
            cutover::cutover(&migration, json, timeout, false)
        }
        Command::Rollback { json, timeout } => {
            let migration = load_migration(&cli.config, &cli.vars)?;
            cutover::cutover(&migration, json, timeout, true)
        }
        Command::Status { json, watch } => {
            let migration = load_migration(&cli.config, &cli.vars)?;
            commands::status(&migration, json, watch)
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
            let migration = load_migration_offline(&cli.config, &cli.vars)?;
            connect::export(&migration, &dir)
        }
        Command::Export {
            target: ExportTarget::IamPolicy { format: _ },
        } => {
            let migration = load_migration(&cli.config, &cli.vars)?;
            export::iam_policy(&migration)
        }
        Command::Export {
            target: ExportTarget::ScramSecrets,
        } => {
            let migration = load_migration(&cli.config, &cli.vars)?;
            export::scram_secrets(&migration)
        }
    }
}

/// Reads the migration file with `--var` values; warns about settings that weaken its
/// security; remembers its secret values so that no error output shows them.
fn load_migration(
    path: &std::path::Path,
    vars: &[String],
) -> miette::Result<crate::config::Migration> {
    loaded(crate::config::load(
        path,
        &crate::config::parse_vars(vars)?,
    )?)
}

/// [`load_migration`] for commands that do not connect: an unset `env()` variable is a
/// warning, not an error.
fn load_migration_offline(
    path: &std::path::Path,
    vars: &[String],
) -> miette::Result<crate::config::Migration> {
    loaded(crate::config::load_offline(
        path,
        &crate::config::parse_vars(vars)?,
    )?)
}

fn loaded(migration: crate::config::Migration) -> miette::Result<crate::config::Migration> {
    let _ = SECRETS.set(migration.secrets.clone());
    for warning in migration.warnings() {
        eprintln!("Warning: {warning}");
    }
    Ok(migration)
}

/// The secret values of the migration file read by this run.
static SECRETS: std::sync::OnceLock<crate::config::SecretValues> = std::sync::OnceLock::new();

/// Text for the terminal with every secret value of the migration file taken out: the last
/// guard of error output, whatever produced the error.
fn shown(text: &str) -> String {
    SECRETS
        .get()
        .map_or_else(|| text.to_string(), |secrets| secrets.scrub(text))
}

fn init_tracing(verbose: u8, format: LogFormat) {
    let default = match verbose {
        // librdkafka's own lines (connection failures at every retry) are folded into the
        // tool's errors; -v shows them.
        0 => "warn,librdkafka=off",
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
