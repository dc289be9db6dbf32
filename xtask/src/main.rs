//! Developer tasks for kafka-migrate.
//!
//! ```text
//! cargo run -p xtask -- demo [--keep]                       # the quick-start demo
//! cargo run --release -p xtask -- bench replicate [--mib N]  # pipe limit, engine, MirrorMaker 2
//! cargo run --release -p xtask -- bench scale [--partitions 1000,5000,10000] [--tasks N] [--hold] # apply on many partitions
//! cargo run --release -p xtask -- bench config [--topics N]  # parse + validate a large file
//! cargo run --release -p xtask -- bench plan [--topics N]    # survey + plan 2,000 topics
//! cargo run --release -p xtask -- bench verify [--mib N]     # data_check = "full" vs a plain read
//! cargo run --release -p xtask -- bench connect [--mib N]    # the Connect engine (MirrorMaker 2)
//! cargo run --release -p xtask -- bench translate [--groups N] # group offsets: 1,000 × 60
//! cargo run --release -p xtask -- bench takeover [--runs 20] # a later apply stops an earlier one
//! cargo run -p xtask -- modules                             # module dependency table, checked
//! ```

mod bench_config;
mod bench_connect;
mod bench_pipe;
mod bench_plan;
mod bench_replicate;
mod bench_scale;
mod bench_takeover;
mod bench_translate;
mod bench_verify;
mod demo;
mod modules;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::run(&args[1..]),
        Some("bench") if args.get(1).map(String::as_str) == Some("replicate") => {
            bench_replicate::run(&args[2..])
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("scale") => {
            bench_scale::run(&args[2..])
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("config") => {
            bench_config::run(&args[2..])
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("plan") => {
            bench_plan::run(&args[2..])
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("verify") => {
            bench_verify::run(&args[2..])
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("connect") => {
            bench_connect::run(&args[2..])
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("takeover") => {
            bench_takeover::run(&args[2..])
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("translate") => {
            bench_translate::run(&args[2..])
        }
        Some("modules") => modules::run(&args[1..]),
        Some("engine") => bench_replicate::engine_child(&args[1..]),
        _ => {
            eprintln!("usage: cargo run -p xtask -- demo [--keep] | modules | bench replicate [--mib N] [--tasks N] [--heaps 2048,1024,512,256] | bench scale [--partitions 1000,5000,10000] [--tasks N] [--hold] | bench config [--topics N] | bench plan [--topics N] [--partitions N] | bench verify [--mib N] | bench connect [--mib N] [--tasks N] [--delivery exactly-once|at-least-once] | bench translate [--groups N] [--records N] | bench takeover [--runs N]");
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
