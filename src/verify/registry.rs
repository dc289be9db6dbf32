//! A schema registry's storage topic (`_schemas`), read the way Confluent Schema Registry
//! (`KafkaStoreReaderThread`, `KafkaStoreMessageHandler`, `InMemoryCache`) and Karapace
//! (`schema_reader.py`) read it when they start: every record in order, the last record of a
//! key winning. Reads only; no registry server is asked.
//!
//! The format: keys and values are JSON. A key holds `keytype` (`SCHEMA`, `CONFIG`, `MODE`,
//! `NOOP`, `DELETE_SUBJECT`, `CLEAR_SUBJECT`, `CONTEXT`, `ASSOC`) and, for `SCHEMA`, `subject`
//! and `version` (and `magic`, 0 or 1, which names no other key). A `SCHEMA` value holds
//! `subject`, `version`, `id`, `schema` (the text), `deleted` (absent: false), `schemaType`
//! (absent: `AVRO`) and `references` (absent: none); other fields (`md5`, `metadata`,
//! `ruleSet`) do not change what an id resolves to. What an id resolves to, as the registries
//! do it:
//!
//! - a `SCHEMA` record registers its id under its subject and version; one marked `deleted`
//!   (soft-deleted) still resolves: the registries keep ids readable for consumers;
//! - `DELETE_SUBJECT` (`{subject, version}`) soft-deletes the subject's versions up to
//!   `version`: they still resolve;
//! - a tombstone (a null or empty value) of a `SCHEMA` key is a hard delete: that subject and
//!   version are gone, and the id with them unless another subject or version holds it;
//! - `CLEAR_SUBJECT` (`{subject}`) drops the soft-deleted versions of the subject (of every
//!   subject of a context when it names the context only, `:.ctx:`);
//! - ids are per context: a subject `:.ctx:name` is in context `.ctx`, any other in the
//!   default context `.`, where serializers that name no context look ids up.
//!
//! `CONFIG`, `MODE`, `NOOP`, `CONTEXT` and `ASSOC` records register no schema. A record whose key
//! or value is not the JSON the format says is counted as unreadable and skipped, as both
//! registries skip it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::cluster::factory;
use crate::state::read::partitions_of;
use crate::state::{RangeReader, ReadError};

/// The context of subjects that name none.
pub const DEFAULT_CONTEXT: &str = ".";

/// How long a read of the registry topic may go without a record.
const STALL: Duration = Duration::from_secs(60);

/// One schema an id resolves to.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// `AVRO`, `PROTOBUF` or `JSON`.
    pub schema_type: String,
    /// The schema text, as registered.
    pub schema: String,
    /// The schemas it references (`[{name, subject, version}]`), as stored.
    pub references: Value,
    /// The subjects and versions that hold the id, with whether each is soft-deleted.
    pub versions: Vec<(String, i32, bool)>,
}

impl Schema {
    /// The subject to name the schema by: its first live version's, else its first one's.
    pub fn subject(&self) -> &str {
        self.versions
            .iter()
            .find(|v| !v.2)
            .or(self.versions.first())
            .map_or("", |v| v.0.as_str())
    }

    /// The parts of `other` that differ from this schema: "schema", "schemaType",
    /// "references".
    pub fn differences(&self, other: &Schema) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.schema != other.schema {
            out.push("schema");
        }
        if self.schema_type != other.schema_type {
            out.push("schemaType");
        }
        if self.references != other.references {
            out.push("references");
        }
        out
    }
}

/// A subject's version as the topic holds it after the last record of its key.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    /// The offset of the record: the first registration names the id's text.
    offset: i64,
    id: i32,
    schema_type: String,
    schema: String,
    references: Value,
    deleted: bool,
}

/// What a registry's storage topic holds, folded as the registry folds it.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// Subject and version → the schema registered there.
    versions: BTreeMap<(String, i32), Stored>,
    /// Records read.
    pub records: u64,
    /// Offsets of the records that are not in the registry's format.
    pub unreadable: Vec<i64>,
}

impl Registry {
    /// Applies one record of the storage topic.
    pub fn apply(&mut self, offset: i64, key: Option<&[u8]>, value: Option<&[u8]>) {
        self.records += 1;
        if self.try_apply(offset, key, value).is_none() {
            self.unreadable.push(offset);
        }
    }

