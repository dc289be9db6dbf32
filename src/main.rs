use std::process::ExitCode;

fn main() -> ExitCode {
    kafka_migrate::cli::main()
}
