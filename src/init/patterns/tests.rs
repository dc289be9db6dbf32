use super::*;

fn regexes(patterns: &[Pattern]) -> Vec<&str> {
    patterns.iter().map(|p| p.regex.as_str()).collect()
}

/// Whether the include patterns and excludes of `plan` select exactly `wanted` among `all`.
fn selects_exactly(plan: &TopicPlan, all: &[&str], wanted: &[&str]) {
    let include: Vec<regex::Regex> = plan
        .include
        .iter()
        .map(|p| regex::Regex::new(&p.regex).unwrap())
        .collect();
    let exclude: Vec<regex::Regex> = plan
        .exclude
        .iter()
        .map(|p| regex::Regex::new(p).unwrap())
        .collect();
    let selected: Vec<&str> = all
        .iter()
        .copied()
        .filter(|t| !t.starts_with("__") && !t.starts_with("kafka-migrate."))
        .filter(|t| include.iter().any(|r| r.is_match(t)))
        .filter(|t| !exclude.iter().any(|r| r.is_match(t)))
        .collect();
    let mut wanted = wanted.to_vec();
    wanted.sort();
    let mut selected = selected;
    selected.sort();
    assert_eq!(selected, wanted, "{plan:#?}");
}

#[test]
fn names_sharing_a_first_segment_become_one_prefix_pattern() {
    let all = [
        "orders.created",
        "orders.paid",
        "orders.eu.shipped",
        "payments",
        "audit-log",
    ];
    let plan = topic_plan(&all);
    assert_eq!(
        regexes(&plan.include),
        ["^audit-log$", "^orders\\.", "^payments$"]
    );
    assert_eq!(plan.include[1].covers, 3);
    assert_eq!(plan.selected, 5);
    assert!(plan.exclude.is_empty() && plan.internal.is_empty());
    selects_exactly(&plan, &all, &all);
}

#[test]
fn internal_topics_are_left_out_with_their_reason() {
    let all = [
        "__consumer_offsets",
        "__transaction_state",
        "_schemas",
        "_confluent-license",
        "kafka-migrate.m.progress",
        "app-store-changelog",
        "app-agg-repartition",
        "mm2-offset-syncs.target.internal",
        "app-orders",
        "app-payments",
    ];
    let plan = topic_plan(&all);
    assert_eq!(regexes(&plan.include), ["^app-"]);
    assert_eq!(plan.exclude, ["-changelog$", "-repartition$"]);
    assert_eq!(
        plan.internal,
        [
            ("__consumer_offsets".to_string(), "Kafka internal"),
            ("__transaction_state".to_string(), "Kafka internal"),
            (
                "_confluent-license".to_string(),
                "schema registry or Confluent internal"
            ),
            (
                "_schemas".to_string(),
                "schema registry or Confluent internal"
            ),
            ("app-agg-repartition".to_string(), "Kafka Streams internal"),
            ("app-store-changelog".to_string(), "Kafka Streams internal"),
            (
                "kafka-migrate.m.progress".to_string(),
                "kafka-migrate progress"
            ),
            (
                "mm2-offset-syncs.target.internal".to_string(),
                "MirrorMaker 2 internal"
            ),
        ]
    );
    selects_exactly(&plan, &all, &["app-orders", "app-payments"]);
}

#[test]
fn an_exclude_is_written_only_for_internal_topics_a_pattern_would_cover() {
    let all = ["streams-app-store-changelog", "orders.a", "orders.b"];
    let plan = topic_plan(&all);
    assert_eq!(regexes(&plan.include), ["^orders\\."]);
    assert!(plan.exclude.is_empty(), "{plan:?}");
    selects_exactly(&plan, &all, &["orders.a", "orders.b"]);
}

#[test]
fn the_tools_own_topics_do_not_break_a_prefix() {
    // `kafka-` is also the start of `kafka-migrate.*`, which the tool never migrates: the
    // prefix stays.
    let all = ["kafka-a", "kafka-b", "kafka-migrate.m.progress"];
    let plan = topic_plan(&all);
    assert_eq!(regexes(&plan.include), ["^kafka-"]);
    selects_exactly(&plan, &all, &["kafka-a", "kafka-b"]);
}

#[test]
fn single_names_and_names_without_a_delimiter_are_exact() {
    let all = ["orders", "orders.created", "x.", ".hidden", "a.b.c"];
    let plan = topic_plan(&all);
    assert_eq!(
        regexes(&plan.include),
        [
            "^\\.hidden$",
            "^a\\.b\\.c$",
            "^orders$",
            "^orders\\.created$",
            "^x\\.$"
        ]
    );
    selects_exactly(&plan, &all, &all);
}

#[test]
fn group_patterns_cover_exactly_the_groups() {
    let groups = [
        "billing-1",
        "billing-2",
        "reporting",
        "etl.nightly",
        "etl.hourly",
    ];
    let patterns = group_patterns(&groups, &groups);
    assert_eq!(regexes(&patterns), ["^billing-", "^etl\\.", "^reporting$"]);
    assert_eq!(patterns.iter().map(|p| p.covers).sum::<usize>(), 5);
    // A group left out keeps the others' prefix from covering it.
    let all = [&groups[..], &["billing-app-store"]].concat();
    let patterns = group_patterns(&groups, &all);
    assert_eq!(
        regexes(&patterns),
        ["^billing-1$", "^billing-2$", "^etl\\.", "^reporting$"]
    );
}

#[test]
fn a_group_committed_only_on_topics_left_out_is_left_out() {
    assert_eq!(
        super::group_left_out(["app-store-changelog", "_schemas"]).as_deref(),
        Some("commits offsets only for topics left out (app-store-changelog, _schemas)")
    );
    assert_eq!(
        super::group_left_out(["app-store-changelog", "orders"]),
        None
    );
    assert_eq!(super::group_left_out([]), None);
}

#[test]
fn many_topics_of_mixed_prefixes_need_one_pattern_per_prefix() {
    let names: Vec<String> = (0..300)
        .map(|i| match i % 3 {
            0 => format!("orders.{i}"),
            1 => format!("payments-{i}"),
            _ => format!("inventory_{i}"),
        })
        .collect();
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let plan = topic_plan(&all);
    assert_eq!(
        regexes(&plan.include),
        ["^inventory_", "^orders\\.", "^payments-"]
    );
    selects_exactly(&plan, &all, &all);
}

#[test]
fn a_prefix_that_would_take_a_name_left_out_falls_back_to_exact_names() {
    let all = ["etl.a", "etl.b", "etl.private"];
    let patterns = patterns(["etl.a", "etl.b"], &all, |_| false);
    assert_eq!(regexes(&patterns), ["^etl\\.a$", "^etl\\.b$"]);
    let patterns = super::patterns(["etl.a", "etl.b"], &all, |n| n == "etl.private");
    assert_eq!(regexes(&patterns), ["^etl\\."]);
}
