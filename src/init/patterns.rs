//! Which topics and groups `init` selects, and the fewest readable patterns that say so: names
//! grouped by their first segment (`orders.` of `orders.created`), one anchored prefix pattern
//! per group of two or more, one exact pattern per name left alone. Topics that are internal
//! to Kafka, Kafka Streams, MirrorMaker 2, a schema registry or this tool are set apart with
//! the reason. Pure: no I/O.

use std::collections::BTreeMap;

/// One include pattern and how many of the names it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The regular expression, anchored with `^`.
    pub regex: String,
    /// Names that exist and match it.
    pub covers: usize,
}

/// Why a topic is left out of the selection, or None for a topic to migrate.
pub fn internal_reason(topic: &str) -> Option<&'static str> {
    if topic.starts_with("__") {
        Some("Kafka internal")
    } else if topic.starts_with('_') {
        Some("schema registry or Confluent internal")
    } else if topic.starts_with("kafka-migrate.") {
        Some("kafka-migrate progress")
    } else if topic.ends_with("-changelog") || topic.ends_with("-repartition") {
        Some("Kafka Streams internal")
    } else if topic.ends_with(".internal") {
        Some("MirrorMaker 2 internal")
    } else {
        None
    }
}

/// Exclude patterns for the internal topics whose name ends in a tell-tale suffix: a prefix
/// pattern may cover them, so they are excluded by suffix. Internal topics with a tell-tale
/// prefix (`_`, `kafka-migrate.`) never share a prefix with a selected topic.
pub const SUFFIX_EXCLUDES: [(&str, &str); 3] = [
    ("-changelog", "-changelog$"),
    ("-repartition", "-repartition$"),
    (".internal", "\\.internal$"),
];

/// The first segment of `name` with its delimiter (`orders.` of `orders.eu.created`), or None
/// for a name without `.`, `-` or `_` after its first character.
fn first_segment(name: &str) -> Option<&str> {
    let at = name
        .char_indices()
        .skip(1)
        .find(|(_, c)| matches!(c, '.' | '-' | '_'))?
        .0;
    // The prefix alone is not a name of its own group: `orders.` needs something after it.
    (at + 1 < name.len()).then(|| &name[..=at])
}

/// Patterns that match exactly `names` among `all` (which contains `names`): names sharing a
/// first segment with at least one other name become one prefix pattern `^segment` — when no
/// name of `all` outside `names` has that segment, except those `excluded` says the caller
/// excludes anyway — and each other name an exact pattern `^name$`. Sorted by pattern.
pub fn patterns<'a>(
    names: impl IntoIterator<Item = &'a str>,
    all: &[&str],
    excluded: impl Fn(&str) -> bool,
) -> Vec<Pattern> {
    let mut groups: BTreeMap<Option<&str>, Vec<&str>> = BTreeMap::new();
    for name in names {
        groups.entry(first_segment(name)).or_default().push(name);
    }
    let mut out = Vec::new();
    for (segment, members) in groups {
        let clean = |s: &str| {
            !all.iter()
                .any(|n| n.starts_with(s) && !members.contains(n) && !excluded(n))
        };
        match segment {
            Some(s) if members.len() > 1 && clean(s) => out.push(Pattern {
                regex: format!("^{}", escape(s)),
                covers: members.len(),
            }),
            _ => out.extend(members.into_iter().map(|n| Pattern {
                regex: format!("^{}$", escape(n)),
                covers: 1,
            })),
        }
    }
    out.sort_by(|a, b| a.regex.cmp(&b.regex));
    out
}

/// `name` as a regex matching itself: its meta characters escaped, except `-`, which is one
/// only inside a class (a topic name's `-` stays readable).
fn escape(name: &str) -> String {
    regex::escape(name).replace("\\-", "-")
}

/// What `init` makes of the topics a cluster lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicPlan {
    /// Include patterns covering every topic to migrate.
    pub include: Vec<Pattern>,
    /// Exclude patterns, for internal topics an include pattern would cover.
    pub exclude: Vec<String>,
    /// Topics left out, with why, sorted by name.
    pub internal: Vec<(String, &'static str)>,
    /// Number of topics to migrate.
    pub selected: usize,
}

/// The selection of `topics` (every topic the cluster lists).
pub fn topic_plan(topics: &[&str]) -> TopicPlan {
    let (internal, selected): (Vec<&str>, Vec<&str>) =
        topics.iter().partition(|t| internal_reason(t).is_some());
    // Topics an exclude pattern or the tool's own rule (`__*`, `kafka-migrate.*`) keeps out.
    let kept_out = |t: &str| {
        SUFFIX_EXCLUDES.iter().any(|(s, _)| t.ends_with(s))
            || t.starts_with("__")
            || t.starts_with("kafka-migrate.")
    };
    let include = patterns(selected.iter().copied(), topics, kept_out);
    let covered = |t: &str| {
        include.iter().any(|p| {
            regex::Regex::new(&p.regex)
                .map(|r| r.is_match(t))
                .unwrap_or(false)
        })
    };
    let exclude = SUFFIX_EXCLUDES
        .iter()
        .filter(|(suffix, _)| internal.iter().any(|t| t.ends_with(suffix) && covered(t)))
        .map(|(_, regex)| regex.to_string())
        .collect();
    let mut internal: Vec<(String, &'static str)> = internal
        .into_iter()
        .filter_map(|t| Some((t.to_string(), internal_reason(t)?)))
        .collect();
    internal.sort();
    TopicPlan {
        include,
        exclude,
        internal,
        selected: selected.len(),
    }
}

/// Include patterns covering exactly `groups` among `all` the source's groups.
pub fn group_patterns(groups: &[&str], all: &[&str]) -> Vec<Pattern> {
    patterns(groups.iter().copied(), all, |_| false)
}

/// Why a group that committed offsets for `topics` is left out: every one of them is a topic
/// left out (its offsets would never be translated), or None for a group to migrate (one that
/// committed nothing yet included).
pub fn group_left_out<'a>(topics: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let topics: Vec<&str> = topics.into_iter().collect();
    if topics.is_empty() || topics.iter().any(|t| internal_reason(t).is_none()) {
        return None;
    }
    Some(format!(
        "commits offsets only for topics left out ({})",
        topics.join(", ")
    ))
}

#[cfg(test)]
mod tests;
