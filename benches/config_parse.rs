//! Time to parse and validate a migration file with 5,000 topic entries (goal: well under a
//! second), as explicit names and as include patterns, and to select topics with the result.
//! Prints figures; asserts nothing about time.
//!
//! ```text
//! cargo bench --bench config_parse
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

const TOPICS: usize = 5_000;
const RUNS: u32 = 10;

/// A complete migration file whose `topics` block lists `TOPICS` entries in `attribute`.
fn migration_file(attribute: &str, entry: impl Fn(usize) -> String) -> String {
    let mut text = String::from(concat!(
        "name = \"bench\"\n",
        "cluster \"source\" {\n",
        "  bootstrap_servers = [\"kafka-1:9093\", \"kafka-2:9093\", \"kafka-3:9093\"]\n",
        "  security {\n",
        "    protocol = \"SASL_SSL\"\n",
        "    sasl {\n",
        "      mechanism = \"SCRAM-SHA-512\"\n",
        "      username  = \"migrator\"\n",
        "      password  = \"not-a-real-password\"\n",
        "    }\n",
        "  }\n",
        "}\n",
        "cluster \"target\" {\n",
        "  bootstrap_servers = [\"b-1.example.kafka.us-east-1.amazonaws.com:9098\"]\n",
        "  security {\n",
        "    protocol = \"SASL_SSL\"\n",
        "    aws_iam { region = \"us-east-1\" }\n",
        "  }\n",
        "}\n",
        "replication {\n  tasks = 8\n  max_bytes_per_second = \"100MiB\"\n}\n",
        "topics {\n",
        "  exclude = [\"^__.*\"]\n",
    ));
    let _ = writeln!(text, "  {attribute} = [");
    for i in 0..TOPICS {
        let _ = writeln!(text, "    \"{}\",", entry(i));
    }
    text.push_str("  ]\n}\n");
    text
}

fn parse(text: &str) -> kafka_migrate::config::Migration {
    kafka_migrate::config::parse_with_env("bench.hcl", text, Path::new("."), &[], &|_| None)
        .expect("the benchmark file is valid")
}

/// Mean and fastest of `RUNS` runs of `f`.
fn time(mut f: impl FnMut()) -> (Duration, Duration) {
    f(); // warm up
    let mut fastest = Duration::MAX;
    let start = Instant::now();
    for _ in 0..RUNS {
        let run = Instant::now();
        f();
        fastest = fastest.min(run.elapsed());
    }
    (start.elapsed() / RUNS, fastest)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn main() {
    println!(
        "config_parse: parse + validate a migration file with {TOPICS} topic entries ({RUNS} runs)"
    );
    let names = migration_file("names", |i| format!("orders.region-{i}.events"));
    let patterns = migration_file("include", |i| format!("^payments\\\\.{i}\\\\..*"));
    for (what, text) in [("topic names", &names), ("include patterns", &patterns)] {
        let (mean, fastest) = time(|| {
            std::hint::black_box(parse(text));
        });
        println!(
            "  {TOPICS} {what:<16} ({:>4} KiB): {:>7.2} ms mean, {:>7.2} ms fastest",
            text.len() / 1024,
            ms(mean),
            ms(fastest)
        );
    }

    // What the rest of the tool does with the result: decide, topic by topic, what migrates.
    let topics: Vec<String> = (0..TOPICS)
        .map(|i| format!("payments.{i}.events"))
        .collect();
    for (what, text) in [("topic names", &names), ("include patterns", &patterns)] {
        let migration = parse(text);
        let (mean, fastest) = time(|| {
            let selected = topics
                .iter()
                .filter(|t| migration.topics.selects(t))
                .count();
            std::hint::black_box(selected);
        });
        println!(
            "  select {TOPICS} topics against {TOPICS} {what:<16}: {:>7.2} ms mean, {:>7.2} ms fastest",
            ms(mean),
            ms(fastest)
        );
    }
}
