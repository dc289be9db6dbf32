//! The command line: argument parsing (clap), output mode, signals and exit codes. It turns
//! arguments into one call of an operation (`crate::ops`), renders what the operation
//! reports (`crate::render`) and maps it to an exit code; it never talks to a cluster.

mod args;
mod exit;
mod signals;

use std::io::{BufRead, IsTerminal, Write};

use clap::{CommandFactory, Parser};
use miette::{miette, IntoDiagnostic};
use tokio_util::sync::CancellationToken;

use crate::ops;
use crate::render::{self, Paint};

pub use args::{
    Cli, Command, Engine, EngineArgs, ExportTarget, LogFormat, OffsetsCommand, PositionsFormat,
};
pub use exit::ExitStatus;
use signals::OnSignal;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It ran to its end.
    Done(ExitStatus),
    /// A signal ends it now, with this exit code: nothing may wait for work in flight.
    Now(u8),
}

/// The command line, parsed, with logging set up as it asks.
pub fn parse() -> Cli {
    let cli = Cli::parse();
    init_tracing(cli.verbose, cli.log_format);
    cli
}

/// Runs the command of `cli` (inside the one async runtime, which the binary builds).
pub async fn run(cli: Cli) -> Ended {
    let cancel = CancellationToken::new();
    let signals = signals::watch(on_signal(&cli.command), cancel.clone());
    tokio::select! {
        result = command(cli, cancel) => Ended::Done(result.unwrap_or_else(|report| {
            eprintln!("{}", render::stderr_text(&shown(&format!("{report:?}"))));
            ExitStatus::Error
        })),
        code = signals => Ended::Now(code),
    }
}

/// How `command` takes a first Ctrl-C or SIGTERM.
fn on_signal(command: &Command) -> OnSignal {
    match command {
        Command::Apply { .. } => signals::APPLY,
        Command::Status { watch: true, .. } => OnSignal::Drain {
            stopping: None,
            exiting: None,
        },
        _ => OnSignal::Exit,
    }
}

