//! The `kafka-migrate` binary: parses the command line, builds the one async runtime and runs
//! the command on it. A command that a signal ends at once exits here, without waiting for
//! work in flight.

use std::process::ExitCode;

use kafka_migrate::cli::{self, Ended, ExitStatus};

fn main() -> ExitCode {
    let command = cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitStatus::Error.into();
        }
    };
    match runtime.block_on(cli::run(command)) {
        Ended::Done(status) => {
            // The command is over: work it left behind (a task blocked on a cluster that can
            // no longer answer it) is not waited for.
            runtime.shutdown_background();
            status.into()
        }
        Ended::Now(code) => {
            runtime.shutdown_background();
            std::process::exit(i32::from(code))
        }
    }
}
