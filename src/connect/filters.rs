//! Topic and group selections as MirrorMaker 2 filters. MirrorMaker 2's `topics`,
//! `topics.exclude`, `groups` and `groups.exclude` are comma-separated Java regexes that must
//! match a whole name; the migration file's patterns match anywhere in a name unless anchored,
//! and its `names` are exact. Each is translated so that both select the same names.

use crate::config::{GroupSelection, PatternSet, TopicSelection};

/// Topics the tool never migrates, whatever the migration file says: internal topics, the
/// tool's own, and MirrorMaker 2's.
const ALWAYS_EXCLUDED_TOPICS: [&str; 3] = ["__.*", "kafka-migrate\\..*", "mm2.*\\.internal"];

#[derive(Debug, thiserror::Error)]
#[error("the {what} pattern \"{pattern}\" holds a comma, which MirrorMaker 2's comma-separated filter lists cannot carry")]
pub struct FilterError {
    pub what: &'static str,
    pub pattern: String,
}

/// `topics` and `topics.exclude` for the migration's topic selection.
pub fn topics(selection: &TopicSelection) -> Result<(String, String), FilterError> {
    let mut include: Vec<String> = selection
        .names()
        .map(|n| regex::escape(n))
        .collect::<Vec<_>>();
    include.extend(whole_name_patterns(&selection.include, "topics.include")?);
    let mut exclude = whole_name_patterns(&selection.exclude, "topics.exclude")?;
    exclude.extend(ALWAYS_EXCLUDED_TOPICS.iter().map(|p| p.to_string()));
    Ok((join_unique(include), join_unique(exclude)))
}

/// `groups` and `groups.exclude` for the migration's consumer group selection.
pub fn groups(selection: &GroupSelection) -> Result<(String, String), FilterError> {
    let include = whole_name_patterns(&selection.include, "consumer_groups.include")?;
    let exclude = whole_name_patterns(&selection.exclude, "consumer_groups.exclude")?;
    Ok((join_unique(include), join_unique(exclude)))
}

/// A comma-separated list without repeats, in first-seen order.
pub fn join_unique(items: Vec<String>) -> String {
    let mut seen = std::collections::BTreeSet::new();
    items
        .into_iter()
        .filter(|i| seen.insert(i.clone()))
        .collect::<Vec<_>>()
        .join(",")
}

fn whole_name_patterns(set: &PatternSet, what: &'static str) -> Result<Vec<String>, FilterError> {
    set.iter()
        .map(|p| {
            let pattern = p.as_str();
            if pattern.contains(',') {
                return Err(FilterError {
                    what,
                    pattern: pattern.to_string(),
                });
            }
            Ok(whole_name(pattern))
        })
        .collect()
}

/// A regex that matches a whole name exactly when `pattern` matches somewhere in it.
pub fn whole_name(pattern: &str) -> String {
    if pattern.contains('|') {
        return format!(".*(?:{pattern}).*");
    }
    let start = match pattern.strip_prefix('^') {
        Some(rest) => rest.to_string(),
        None if pattern.starts_with(".*") => pattern.to_string(),
        None => format!(".*{pattern}"),
    };
    match start.strip_suffix('$') {
        Some(rest) if !rest.ends_with('\\') => rest.to_string(),
        _ if start.ends_with(".*") => start,
        _ => format!("{start}.*"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whole-name matching as MirrorMaker 2 does it (Java's `Pattern.matches`).
    fn matches_whole(pattern: &str, name: &str) -> bool {
        regex::Regex::new(&format!("^(?:{pattern})$"))
            .unwrap()
            .is_match(name)
    }

    #[test]
    fn translated_patterns_select_the_same_names() {
        let names = [
            "orders",
            "orders.eu",
            "xorders.eu",
            "payments",
            "payments-v2",
            "old-payments",
            "_schemas",
            "a|b",
        ];
        for pattern in [
            "^orders\\..*",
            "payments",
            "^payments$",
            "orders",
            "^_schemas$",
            "eu$",
            "^a|b$",
            ".*",
        ] {
            let ours = regex::Regex::new(pattern).unwrap();
            let theirs = whole_name(pattern);
            for name in names {
                assert_eq!(
                    ours.is_match(name),
                    matches_whole(&theirs, name),
                    "pattern {pattern} (as {theirs}) on {name}"
                );
            }
        }
    }

    #[test]
    fn names_are_exact_and_escaped() {
        let selection = crate::config::parse_with_env(
            "m.hcl",
            "name = \"m\"\ncluster \"source\" { bootstrap_servers = [\"a:9092\"] }\ncluster \"target\" { bootstrap_servers = [\"b:9092\"] }\ntopics { names = [\"orders.v1\"] }\n",
            std::path::Path::new("."),
            &[],
            &|_| None,
        )
        .unwrap()
        .topics;
        let (include, exclude) = topics(&selection).unwrap();
        assert!(include.split(',').any(|p| p == "orders\\.v1"), "{include}");
        assert!(!matches_whole("orders\\.v1", "ordersXv1"));
        assert!(exclude.contains("kafka-migrate\\..*"), "{exclude}");
    }
}
