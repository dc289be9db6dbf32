//! How the names of the source (topics, consumer groups) are named on the target: the same
//! by default, or with a prefix, or one by one. Pure functions, no I/O.
//!
//! Everything kafka-migrate records (progress, the cutover point, group marks) is keyed by
//! the source's names; a name is mapped where the target is read or written, and mapped back
//! where the target tells a name.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Names on the target: `names` maps a source name to its target name; every other name gets
/// `prefix` in front (nothing by default, so names stay the same).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    /// Put in front of every name on the target that `names` does not map, such as
    /// `"east."`.
    #[serde(default)]
    pub prefix: String,
    /// Source name = target name, for names mapped one by one (the prefix does not apply to
    /// them).
    #[serde(default)]
    pub names: BTreeMap<String, String>,
}

/// How one cluster names the source's topics and groups (the source itself: as they are).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Naming {
    pub topics: Rename,
    pub groups: Rename,
}

impl Naming {
    /// How the migration's target names the source's topics and groups.
    pub fn target(migration: &super::Migration) -> Naming {
        Naming {
            topics: migration.topics.rename.clone(),
            groups: migration.consumer_groups.rename.clone(),
        }
    }
}

impl Rename {
    /// Whether every name stays the same.
    pub fn is_identity(&self) -> bool {
        self.prefix.is_empty() && self.names.iter().all(|(k, v)| k == v)
    }

    /// The target's name for the source's `name`.
    pub fn target<'a>(&'a self, name: &'a str) -> Cow<'a, str> {
        if let Some(mapped) = self.names.get(name) {
            Cow::Borrowed(mapped)
        } else if self.prefix.is_empty() {
            Cow::Borrowed(name)
        } else {
            Cow::Owned(format!("{}{name}", self.prefix))
        }
    }

    /// The source name that `target` is the target's name of, if any: an explicit mapping
    /// first, then the prefix taken off (unless that name is mapped elsewhere).
    pub fn source_of<'a>(&'a self, target: &'a str) -> Option<Cow<'a, str>> {
        if self.prefix.is_empty() && self.names.is_empty() {
            return Some(Cow::Borrowed(target));
        }
        if let Some((source, _)) = self.names.iter().find(|(_, t)| t.as_str() == target) {
            return Some(Cow::Borrowed(source));
        }
        let source = target.strip_prefix(self.prefix.as_str())?;
        (!self.names.contains_key(source)).then(|| Cow::Owned(source.to_string()))
    }

    /// Among `sources`, those that share a target name, each group with that name: names the
    /// migration cannot keep apart on the target.
    pub fn collisions<'a>(
        &self,
        sources: impl IntoIterator<Item = &'a str>,
    ) -> Vec<(String, Vec<String>)> {
        let mut by_target: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for source in sources {
            by_target
                .entry(self.target(source).into_owned())
                .or_default()
                .push(source.to_string());
        }
        by_target.retain(|_, sources| sources.len() > 1);
        by_target.into_iter().collect()
    }

    /// `name` quoted, with its target name when that differs: `"orders" ("east.orders" on
    /// the target)`.
    pub fn quoted(&self, name: &str) -> String {
        match self.target(name) {
            t if t == name => format!("\"{name}\""),
            t => format!("\"{name}\" (\"{t}\" on the target)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rename(prefix: &str, names: &[(&str, &str)]) -> Rename {
        Rename {
            prefix: prefix.into(),
            names: names
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn identity_by_default() {
        let r = Rename::default();
        assert!(r.is_identity());
        assert_eq!(r.target("orders"), "orders");
        assert_eq!(r.source_of("orders").as_deref(), Some("orders"));
    }

    #[test]
    fn a_prefix_and_explicit_names() {
        let r = rename("east.", &[("payments", "pay-east")]);
        assert!(!r.is_identity());
        assert_eq!(r.target("orders"), "east.orders");
        assert_eq!(r.target("payments"), "pay-east");
        assert_eq!(r.source_of("east.orders").as_deref(), Some("orders"));
        assert_eq!(r.source_of("pay-east").as_deref(), Some("payments"));
        // payments is mapped elsewhere: east.payments is nobody's target name.
        assert_eq!(r.source_of("east.payments"), None);
        assert_eq!(r.source_of("orders"), None);
        assert_eq!(
            r.quoted("orders"),
            "\"orders\" (\"east.orders\" on the target)"
        );
        assert_eq!(Rename::default().quoted("orders"), "\"orders\"");
    }

    #[test]
    fn round_trips() {
        let r = rename("west-", &[("a", "b"), ("c", "west-d")]);
        for name in ["a", "c", "x", "west-y", "b"] {
            let target = r.target(name).into_owned();
            assert_eq!(r.source_of(&target).as_deref(), Some(name), "{name}");
        }
    }

    #[test]
    fn collisions_are_named() {
        let r = rename("", &[("a", "b")]);
        assert_eq!(
            r.collisions(["a", "b", "c"]),
            vec![("b".to_string(), vec!["a".to_string(), "b".to_string()])]
        );
        assert!(rename("x.", &[]).collisions(["a", "b"]).is_empty());
    }
}