    /// `None` when the record is not in the format.
    fn try_apply(&mut self, offset: i64, key: Option<&[u8]>, value: Option<&[u8]>) -> Option<()> {
        let key: Value = serde_json::from_slice(key?).ok()?;
        let value: Option<Value> = match value {
            None | Some(b"") => None,
            Some(bytes) => match serde_json::from_slice::<Value>(bytes).ok()? {
                Value::Null => None,
                v @ Value::Object(_) => Some(v),
                _ => return None,
            },
        };
        let field = |v: &Value, name: &str| v.get(name).cloned();
        let text = |v: &Value, name: &str| v.get(name)?.as_str().map(str::to_string);
        let int = |v: &Value, name: &str| v.get(name)?.as_i64().and_then(|n| i32::try_from(n).ok());
        match key.get("keytype")?.as_str()? {
            "SCHEMA" => {
                let at = (text(&key, "subject")?, int(&key, "version")?);
                match value {
                    None => {
                        self.versions.remove(&at);
                    }
                    Some(v) => {
                        let stored = Stored {
                            offset,
                            id: int(&v, "id")?,
                            schema: text(&v, "schema")?,
                            schema_type: match field(&v, "schemaType") {
                                None | Some(Value::Null) => "AVRO".to_string(),
                                Some(Value::String(t)) => t,
                                Some(_) => return None,
                            },
                            references: match field(&v, "references") {
                                None | Some(Value::Null) => Value::Array(Vec::new()),
                                Some(r @ Value::Array(_)) => r,
                                Some(_) => return None,
                            },
                            deleted: match field(&v, "deleted") {
                                None | Some(Value::Null) => false,
                                Some(Value::Bool(d)) => d,
                                Some(_) => return None,
                            },
                        };
                        self.versions.insert(at, stored);
                    }
                }
            }
            "DELETE_SUBJECT" => {
                // A tombstone of another key type changes nothing.
                let Some(v) = value else { return Some(()) };
                let (subject, upto) = (text(&v, "subject")?, int(&v, "version")?);
                for ((s, version), stored) in self.versions.iter_mut() {
                    if *s == subject && *version <= upto {
                        stored.deleted = true;
                    }
                }
            }
            "CLEAR_SUBJECT" => {
                let Some(v) = value else { return Some(()) };
                let subject = text(&v, "subject")?;
                self.versions
                    .retain(|(s, _), stored| !(stored.deleted && clears(&subject, s)));
            }
            "CONFIG" | "MODE" | "NOOP" | "CONTEXT" | "ASSOC" => {}
            _ => return None,
        }
        Some(())
    }

    /// Whether the topic held any schema (live or soft-deleted).
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// Every id, by context and id, with the schema it resolves to.
    pub fn ids(&self) -> BTreeMap<(String, i32), Schema> {
        let mut out: BTreeMap<(String, i32), (i64, Schema)> = BTreeMap::new();
        for ((subject, version), stored) in &self.versions {
            let entry = out
                .entry((context_of(subject).to_string(), stored.id))
                .or_insert_with(|| {
                    (
                        stored.offset,
                        Schema {
                            schema_type: stored.schema_type.clone(),
                            schema: stored.schema.clone(),
                            references: stored.references.clone(),
                            versions: Vec::new(),
                        },
                    )
                });
            // The first registration of an id names its text: the registries refuse another
            // text under an id already taken.
            if stored.offset < entry.0 {
                entry.0 = stored.offset;
                entry.1.schema_type = stored.schema_type.clone();
                entry.1.schema = stored.schema.clone();
                entry.1.references = stored.references.clone();
            }
            entry
                .1
                .versions
                .push((subject.clone(), *version, stored.deleted));
        }
        out.into_iter().map(|(k, (_, s))| (k, s)).collect()
    }
}

/// The context of `subject`: `.ctx` for `:.ctx:name`, else the default context.
pub fn context_of(subject: &str) -> &str {
    subject
        .strip_prefix(':')
        .filter(|rest| rest.starts_with('.'))
        .and_then(|rest| rest.split_once(':'))
        .map_or(DEFAULT_CONTEXT, |(context, _)| context)
}

