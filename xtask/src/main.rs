//! Developer tasks for kafka-migrate.
//!
//! ```text
//! cargo run -p xtask -- demo [--keep]   # local source + target, sample data, the whole migration
//! ```

mod demo;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::run(&args[1..]),
        _ => {
            eprintln!("usage: cargo run -p xtask -- demo [--keep]");
            std::process::exit(2);
        }
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("xtask: {e:#}");
            std::process::exit(1);
        }
    }
}
