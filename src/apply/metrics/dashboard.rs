//! `dashboards/kafka-migrate.json` queries only what `apply --metrics-addr` serves: every
//! metric name and label in its PromQL, legends and variables is one of [`super::SERVED`], so
//! renaming a metric or a label fails here; and every served metric has a panel.

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::Value;

/// Labels Prometheus adds to every scraped series.
const SCRAPE_LABELS: [&str; 2] = ["job", "instance"];

fn dashboard() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/dashboards/kafka-migrate.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the dashboard is readable"))
        .expect("the dashboard is JSON")
}

/// Every PromQL text of the dashboard (`expr`, and variable queries and definitions), each
/// with the legend of its target (empty for variables).
fn queries(node: &Value, out: &mut Vec<(String, String)>) {
    match node {
        Value::Object(map) => {
            if let Some(expr) = map.get("expr").and_then(Value::as_str) {
                let legend = map.get("legendFormat").and_then(Value::as_str);
                out.push((expr.to_string(), legend.unwrap_or_default().to_string()));
            }
            for key in ["query", "definition"] {
                if let Some(query) = map.get(key).and_then(Value::as_str) {
                    if query.contains('(') {
                        out.push((query.to_string(), String::new()));
                    }
                }
            }
            map.values().for_each(|v| queries(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| queries(v, out)),
        _ => {}
    }
}

/// The served series names (a histogram's `_bucket`, `_sum` and `_count`) with their labels.
fn served() -> Vec<(String, Vec<&'static str>)> {
    super::SERVED
        .iter()
        .flat_map(|(name, labels, kind, _)| {
            let labels: Vec<&'static str> =
                labels.iter().copied().chain([super::MIGRATION]).collect();
            if *kind == super::Kind::Histogram {
                let mut bucket = labels.to_vec();
                bucket.push("le");
                vec![
                    (format!("{name}_bucket"), bucket),
                    (format!("{name}_sum"), labels.to_vec()),
                    (format!("{name}_count"), labels.to_vec()),
                ]
            } else {
                vec![(name.to_string(), labels.to_vec())]
            }
        })
        .collect()
}

/// Metric names and labels that `query` (and its legend) uses.
fn used(query: &str, legend: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let identifier = Regex::new(r"[a-zA-Z_:][a-zA-Z0-9_:]*").unwrap();
    let metrics = identifier
        .find_iter(query)
        .map(|m| m.as_str().to_string())
        .filter(|m| m.starts_with("kafka_migrate"))
        .collect();
    let mut labels = BTreeSet::new();
    let matcher = Regex::new(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)").unwrap();
    for selector in Regex::new(r"\{([^{}]*)\}").unwrap().captures_iter(query) {
        labels.extend(
            matcher
                .captures_iter(&selector[1])
                .map(|c| c[1].to_string()),
        );
    }
    for grouping in Regex::new(r"\b(?:by|without)\s*\(([^)]*)\)")
        .unwrap()
        .captures_iter(query)
    {
        labels.extend(
            identifier
                .find_iter(&grouping[1])
                .map(|m| m.as_str().to_string()),
        );
    }
    for values in Regex::new(r"label_values\([^,]*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)")
        .unwrap()
        .captures_iter(query)
    {
        labels.insert(values[1].to_string());
    }
    for name in Regex::new(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
        .unwrap()
        .captures_iter(legend)
    {
        labels.insert(name[1].to_string());
    }
    (metrics, labels)
}

#[test]
fn the_dashboard_queries_only_served_metrics_and_labels() {
    let mut found = Vec::new();
    queries(&dashboard(), &mut found);
    assert!(found.len() >= 10, "too few queries found: {found:?}");
    let served = served();
    let mut queried = BTreeSet::new();
    for (query, legend) in &found {
        let (metrics, labels) = used(query, legend);
        assert!(!metrics.is_empty(), "no kafka-migrate metric in {query}");
        let mut allowed: BTreeSet<&str> = SCRAPE_LABELS.into_iter().collect();
        for metric in &metrics {
            let Some((_, labels)) = served.iter().find(|(name, _)| name == metric) else {
                panic!("{metric} (in {query}) is not a metric apply serves: {served:?}");
            };
            allowed.extend(labels.iter().copied());
            queried.insert(metric.clone());
        }
        for label in &labels {
            assert!(
                allowed.contains(label.as_str()),
                "label {label} (in {query} / {legend}) is not one of {metrics:?}: {allowed:?}"
            );
        }
    }
    for (name, _, kind, _) in super::SERVED {
        let series = if kind == super::Kind::Histogram {
            format!("{name}_bucket")
        } else {
            name.to_string()
        };
        assert!(queried.contains(&series), "no panel shows {series}");
    }
}

#[test]
fn renamed_metrics_and_labels_are_caught() {
    let (metrics, labels) = used(
        r#"sum by (topik) (rate(kafka_migrate_records_total{partition=~"$p"}[5m]))"#,
        "{{ instance }}",
    );
    assert_eq!(
        metrics,
        BTreeSet::from(["kafka_migrate_records_total".to_string()])
    );
    assert_eq!(
        labels,
        BTreeSet::from(["instance", "partition", "topik"].map(String::from))
    );
    assert!(!served()
        .iter()
        .any(|(n, _)| n == "kafka_migrate_records_total"));
}

#[test]
fn every_panel_narrows_to_the_selected_migrations() {
    let mut found = Vec::new();
    queries(&dashboard()["panels"], &mut found);
    let series = Regex::new(r"kafka_migrate_[a-zA-Z0-9_:]*(\{[^{}]*\})?").unwrap();
    for (query, _) in &found {
        for m in series.captures_iter(query) {
            let selector = m.get(1).map_or("", |s| s.as_str());
            assert!(
                selector.contains(r#"migration=~"$migration""#),
                "{} in {query} is not narrowed to $migration",
                &m[0]
            );
        }
    }
    let variables = dashboard()["templating"]["list"].to_string();
    assert!(
        variables.contains(r#"label_values(kafka_migrate_lag_records, migration)"#),
        "{variables}"
    );
}
