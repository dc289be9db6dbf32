//! Malformed input never panics: truncated files, binary garbage, mutated bytes, deep nesting
//! and huge values are refused (or accepted) with a diagnostic that renders. Property tests use
//! a fixed seed, so every run checks the same cases.

use miette::GraphicalReportHandler;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use super::*;

/// A file that uses every feature: variables, functions, templates, each block, non-ASCII.
fn rich_file() -> String {
    format!(
        "{}{}",
        "# Migration « commandes » → MSK\nvariable \"region\" { default = \"eu-west-1\" }\nvariable \"tasks\" { default = 4 }\n",
        with(concat!(
            "topics {\n  include = [\"^orders\\\\..*\", \"^paiements-é\"]\n  exclude = [\"^__.*\"]\n",
            "  names = [\"legacy\"]\n  replication_factor = 3\n",
            "  config {\n    exclude = [\"retention.bytes\"]\n    override = { \"min.insync.replicas\" = 2 }\n  }\n}\n",
            "acls {\n  sync = true\n  principal_map = { \"User:a\" = \"User:b\" }\n}\n",
            "consumer_groups {\n  include = [\".*\"]\n  exclude = [\"^connect-.*\"]\n  sync_interval = \"5s\"\n}\n",
            "replication {\n  tasks = var.tasks\n  delivery = \"at-least-once\"\n  max_bytes_per_second = \"50MiB\"\n",
            "  linger = \"10ms\"\n  compression = \"zstd\"\n}\n",
            "cutover {\n  quiet_period = \"${var.tasks}s\"\n  data_check = \"full\"\n  max_lag = 10\n}\n",
        ))
    )
}

/// Parses `text`; an error must carry a position inside the text and render without panic.
fn check(text: &str) {
    if let Err(err) = parse_text(text) {
        let lines = text.split('\n').count();
        assert!(
            err.line >= 1 && err.line <= lines,
            "line {} of {lines}",
            err.line
        );
        let mut rendered = String::new();
        GraphicalReportHandler::new()
            .render_report(&mut rendered, &err)
            .expect("the diagnostic renders");
        assert!(rendered.contains("m.hcl"), "{rendered}");
    }
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(20_251_124),
        failure_persistence: None,
        ..Config::default()
    }
}

#[test]
fn the_rich_file_is_valid() {
    let m = parse_text(&rich_file()).unwrap();
    assert_eq!(m.replication.tasks, 4);
    assert_eq!(m.cutover.quiet_period.to_string(), "4s");
    assert!(m.topics.selects("paiements-é"));
}

#[test]
fn every_truncation_is_refused_or_valid_without_panic() {
    let text = rich_file();
    for (cut, _) in text.char_indices() {
        check(&text[..cut]);
    }
}

#[test]
fn deep_nesting_is_refused_without_panic() {
    let depth = 100_000;
    for (open, inner, close) in [
        ("[", "", "]"),
        ("{ a = ", "1", " }"),
        ("(", "1", ")"),
        ("env(", "\"X\"", ")"),
        ("\"${", "1", "}\""),
    ] {
        let deep = format!("{}{inner}{}", open.repeat(depth), close.repeat(depth));
        check(&with(&format!("topics {{ include = {deep} }}\n")));
    }
    let blocks = format!("{}{}", "topics {\n".repeat(depth), "}\n".repeat(depth));
    check(&with(&blocks));
}

#[test]
fn huge_values_are_handled_without_panic() {
    let huge = "x".repeat(2_000_000);
    for text in [
        with(&format!("topics {{ names = [\"{huge}\"] }}\n")),
        with(&format!("topics {{ include = [\"{huge}(\"] }}\n")),
        with(&format!("replication {{ linger = \"{huge}\" }}\n")),
        with(&format!(
            "replication {{ tasks = 1{} }}\n",
            "0".repeat(100_000)
        )),
        with("cutover { max_lag = 1e999999 }\n"),
        BASE.replace("orders-to-msk", &huge),
        format!("{BASE}{huge}"),
        "\n".repeat(1_000_000),
    ] {
        check(&text);
    }
    let many = (0..20_000)
        .map(|i| format!("\"t{i}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let m = parse_text(&with(&format!("topics {{ names = [{many}] }}\n"))).unwrap();
    assert_eq!(m.topics.names.len(), 20_000);
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_files_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>(), 0u8..3), 1..8)
    ) {
        let mut chars: Vec<char> = rich_file().chars().collect();
        for (at, c, op) in edits {
            let i = at.index(chars.len());
            match op {
                0 => chars[i] = c,
                1 => chars.insert(i, c),
                _ => {
                    chars.remove(i);
                }
            }
        }
        check(&chars.into_iter().collect::<String>());
    }

    #[test]
    fn arbitrary_values_never_panic(value in ".{0,40}") {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        for attr in ["tasks", "delivery", "max_bytes_per_second", "linger", "compression"] {
            check(&with(&format!("replication {{ {attr} = \"{escaped}\" }}\n")));
        }
        check(&with(&format!("topics {{ include = [\"{escaped}\"] }}\n")));
        check(&with(&format!("topics {{ names = [\"{escaped}\"] }}\n")));
        check(&BASE.replace("kafka-1:9093", &escaped));
    }
}
