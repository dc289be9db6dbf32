//! `kafka-up`: start a local Kafka cluster and keep it running until standard input closes.
//!
//! ```text
//! kafka-up [--secure] [--nodes N] [--port PORT] [--name NAME] [--panic-when-ready]
//! ```
//! Prints one line `ready bootstrap=HOST:PORT,… pids=PID,… dir=PATH` once every broker answers.
//! The cluster's JVMs die with this process, however it ends; `--panic-when-ready` makes it
//! panic after that line once a line arrives on standard input (used to test exactly that).

use std::io::Read;

use kafka_harness::{Cluster, ClusterSpec, Flavour};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut spec = ClusterSpec::new("kafka-up", Flavour::Plain);
    let mut panic_when_ready = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--secure" => spec.flavour = Flavour::Secure,
            "--nodes" => spec.nodes = parse(args.next(), "--nodes"),
            "--port" => spec.base_port = Some(parse(args.next(), "--port")),
            "--name" => spec.name = args.next().unwrap_or_else(|| usage("--name needs a value")),
            "--panic-when-ready" => panic_when_ready = true,
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let cluster = match Cluster::start(spec) {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("kafka-up: {e}");
            std::process::exit(1);
        }
    };
    let pids: Vec<String> = cluster.pids().iter().map(u32::to_string).collect();
    println!(
        "ready bootstrap={} pids={} dir={}",
        cluster.bootstrap(),
        pids.join(","),
        cluster.dir().display()
    );
    if panic_when_ready {
        // Panic once told (a line on standard input), so that whoever started it can first
        // see the cluster running.
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        panic!("kafka-up: panicking on request with the cluster running");
    }
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}

fn parse<T: std::str::FromStr>(value: Option<String>, flag: &str) -> T {
    value
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| usage(&format!("{flag} needs a number")))
}

fn usage(problem: &str) -> ! {
    eprintln!("kafka-up: {problem}\nusage: kafka-up [--secure] [--nodes N] [--port PORT] [--name NAME] [--panic-when-ready]");
    std::process::exit(2)
}
