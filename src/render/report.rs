//! `init --report`: the source's topics (size, retention, throughput), the clients producing
//! and consuming each, the totals and the recommended MSK brokers with the figures they were
//! sized by — as text, or as JSON.

use std::fmt::Write;

use crate::init::report::{BytesRateFrom, TopicReport};
use crate::ops::report::InitReport;
use crate::plan::msk::sizing::Recommendation;
use crate::quote::terminal;

use super::Paint;

/// The report as JSON (with `format_version`).
pub fn init_report_json(report: &InitReport) -> String {
    super::json::versioned(super::json::INIT_REPORT_FORMAT_VERSION, report)
}

/// The report as text: a table of topics, their clients, the totals, the recommendation.
pub fn init_report_text(report: &InitReport, paint: Paint) -> String {
    let (source, totals, sizing) = (&report.source, &report.totals, &report.recommendation);
    let mut out = format!(
        "Source: {} broker(s), {} topic(s); throughput measured over {:.1}s.\n\n",
        source.brokers,
        source.topics.len(),
        source.sample_seconds
    );
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header([
        "topic",
        "partitions",
        "rf",
        "size",
        "on disk",
        "retention",
        "records/s",
        "bytes/s",
        "producers",
        "groups",
    ]);
    for t in &source.topics {
        table.add_row([
            terminal(&t.topic).into_owned(),
            t.partitions.to_string(),
            t.replication_factor.to_string(),
            t.size_bytes.map_or("-".into(), bytes),
            t.size_on_disk_bytes.map_or("-".into(), bytes),
            retention(t),
            format!("{:.1}", t.records_per_second),
            t.bytes_per_second.map_or("-".into(), |b| {
                let mark = match t.bytes_rate_from {
                    BytesRateFrom::AverageRecordSize => " *",
                    _ => "",
                };
                format!("{}{mark}", bytes(b.round() as u64))
            }),
            t.producers.len().to_string(),
            t.consumer_groups.len().to_string(),
        ]);
    }
    for column in 1..table.column_count() {
        if column != 5 {
            if let Some(c) = table.column_mut(column) {
                c.set_cell_alignment(comfy_table::CellAlignment::Right);
            }
        }
    }
    let _ = writeln!(out, "{table}");
    out.push_str(
        "bytes/s: the growth of each topic's log over the window (one replica of each partition); \
         * where retention or compaction shrank it, records/s × the topic's average record size.\n",
    );
    let clients: Vec<&TopicReport> = source
        .topics
        .iter()
        .filter(|t| !t.producers.is_empty() || !t.consumer_groups.is_empty())
        .collect();
    if !clients.is_empty() {
        out.push_str("\nClients (producers as the partitions' leaders know them: idempotent or transactional ones):\n");
    }
    for t in clients {
        let _ = writeln!(out, "  {}:", terminal(&t.topic));
        for p in &t.producers {
            let when = if p.wrote_during_sample {
                "wrote during the window".to_string()
            } else if p.last_write_ms >= 0 {
                format!(
                    "last wrote at {}",
                    crate::state::cutover::utc(p.last_write_ms)
                )
            } else {
                "last write unknown".to_string()
            };
            let _ = writeln!(
                out,
                "    producer id {} (epoch {}), partition(s) {}: {when}",
                p.producer_id,
                p.producer_epoch,
                list(&p.partitions)
            );
        }
        for g in &t.consumer_groups {
            let members = if g.members.is_empty() {
                "no member assigned the topic".to_string()
            } else {
                g.members
                    .iter()
                    .map(|m| {
                        format!(
                            "client \"{}\" on {}",
                            terminal(&m.client_id),
                            terminal(&m.host)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let committed = if g.committed_offsets {
                ", offsets committed"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    consumer group \"{}\" ({}{committed}): {members}",
                terminal(&g.group),
                terminal(&g.state)
            );
        }
    }
    let size = match (totals.size_bytes, totals.size_on_disk_bytes) {
        (Some(one), Some(all)) => format!("{} ({} on disk, every replica)", bytes(one), bytes(all)),
        _ => "size unknown".to_string(),
    };
    let _ = writeln!(
        out,
        "\nTotals: {} topic(s), {} partition(s), {} replica(s) on the source; {size}; {:.1} records/s; {}/s in ({:.2} MB/s); {}/s out ({:.2} MB/s, estimated: each topic's bytes in × the consumer groups reading it); {} producer(s), {} consumer group(s).",
        totals.topics,
        totals.partitions,
        totals.replicas,
        totals.records_per_second,
        bytes(totals.bytes_in_per_second.round() as u64),
        totals.bytes_in_per_second / 1e6,
        bytes(totals.bytes_out_per_second.round() as u64),
        totals.bytes_out_per_second / 1e6,
        totals.producers,
        totals.consumer_groups,
    );
    let throughput = match (sizing.ingress_mb_per_second, sizing.egress_mb_per_second) {
        (Some(i), Some(o)) => format!("{i:.2} MB/s in and {o:.2} MB/s out"),
        _ => "throughput unknown".to_string(),
    };
    let _ = writeln!(
        out,
        "\n{} sized for {} partition(s) at replication factor {} ({} partition replicas) and {throughput}, as measured over the window:",
        paint.create("Recommended MSK brokers"),
        totals.partitions,
        sizing.replication_factor,
        sizing.partition_replicas
    );
    for r in [&sizing.express, &sizing.standard].into_iter().flatten() {
        out.push_str(&recommendation_line(r, sizing.partition_replicas));
    }
    out.push_str("Sized by:\n");
    for a in &sizing.assumptions {
        let _ = writeln!(out, "  - {a}");
    }
    let _ = writeln!(
        out,
        "  - the rates of a {:.0}s window: a busier hour needs more; sample then, or with a longer --sample",
        source.sample_seconds
    );
    if !source.internal_topics.is_empty() {
        let _ = writeln!(
            out,
            "\nLeft out: {} internal topic(s) ({}).",
            source.internal_topics.len(),
            source
                .internal_topics
                .iter()
                .map(|t| terminal(&t.topic).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for t in &source.denied_topics {
        let _ = writeln!(
            out,
            "Not readable: topic \"{}\": {}",
            terminal(&t.topic),
            terminal(&t.reason)
        );
    }
    for u in &source.unread {
        let _ = writeln!(out, "Not read: {}", terminal(u));
    }
    out
}

/// One recommendation: size, count, and the use per broker.
fn recommendation_line(r: &Recommendation, replicas: u64) -> String {
    let per = r.brokers.max(1);
    format!(
        "  {:<9} {} × {} — {} of {} partitions per broker, {:.1} MB/s in and {:.1} MB/s out per broker ({}); the count is set by {}\n",
        format!("{}:", title(&r.kind)),
        r.brokers,
        r.broker_type,
        replicas.div_ceil(per),
        r.partitions_per_broker,
        r.ingress_mb_per_second_per_broker,
        r.egress_mb_per_second_per_broker,
        if r.throughput_published {
            "AWS's recommended figures"
        } else {
            "assumed"
        },
        match r.bound_by.as_str() {
            "minimum" => "the minimum of 3",
            other => other,
        }
    )
}

fn title(kind: &str) -> &str {
    match kind {
        "express" => "Express",
        "standard" => "Standard",
        other => other,
    }
}

/// Partition numbers, as "0-2, 5".
fn list(partitions: &[i32]) -> String {
    let mut sorted = partitions.to_vec();
    sorted.sort_unstable();
    let mut ranges: Vec<(i32, i32)> = Vec::new();
    for p in sorted {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == p => *end = p,
            _ => ranges.push((p, p)),
        }
    }
    ranges
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A retention in words: time, then size per partition, "compact" for compacted topics.
fn retention(t: &TopicReport) -> String {
    let mut parts = Vec::new();
    match t.retention_ms {
        Some(ms) if ms < 0 => parts.push("forever".to_string()),
        Some(ms) => parts.push(duration(ms)),
        None => {}
    }
    if let Some(b) = t.retention_bytes.filter(|b| *b >= 0) {
        parts.push(format!("{}/partition", bytes(b as u64)));
    }
    if t.cleanup_policy
        .as_deref()
        .is_some_and(|p| p.contains("compact"))
    {
        parts.push("compact".to_string());
    }
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(", ")
    }
}

/// Milliseconds as the largest whole unit: "7d", "12h", "30m", "45s", "500ms".
fn duration(ms: i64) -> String {
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= size && ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    if ms >= 3_600_000 {
        format!("{:.1}h", ms as f64 / 3_600_000.0)
    } else {
        format!("{ms}ms")
    }
}

/// Bytes in binary units: "512 B", "1.5 KiB", "3.2 GiB".
fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_retention_and_partition_lists_read_as_words() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
        assert_eq!(duration(604_800_000), "7d");
        assert_eq!(duration(5_400_000), "90m");
        assert_eq!(duration(250), "250ms");
        assert_eq!(list(&[5, 0, 1, 2, 7]), "0-2, 5, 7");
    }

    /// A report of two topics: one written during the window by a producer and read by a
    /// group, one whose log shrank.
    fn sample() -> InitReport {
        use crate::cluster::Member;
        use crate::init::report::{
            ConsumerGroup, LeftOut, SourceReport, TopicProducer, TopicReport,
        };
        let topic = |name: &str, rate: BytesRateFrom| TopicReport {
            topic: name.into(),
            partitions: 3,
            replication_factor: 3,
            size_bytes: Some(3 << 20),
            size_on_disk_bytes: Some(9 << 20),
            records: 3_000,
            retention_ms: Some(604_800_000),
            retention_bytes: Some(-1),
            cleanup_policy: Some("delete".into()),
            records_per_second: 100.0,
            bytes_per_second: Some(2_048.0),
            bytes_rate_from: rate,
            producers: Vec::new(),
            consumer_groups: Vec::new(),
        };
        let mut orders = topic("orders", BytesRateFrom::LogSizeChange);
        orders.producers = vec![TopicProducer {
            producer_id: 4_711,
            producer_epoch: 0,
            partitions: vec![0, 1, 2],
            last_write_ms: 1_700_000_000_000,
            wrote_during_sample: true,
        }];
        orders.consumer_groups = vec![ConsumerGroup {
            group: "billing".into(),
            state: "Stable".into(),
            members: vec![Member {
                client_id: "billing-1".into(),
                host: "/10.0.0.5".into(),
            }],
            committed_offsets: true,
        }];
        let source = SourceReport {
            brokers: 3,
            sample_seconds: 30.0,
            topics: vec![
                orders,
                topic("audit\x1b[2J", BytesRateFrom::AverageRecordSize),
            ],
            internal_topics: vec![LeftOut {
                topic: "_schemas".into(),
                reason: "a schema registry's".into(),
            }],
            denied_topics: Vec::new(),
            unread: Vec::new(),
        };
        let totals = source.totals();
        let recommendation = crate::plan::msk::sizing::size(&crate::plan::msk::sizing::Demand {
            partitions: totals.partitions,
            bytes_in_per_second: Some(totals.bytes_in_per_second),
            bytes_out_per_second: Some(totals.bytes_out_per_second),
        });
        InitReport {
            source,
            totals,
            recommendation,
        }
    }

    #[test]
    fn the_text_names_topics_clients_totals_and_the_recommendation() {
        let report = sample();
        let text = init_report_text(&report, Paint::plain());
        for wanted in [
            "Source: 3 broker(s), 2 topic(s); throughput measured over 30.0s.",
            "│ orders ",
            "7d",
            "2.0 KiB *",
            "producer id 4711 (epoch 0), partition(s) 0-2: wrote during the window",
            "consumer group \"billing\" (Stable, offsets committed): client \"billing-1\" on /10.0.0.5",
            "Totals: 2 topic(s), 6 partition(s), 18 replica(s) on the source; 6.0 MiB (18.0 MiB on disk, every replica); 200.0 records/s; 4.0 KiB/s in (0.00 MB/s); 2.0 KiB/s out (0.00 MB/s, estimated",
            "1 producer(s), 1 consumer group(s)",
            "Recommended MSK brokers sized for 6 partition(s) at replication factor 3 (18 partition replicas) and 0.00 MB/s in and 0.00 MB/s out",
            "Express:  3 × express.m7g.large — 6 of 1000 partitions per broker, 15.6 MB/s in and 31.2 MB/s out per broker (AWS's recommended figures); the count is set by the minimum of 3",
            "Standard: 3 × kafka.m7g.large",
            "(assumed)",
            "30.8% of the same Express size's",
            "Left out: 1 internal topic(s) (_schemas).",
        ] {
            assert!(text.contains(wanted), "no {wanted:?} in:\n{text}");
        }
        // A name the cluster controls cannot drive the terminal.
        assert!(!text.contains('\x1b'), "{text}");
    }

    #[test]
    fn the_json_is_valid_under_its_schema() {
        let json: serde_json::Value = serde_json::from_str(&init_report_json(&sample())).unwrap();
        assert_eq!(json["format_version"], "1.0");
        assert_eq!(
            json["recommendation"]["express"]["broker_type"],
            "express.m7g.large"
        );
        assert_eq!(
            json["source"]["topics"][0]["bytes_rate_from"],
            "log_size_change"
        );
        let schema = super::super::report_schemas()
            .into_iter()
            .find(|(file, _)| *file == "init-report.schema.json")
            .map(|(_, s)| serde_json::from_str::<serde_json::Value>(&s).unwrap())
            .unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}