async fn command(cli: Cli, cancel: CancellationToken) -> miette::Result<ExitStatus> {
    let file = MigrationFile {
        path: cli.config.clone(),
        vars: cli.vars.clone(),
        var_files: cli.var_files.clone(),
    };
    match cli.command {
        Command::Completions { shell } => {
            print!("{}", completion_script(shell));
            Ok(ExitStatus::Success)
        }
        Command::Init {
            name,
            source,
            target,
            out,
            force,
            report,
            sample,
            json,
        } => {
            let source = source.side();
            let request = crate::init::Request {
                name: name.unwrap_or_else(|| crate::init::default_name(&source.bootstrap)),
                source,
                target: target.side(),
                out: out.unwrap_or(cli.config),
                force,
            };
            if report {
                if !json {
                    eprintln!(
                        "Reading the source and measuring its throughput for {}…",
                        crate::config::HumanDuration(sample)
                    );
                }
                let report = ops::report::report(&request, sample).await?;
                if json {
                    println!("{}", render::init_report_json(&report));
                } else {
                    print!(
                        "{}",
                        render::stdout_text(&render::init_report_text(
                            &report,
                            Paint::for_stdout()
                        ))
                    );
                }
                return Ok(ExitStatus::Success);
            }
            println!("{}", render::stdout_text(&ops::init(&request).await?));
            Ok(ExitStatus::Success)
        }
        Command::Validate { json } => {
            let migration = match load_migration_offline(&file) {
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
            let migration = load_migration(&file)?;
            let requested = requested(&engine);
            let mut view = render::PlanView { json };
            let planned =
                ops::plan::plan(&migration, &requested, out.as_deref(), &mut view).await?;
            if let Some((url, diffs)) = &planned.connectors {
                print!(
                    "{}",
                    render::stdout_text(&render::connector_diffs(url, diffs, Paint::for_stdout()))
                );
            }
            Ok(if detailed_exitcode && planned.has_changes() {
                ExitStatus::Attention
            } else {
                ExitStatus::Success
            })
        }
        Command::Show { plan: path, json } => {
            let plan = ops::show::show(&path)?;
            if json {
                println!("{}", render::plan_json(&plan));
            } else {
                print!(
                    "{}",
                    render::stdout_text(&render::saved_plan_text(
                        &plan,
                        &path,
                        Paint::for_stdout()
                    ))
                );
            }
            Ok(ExitStatus::Success)
        }
        Command::Apply {
            plan,
            auto_approve,
            until_synced,
            json,
            metrics_addr,
            abandon_cutover,
            engine,
        } => {
            let migration = load_migration(&file)?;
            let options = ops::apply::Options {
                saved: plan.as_deref(),
                auto_approve,
                until_synced,
                abandon_cutover,
                metrics_addr,
                engine: requested(&engine),
            };
            let applied = if json {
                let mut events = render::ApplyEvents::new();
                let applied = ops::apply::apply(&migration, &options, cancel, &mut events).await?;
                events.ended(&applied);
                applied
            } else {
                let mut view = render::ApplyView::new(confirm);
                let applied = ops::apply::apply(&migration, &options, cancel, &mut view).await?;
                if let Some(line) = render::applied_line(&applied) {
                    println!("{}", render::stdout_text(line));
                }
                applied
            };
            Ok(match applied {
                ops::apply::Applied::NotConfirmed | ops::apply::Applied::Interrupted => {
                    ExitStatus::Error
                }
                _ => ExitStatus::Success,
            })
        }
        Command::Cutover {
            json,
            timeout,
            dry_run,
        } => cutover(&file, false, json, timeout, dry_run).await,
        Command::Rollback { json, timeout } => cutover(&file, true, json, timeout, false).await,
        Command::Destroy { auto_approve, json } => {
            let migration = load_migration(&file)?;
            let paint = Paint::for_stdout();
            let destroyed = ops::destroy::destroy(&migration, auto_approve, &mut |plan| {
                print!(
                    "{}",
                    render::stdout_text(&render::destroy_plan_text(plan, paint))
                );
                ask(
                    "destroy",
                    "review what destroy removes and pass --auto-approve",
                )
            })
            .await?;
            if json {
                println!("{}", render::destroy_json(&destroyed));
            } else {
                if auto_approve || destroyed.plan.removed().is_empty() {
                    print!(
                        "{}",
                        render::stdout_text(&render::destroy_plan_text(&destroyed.plan, paint))
                    );
                }
                println!(
                    "{}",
                    render::stdout_text(&render::destroyed_line(&destroyed))
                );
            }
            Ok(if destroyed.plan.refused().is_empty() {
                ExitStatus::Success
            } else {
                ExitStatus::Attention
            })
        }
        Command::Status { json, watch } => {
            let migration = load_migration(&file)?;
            if !watch {
                let status = ops::status::status(&migration).await?;
                show_status(&status, json);
                return Ok(ExitStatus::Success);
            }
            let terminal = std::io::stdout().is_terminal();
            ops::status::watch(&migration, cancel, &mut |status| {
                if terminal && !json {
                    // Clear the screen and draw from the top.
                    print!("\x1b[2J\x1b[H");
                }
                match status {
                    Ok(status) => show_status(&status, json),
                    Err(e) => eprintln!("{}", render::stderr_text(&shown(&format!("{e:?}")))),
                }
                if !terminal {
                    println!();
                }
                let _ = std::io::stdout().flush();
            })
            .await;
            Ok(ExitStatus::Success)
        }
        Command::Verify {
            json,
            watch,
            timeout,
        } => {
            let migration = load_migration(&file)?;
            if !json {
                eprintln!("{}", render::verify_start_line(&migration));
            }
            let report = ops::verify::verify(&migration, watch.then_some(timeout), &mut |report| {
                if !json {
                    eprintln!(
                        "{}; checking again in {}s…",
                        render::stderr_text(&render::not_ready_line(report)),
                        ops::verify::WATCH_INTERVAL.as_secs()
                    );
                }
            })
            .await;
            if json {
                println!("{}", render::verify_json(&report));
            } else {
                print!(
                    "{}",
                    render::stdout_text(&render::verify_text(&report, Paint::for_stdout()))
                );
            }
            Ok(if report.ready {
                ExitStatus::Success
            } else if report.complete() {
                ExitStatus::Attention
            } else {
                ExitStatus::Error
            })
        }
        Command::Export {
            target: ExportTarget::Connect { dir },
        } => {
            let migration = load_migration_offline(&file)?;
            for path in ops::export::connect(&migration, &dir)? {
                println!("Wrote {}", path.display());
            }
            println!(
                "Start Kafka Connect workers with connect-distributed.properties, then: kafka-migrate apply --engine connect --connect-url URL"
            );
            Ok(ExitStatus::Success)
        }
        Command::Export {
            target: ExportTarget::IamPolicy { format: _ },
        } => {
            let migration = load_migration(&file)?;
            println!("{}", ops::export::iam_policy(&migration).await?);
            Ok(ExitStatus::Success)
        }
        Command::Export {
            target: ExportTarget::ScramSecrets,
        } => {
            let migration = load_migration(&file)?;
            let secrets = ops::export::scram_secrets(&migration).await?;
            for note in &secrets.notes {
                eprintln!("warning: {}", render::stderr_text(note));
            }
            print!("{}", render::stdout_text(&secrets.terraform));
            Ok(ExitStatus::Success)
        }
        Command::Export {
            target: ExportTarget::OffsetMap { output },
        } => {
            let migration = load_migration(&file)?;
            let exported = ops::export::offset_map(&migration).await?;
            let json = render::offset_map_json(&exported.file);
            match output {
                Some(path) => {
                    std::fs::write(&path, format!("{json}\n"))
                        .map_err(|e| miette!("writing {}: {e}", path.display()))?;
                    eprintln!("Wrote {}", path.display());
                }
                None => println!("{json}"),
            }
            if exported.taken_now {
                eprintln!("Took the offset map now and recorded it on the target.");
            }
            Ok(ExitStatus::Success)
        }
        Command::Offsets {
            command:
                OffsetsCommand::Translate {
                    positions,
                    file: positions_file,
                    map,
                    from_map,
                    json,
                    format,
                },
        } => {
            // With an exported map no cluster is contacted: the source's secrets may be gone.
            let migration = if map.is_some() {
                load_migration_offline(&file)?
            } else {
                load_migration(&file)?
            };
            let options = ops::offsets::Options {
                positions,
                file: positions_file,
                map_file: map,
                from_map,
            };
            let report = ops::offsets::translate(&migration, &options).await?;
            match format {
                _ if json => println!("{}", render::offsets_json(&report)),
                None => print!(
                    "{}",
                    render::stdout_text(&render::offsets_text(&report, Paint::for_stdout()))
                ),
                Some(form) => {
                    let form = match form {
                        PositionsFormat::Spark => crate::config::positions::Form::Spark,
                        PositionsFormat::Csv => crate::config::positions::Form::Csv,
                    };
                    print!(
                        "{}",
                        render::stdout_text(&render::offsets_in_form(&report, form))
                    );
                    for line in render::offsets_not_translated(&report) {
                        eprintln!("not translated: {}", render::stderr_text(&line));
                    }
                }
            }
            Ok(if report.complete() {
                ExitStatus::Success
            } else {
                ExitStatus::Attention
            })
        }
    }
}

/// The completion script for `shell`. clap_complete's bash script names the command's
/// completion arms after the binary with its dash turned into `__subcmd__`, while its loop
/// over the words names them with the dash turned into `__`: no arm matched, and nothing was
/// completed past the subcommand. The arms get the loop's names.
fn completion_script(shell: clap_complete::Shell) -> String {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    match shell {
        clap_complete::Shell::Bash => script.replace(
            &format!("{}__subcmd__", BIN.replace('-', "__subcmd__")),
            &format!("{}__subcmd__", BIN.replace('-', "__")),
        ),
        _ => script,
    }
}

/// The binary's name, as completion scripts call it.
const BIN: &str = "kafka-migrate";

/// `cutover` (or `rollback` when `back`): the gates drawn as they end, then the outcome.
async fn cutover(
    file: &MigrationFile,
    back: bool,
    json: bool,
    timeout: std::time::Duration,
    dry_run: bool,
) -> miette::Result<ExitStatus> {
    let migration = load_migration(file)?;
    let paint = if json {
        Paint::plain()
    } else {
        Paint::for_stdout()
    };
    let mut display = render::CutoverDisplay::new(paint, json);
    let outcome = if back {
        ops::cutover::rollback(&migration, timeout, &mut display).await?
    } else {
        ops::cutover::cutover(&migration, timeout, dry_run, &mut display).await?
    };
    if json {
        println!("{}", render::cutover_json(&outcome));
    } else {
        print!(
            "{}",
            render::stdout_text(&render::cutover_text(&outcome, paint))
        );
    }
    Ok(
        if outcome.complete || (outcome.dry_run && outcome.passed()) {
            ExitStatus::Success
        } else {
            ExitStatus::Attention
        },
    )
}

fn show_status(status: &crate::apply::MigrationStatus, json: bool) {
    if json {
        println!("{}", render::status_json(status));
    } else {
        print!("{}", render::stdout_text(&render::status_text(status)));
    }
}

/// The engine asked for, with a warning for each way its Connect credentials are exposed.
fn requested(engine: &EngineArgs) -> ops::Requested {
    let requested = engine.requested();
    for warning in requested.warnings() {
        eprintln!("Warning: {}", render::stderr_text(&warning));
    }
    requested
}

/// Asks on the terminal whether to apply the plan shown.
fn confirm() -> miette::Result<bool> {
    ask(
        "apply",
        "review the plan and pass --auto-approve, or apply a saved plan file",
    )
}

/// Asks on the terminal whether `command` may carry out what it showed; `help` says what to
/// do where there is no terminal to ask on.
fn ask(command: &str, help: &str) -> miette::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(miette!(
            help = help.to_string(),
            "{command} needs confirmation, but standard input is not a terminal"
        ));
    }
    print!("\nDo you want to perform these actions? Only 'yes' is accepted: ");
    std::io::stdout().flush().into_diagnostic()?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .into_diagnostic()?;
    Ok(answer.trim() == "yes")
}

