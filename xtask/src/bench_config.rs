//! `bench config`: time to parse and validate a migration file with 5,000 topic entries.
//!
//! ```text
//! cargo run --release -p xtask -- bench config [--topics 5000]
//! ```

use std::fmt::Write as _;
use std::time::Instant;

use anyhow::Result;

pub fn run(args: &[String]) -> Result<i32> {
    let topics: usize = args
        .iter()
        .position(|a| a == "--topics")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let header = "name = \"bench\"\ncluster \"source\" { bootstrap_servers = [\"a:9092\"] }\ncluster \"target\" { bootstrap_servers = [\"b:9092\"] }\ntopics {\n";
    let mut names = format!("{header}  names = [\n");
    for i in 0..topics {
        let _ = writeln!(names, "    \"orders.region-{i}.events\",");
    }
    names.push_str("  ]\n}\n");
    let mut patterns = format!("{header}  include = [\n");
    for i in 0..topics {
        let _ = writeln!(patterns, "    \"^payments\\\\.{i}\\\\..*\",");
    }
    patterns.push_str("  ]\n}\n");
    for (what, text) in [("topic names", &names), ("include patterns", &patterns)] {
        let runs = 10;
        let start = Instant::now();
        for _ in 0..runs {
            kafka_migrate::config::parse("bench.hcl", text, std::path::Path::new("."), &[])?;
        }
        let per_run = start.elapsed() / runs;
        println!(
            "parse + validate, {topics} {what} ({} KiB): {:.1} ms per run (mean of {runs})",
            text.len() / 1024,
            per_run.as_secs_f64() * 1000.0
        );
    }
    Ok(0)
}