/// Whether a `CLEAR_SUBJECT` of `cleared` clears `subject`: the same subject, or a subject of
/// the context `cleared` names alone (`:.ctx:`).
fn clears(cleared: &str, subject: &str) -> bool {
    cleared == subject
        || (cleared.starts_with(":.")
            && cleared.ends_with(':')
            && cleared.len() > 2
            && context_of(subject) == context_of(cleared))
}

/// The registry in `topic` on one cluster (`side` names it in errors); `None` when the
/// cluster has no such topic.
pub fn read(
    props: &BTreeMap<String, String>,
    migration: &str,
    side: &'static str,
    topic: &str,
) -> Result<Option<Registry>, ReadError> {
    let config = factory::reader_config(props, migration, "verify");
    let consumer = factory::reader(&config).map_err(|source| ReadError::Topic {
        side,
        topic: topic.to_string(),
        source,
    })?;
    let mut reader = RangeReader::new(side, consumer, STALL);
    let exists = !partitions_of(reader.consumer(), topic, STALL)
        .map_err(|source| ReadError::Topic {
            side,
            topic: topic.to_string(),
            source,
        })?
        .is_empty();
    if !exists {
        return Ok(None);
    }
    let mut registry = Registry::default();
    reader.read_topic(topic, |offset, _, key, value| {
        registry.apply(offset, key, value)
    })?;
    Ok(Some(registry))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(subject: &str, version: i32) -> Vec<u8> {
        format!(r#"{{"keytype":"SCHEMA","subject":"{subject}","version":{version},"magic":1}}"#)
            .into_bytes()
    }

    fn value(subject: &str, version: i32, id: i32, schema: &str, deleted: bool) -> Vec<u8> {
        serde_json::json!({
            "subject": subject, "version": version, "id": id, "schema": schema,
            "deleted": deleted
        })
        .to_string()
        .into_bytes()
    }

    fn registry(records: &[(Vec<u8>, Option<Vec<u8>>)]) -> Registry {
        let mut r = Registry::default();
        for (offset, (k, v)) in records.iter().enumerate() {
            r.apply(offset as i64, Some(k.as_slice()), v.as_deref());
        }
        r
    }

    fn default_ids(r: &Registry) -> Vec<i32> {
        r.ids()
            .keys()
            .filter(|(c, _)| c == DEFAULT_CONTEXT)
            .map(|(_, id)| *id)
            .collect()
    }

    #[test]
    fn a_schema_record_registers_its_id_with_its_text_type_and_references() {
        let r = registry(&[
            (
                key("orders-value", 1),
                Some(value("orders-value", 1, 7, "\"string\"", false)),
            ),
            (
                key("pb-value", 1),
                Some(
                    serde_json::json!({
                        "subject": "pb-value", "version": 1, "id": 8, "schemaType": "PROTOBUF",
                        "schema": "syntax = \"proto3\";",
                        "references": [{"name": "a.proto", "subject": "a", "version": 1}],
                        "md5": "ignored", "deleted": false
                    })
                    .to_string()
                    .into_bytes(),
                ),
            ),
        ]);
        let ids = r.ids();
        let avro = &ids[&(".".to_string(), 7)];
        assert_eq!(avro.schema, "\"string\"");
        assert_eq!(avro.schema_type, "AVRO");
        assert_eq!(avro.references, Value::Array(vec![]));
        assert_eq!(avro.subject(), "orders-value");
        let pb = &ids[&(".".to_string(), 8)];
        assert_eq!(pb.schema_type, "PROTOBUF");
        assert_eq!(pb.references[0]["subject"], "a");
        assert!(r.unreadable.is_empty());
        assert_eq!(r.records, 2);
    }

    #[test]
    fn the_last_record_of_a_key_wins_and_a_tombstone_hard_deletes() {
        let r = registry(&[
            (key("s", 1), Some(value("s", 1, 1, "\"int\"", false))),
            (key("s", 2), Some(value("s", 2, 2, "\"long\"", false))),
            // Re-registered under another id, then version 2 hard-deleted.
            (key("s", 1), Some(value("s", 1, 3, "\"int\"", false))),
            (key("s", 2), None),
        ]);
        assert_eq!(default_ids(&r), vec![3]);
        // An empty value reads as a tombstone too, as Karapace reads it.
        let mut r2 = r.clone();
        r2.apply(9, Some(key("s", 1).as_slice()), Some(&b""[..]));
        assert!(r2.is_empty());
    }

    #[test]
    fn soft_deleted_versions_still_resolve_until_cleared() {
        let mut r = registry(&[
            (key("s", 1), Some(value("s", 1, 1, "\"int\"", false))),
            (key("s", 2), Some(value("s", 2, 2, "\"long\"", true))),
            (key("t", 1), Some(value("t", 1, 5, "\"bytes\"", false))),
        ]);
        r.apply(
            3,
            Some(&br#"{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}"#[..]),
            Some(&br#"{"subject":"s","version":1}"#[..]),
        );
        assert_eq!(default_ids(&r), vec![1, 2, 5]);
        let ids = r.ids();
        assert_eq!(
            ids[&(".".to_string(), 1)].versions,
            vec![("s".to_string(), 1, true)]
        );
        r.apply(
            4,
            Some(&br#"{"keytype":"CLEAR_SUBJECT","subject":"s","magic":0}"#[..]),
            Some(&br#"{"subject":"s"}"#[..]),
        );
        assert_eq!(default_ids(&r), vec![5]);
    }

    #[test]
    fn an_id_held_by_two_subjects_survives_the_hard_delete_of_one() {
        let r = registry(&[
            (key("a", 1), Some(value("a", 1, 4, "\"int\"", false))),
            (key("b", 1), Some(value("b", 1, 4, "\"int\"", false))),
            (key("a", 1), None),
        ]);
        let ids = r.ids();
        assert_eq!(
            ids[&(".".to_string(), 4)].versions,
            vec![("b".to_string(), 1, false)]
        );
    }

    #[test]
    fn the_first_registration_names_an_ids_text() {
        let r = registry(&[
            (key("b", 1), Some(value("b", 1, 4, "\"first\"", false))),
            (key("a", 1), Some(value("a", 1, 4, "\"second\"", false))),
        ]);
        assert_eq!(r.ids()[&(".".to_string(), 4)].schema, "\"first\"");
    }

    #[test]
    fn ids_are_per_context() {
        let r = registry(&[
            (
                key(":.staging:s", 1),
                Some(value(":.staging:s", 1, 1, "\"a\"", false)),
            ),
            (key("s", 1), Some(value("s", 1, 1, "\"b\"", false))),
        ]);
        let ids = r.ids();
        assert_eq!(ids[&(".staging".to_string(), 1)].schema, "\"a\"");
        assert_eq!(ids[&(".".to_string(), 1)].schema, "\"b\"");
        assert_eq!(context_of(":.staging:s"), ".staging");
        assert_eq!(context_of("s"), ".");
        assert_eq!(context_of(":not-a-context"), ".");
        assert!(clears(":.staging:", ":.staging:s"));
        assert!(!clears(":.staging:", "s"));
    }

    #[test]
    fn other_key_types_register_nothing_and_malformed_records_are_counted() {
        let r = registry(&[
            (
                br#"{"keytype":"CONFIG","subject":null,"magic":0}"#.to_vec(),
                Some(br#"{"compatibilityLevel":"BACKWARD"}"#.to_vec()),
            ),
            (br#"{"keytype":"NOOP","magic":0}"#.to_vec(), None),
            (
                br#"{"keytype":"MODE","subject":null,"magic":0}"#.to_vec(),
                Some(br#"{"mode":"READWRITE"}"#.to_vec()),
            ),
            (b"not json".to_vec(), Some(b"{}".to_vec())),
            (key("s", 1), Some(b"{\"subject\":\"s\"}".to_vec())),
            (br#"{"keytype":"SOMETHING_NEW"}"#.to_vec(), None),
        ]);
        assert!(r.is_empty());
        assert_eq!(r.unreadable, vec![3, 4, 5]);
        assert_eq!(r.records, 6);
    }
}