/// Reads the migration file with `--var-file` and `--var` values (a `--var` wins over a
/// file, a later file over an earlier one); warns about settings that weaken its security;
/// remembers its secret values so that no error output shows them.
fn load_migration(file: &MigrationFile) -> miette::Result<crate::config::Migration> {
    loaded(crate::config::load(&file.path, &variables(file)?)?)
}

/// The migration file and the variables given for it on the command line.
struct MigrationFile {
    path: std::path::PathBuf,
    vars: Vec<String>,
    var_files: Vec<std::path::PathBuf>,
}

/// [`load_migration`] for commands that do not connect: an unset `env()` variable is a
/// warning, not an error.
fn load_migration_offline(file: &MigrationFile) -> miette::Result<crate::config::Migration> {
    loaded(crate::config::load_offline(&file.path, &variables(file)?)?)
}

/// The variables given: every `--var-file`'s, then the `--var`s.
fn variables(file: &MigrationFile) -> miette::Result<Vec<(String, String)>> {
    let mut vars = Vec::new();
    for path in &file.var_files {
        vars.extend(crate::config::read_var_file(path)?);
    }
    vars.extend(crate::config::parse_vars(&file.vars)?);
    Ok(vars)
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
    let filter = tracing_subscriber::EnvFilter::try_from_env("KAFKA_MIGRATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(log_filter(verbose)));
    if verbose >= 3 {
        crate::cluster::factory::debug_clients(CLIENT_DEBUG);
    }
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(format == LogFormat::Text && Paint::for_stderr().enabled())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => logs.json().flatten_event(true).try_init(),
    };
}

/// librdkafka's debug contexts at `-vvv`: connections, metadata, security, transactions,
/// admin requests and groups — not the per-message and per-fetch ones, which drown them.
const CLIENT_DEBUG: &str = "broker,topic,metadata,security,eos,admin,cgrp";

/// What each `-v` shows: none, the tool's warnings; `-v`, its phases and decisions (and
/// librdkafka's warnings, folded into the tool's errors otherwise); `-vv`, each task and
/// request; `-vvv`, librdkafka's debug log. Never the Kafka client crate's own trace lines
/// (one per message destroyed: tens of thousands in a run).
fn log_filter(verbose: u8) -> &'static str {
    match verbose {
        0 => "warn,librdkafka=off",
        1 => "warn,kafka_migrate=info,librdkafka=warn",
        2 => "info,kafka_migrate=debug,librdkafka=info,rdkafka=info",
        _ => "info,kafka_migrate=trace,librdkafka=debug,rdkafka=info",
    }
}
