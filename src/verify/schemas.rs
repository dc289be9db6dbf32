//! `schema ids`: records framed by a schema registry serializer (magic byte 0, then the schema
//! id as a 4-byte big-endian integer — Confluent's wire format, which Karapace shares) must
//! find their schema in the target's registry, under the same id, with the source's text.
//! The registries are their storage topics (`schema_registry.topic`, `_schemas` by default),
//! read on both clusters as the registries read them ([`super::registry`]); the records are
//! the target's, over the ranges `data parity` compares (`cutover.data_check`: every
//! replicated record, or the tail and sampled windows).
//!
//! Keys and values are both checked: Confluent's serializers frame either. A key or value
//! shorter than 5 bytes, or whose first byte is not 0, is not framed. A topic's keys (or
//! values) count as registry data when at least one framed key (value) read references an id
//! the source's registry holds: an 8-byte integer key also starts with 0, and a topic none of
//! whose ids the source's registry knows is reported as not registry data rather than failed.
//!
//! Fails when a framed record's id is not in the target's registry (naming topic, partition,
//! offset, key or value, and the id), when an id's schema differs between the registries
//! (naming the id and subject), when the registry topic is migrated but an id of the source's
//! registry is missing from the target's, and when the registry topic is not migrated while
//! records reference ids that the target's registry does not hold as the source's does.

use std::collections::{BTreeMap, BTreeSet};

use rdkafka::message::{BorrowedMessage, Message};

use crate::config::{DataCheck, Migration};

use super::parity::{self, Window};
use super::registry::{self, Registry, Schema, DEFAULT_CONTEXT};
use super::{Check, Fact, Findings};

pub const NAME: &str = "schema ids";

/// Which part of a record is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    Key,
    Value,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Key => "key",
            Field::Value => "value",
        }
    }
}

/// The schema id a key or value is framed with: magic byte 0, then 4 bytes of id.
pub fn framed_id(bytes: Option<&[u8]>) -> Option<i32> {
    match bytes? {
        [0, a, b, c, d, ..] => Some(i32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// Where one id was seen in one partition: the first offset and how many records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    first_offset: i64,
    records: u64,
}

/// What the records read say: counts, and where each id was seen.
#[derive(Debug, Default)]
pub struct Scan {
    records: u64,
    framed_keys: u64,
    framed_values: u64,
    unframed: u64,
    /// Topic, field and id → partition → where it was seen.
    uses: BTreeMap<(String, Field, i32), BTreeMap<i32, Seen>>,
    /// Per partition, the offsets already read (first, last): sampled windows may overlap.
    read: BTreeMap<(String, i32), Vec<(i64, i64)>>,
}

impl Scan {
    /// Takes one record into account (once, however many windows hold it).
    fn record(
        &mut self,
        topic: &str,
        partition: i32,
        offset: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) {
        let part = (topic.to_string(), partition);
        if self
            .read
            .get(&part)
            .is_some_and(|spans| spans.iter().any(|(a, b)| (*a..=*b).contains(&offset)))
        {
            return;
        }
        self.records += 1;
        let mut framed = false;
        for (field, bytes) in [(Field::Key, key), (Field::Value, value)] {
            let Some(id) = framed_id(bytes) else { continue };
            framed = true;
            match field {
                Field::Key => self.framed_keys += 1,
                Field::Value => self.framed_values += 1,
            }
            self.uses
                .entry((topic.to_string(), field, id))
                .or_default()
                .entry(partition)
                .and_modify(|s| s.records += 1)
                .or_insert(Seen {
                    first_offset: offset,
                    records: 1,
                });
        }
        if !framed {
            self.unframed += 1;
        }
    }

    /// Marks `first..=last` of a partition as read.
    fn mark_read(&mut self, topic: &str, partition: i32, first: i64, last: i64) {
        self.read
            .entry((topic.to_string(), partition))
            .or_default()
            .push((first, last));
    }
}

/// The `schema ids` check (`cutover.data_check` decides how many records are read).
pub async fn check(migration: &Migration, survey: &crate::survey::Survey) -> Check {
    if migration.cutover.data_check == DataCheck::None {
        return Check::skip(NAME, "cutover.data_check = \"none\"");
    }
    let topic = migration.schema_registry.topic.clone();
    let seed = parity::seed();
    let rounds: Vec<Vec<Window>> = super::windows(migration, survey, seed)
        .into_iter()
        .map(|round| {
            round
                .into_iter()
                .filter(|w| w.source.topic != topic)
                .collect()
        })
        .collect();
    let source = crate::cluster::factory::properties(migration, crate::cluster::Role::Source);
    let target = crate::cluster::factory::properties(migration, crate::cluster::Role::Target);
    let name = migration.name.clone();
    let selected = migration.topics.selects(&topic);
    // A migrated registry topic is on the target under the name the migration gives it.
    let target_topic = if selected {
        migration.topics.rename.target(&topic).into_owned()
    } else {
        topic.clone()
    };
    let how = parity::coverage(migration.cutover.data_check, seed);
    let result = tokio::task::spawn_blocking(move || {
        let Some(on_source) = registry::read(&source, &name, "source", &topic)?
            .filter(|r| !r.is_empty() || !r.unreadable.is_empty())
        else {
            return Ok(Check::skip(
                NAME,
                format!(
                    "no schema registry topic \"{topic}\" readable on the source (schema_registry.topic)"
                ),
            ));
        };
        if rounds.iter().all(Vec::is_empty) {
            return Ok(Check::skip(NAME, "nothing replicated yet to check"));
        }
        let on_target = registry::read(&target, &name, "target", &target_topic)?;
        let mut scan = Scan::default();
        for round in &rounds {
            let ranges: Vec<parity::DigestRange> = round.iter().map(|w| w.target.clone()).collect();
            let mut spans: Vec<Option<(i64, i64)>> = vec![None; ranges.len()];
            parity::read_ranges(
                &target,
                &name,
                "target",
                &ranges,
                |i, m: &BorrowedMessage<'_>| {
                    scan.record(
                        &ranges[i].topic,
                        ranges[i].partition,
                        m.offset(),
                        m.key(),
                        m.payload(),
                    );
                    let o = m.offset();
                    spans[i] = Some(spans[i].map_or((o, o), |(a, _)| (a, o)));
                },
            )?;
            for (r, span) in ranges.iter().zip(spans) {
                if let Some((first, last)) = span {
                    scan.mark_read(&r.topic, r.partition, first, last);
                }
            }
        }
        Ok::<Check, parity::ParityError>(judge(
            &scan,
            &on_source,
            on_target.as_ref(),
            &topic,
            selected,
            &how,
        ))
    })
    .await;
    match result {
        Ok(Ok(check)) => check,
        Ok(Err(e)) => Check::failed(
            NAME,
            "could not read the registry topic or the records",
            e.to_string(),
        ),
        Err(e) => Check::failed(NAME, "the schema id check stopped", e.to_string()),
    }
}

/// The verdict on what was read: `source` and `target` are the registries (the target may
/// have none), `topic` the registry topic and `selected` whether the migration moves it.
pub fn judge(
    scan: &Scan,
    source: &Registry,
    target: Option<&Registry>,
    topic: &str,
    selected: bool,
    how: &str,
) -> Check {
    let source_ids = source.ids();
    let target_ids = target.map(Registry::ids).unwrap_or_default();
    let resolves = |ids: &BTreeMap<(String, i32), Schema>, id: i32| {
        ids.get(&(DEFAULT_CONTEXT.to_string(), id)).is_some()
    };
    // The topics' keys and values that hold registry data.
    let registry_data: BTreeSet<(&str, Field)> = scan
        .uses
        .keys()
        .filter(|(_, _, id)| resolves(&source_ids, *id))
        .map(|(t, f, _)| (t.as_str(), *f))
        .collect();
    let mut f = Findings::default();
    let mut referenced: BTreeMap<i32, u64> = BTreeMap::new();
    let mut not_registry: BTreeMap<(&str, Field), u64> = BTreeMap::new();
    for ((t, field, id), partitions) in &scan.uses {
        let records: u64 = partitions.values().map(|s| s.records).sum();
        if !registry_data.contains(&(t.as_str(), *field)) {
            *not_registry.entry((t.as_str(), *field)).or_default() += records;
            continue;
        }
        *referenced.entry(*id).or_default() += records;
        if resolves(&target_ids, *id) {
            continue;
        }
        for (partition, seen) in partitions {
            f.failures.push(
                Fact::SchemaIdMissing {
                    topic: t.clone(),
                    partition: *partition,
                    target_offset: seen.first_offset,
                    field: field.as_str(),
                    id: *id,
                    records: seen.records,
                    in_source: resolves(&source_ids, *id),
                }
                .into(),
            );
        }
    }
    for ((context, id), schema) in &source_ids {
        let is_referenced = context == DEFAULT_CONTEXT && referenced.contains_key(id);
        if !selected && !is_referenced {
            continue;
        }
        match target_ids.get(&(context.clone(), *id)) {
            Some(there) => {
                let fields = schema.differences(there);
                if !fields.is_empty() {
                    f.failures.push(
                        Fact::SchemaDiffers {
                            id: *id,
                            subject: schema.subject().to_string(),
                            fields,
                        }
                        .into(),
                    );
                }
            }
            // A referenced id missing is told record by record above.
            None if !is_referenced => f.failures.push(
                Fact::SchemaMissing {
                    id: *id,
                    subject: schema.subject().to_string(),
                }
                .into(),
            ),
            None => {}
        }
    }
    if !selected && !referenced.is_empty() {
        let fact = Fact::RegistryNotMigrated {
            topic: topic.to_string(),
            ids: referenced.len(),
        };
        if f.failures.is_empty() {
            f.warnings.push(fact.into());
        } else {
            f.failures.insert(0, fact.into());
        }
    }
    for (side, registry) in [("source", Some(source)), ("target", target)] {
        if let Some(first) = registry.and_then(|r| r.unreadable.first()) {
            f.warnings.push(
                Fact::RegistryUnreadable {
                    side,
                    topic: topic.to_string(),
                    records: registry.map_or(0, |r| r.unreadable.len()),
                    first_offset: *first,
                }
                .into(),
            );
        }
    }
    for (id, records) in &referenced {
        let key = (DEFAULT_CONTEXT.to_string(), *id);
        let subject = target_ids
            .get(&key)
            .or(source_ids.get(&key))
            .map(|s| s.subject().to_string());
        f.notes.push(
            Fact::SchemaIdRecords {
                id: *id,
                subject,
                records: *records,
            }
            .into(),
        );
    }
    for ((t, field), records) in not_registry {
        f.notes.push(
            Fact::NotRegistryFramed {
                topic: t.to_string(),
                field: field.as_str(),
                records,
            }
            .into(),
        );
    }
    f.notes.push(
        Fact::SchemaScan {
            records: scan.records,
            framed_keys: scan.framed_keys,
            framed_values: scan.framed_values,
            unframed: scan.unframed,
        }
        .into(),
    );
    let passed = if referenced.is_empty() {
        format!(
            "no record read references a schema of \"{topic}\" ({} record(s) read, {} not framed); {how}",
            scan.records, scan.unframed
        )
    } else {
        format!(
            "{} schema id(s) referenced by {} record(s) resolve in the target's \"{topic}\" with the source's schema ({} not framed); {how}",
            referenced.len(),
            scan.records - scan.unframed,
            scan.unframed
        )
    };
    f.check(NAME, passed, |n| format!("{n} schema id problem(s)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{CheckStatus, Finding, Level};

    fn registry(schemas: &[(&str, i32, i32, &str)]) -> Registry {
        let mut r = Registry::default();
        for (offset, (subject, version, id, schema)) in schemas.iter().enumerate() {
            let key = format!(
                r#"{{"keytype":"SCHEMA","subject":"{subject}","version":{version},"magic":1}}"#
            );
            let value = serde_json::json!({
                "subject": subject, "version": version, "id": id, "schema": schema,
                "deleted": false
            })
            .to_string();
            r.apply(offset as i64, Some(key.as_bytes()), Some(value.as_bytes()));
        }
        r
    }

    fn framed(id: i32, body: &[u8]) -> Vec<u8> {
        let mut out = vec![0];
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    /// A record read: topic, partition, offset, key, value.
    type Read<'a> = (&'a str, i32, i64, Option<Vec<u8>>, Option<Vec<u8>>);

    fn scan(records: &[Read<'_>]) -> Scan {
        let mut s = Scan::default();
        for (topic, partition, offset, key, value) in records {
            s.record(topic, *partition, *offset, key.as_deref(), value.as_deref());
        }
        s
    }

    fn failures(check: &Check) -> Vec<&Fact> {
        check
            .findings
            .iter()
            .filter(|f| f.level == Level::Failure)
            .map(|f| &f.fact)
            .collect()
    }

    #[test]
    fn framing_is_magic_byte_zero_and_four_bytes_of_id() {
        assert_eq!(framed_id(Some(&framed(258, b"x"))), Some(258));
        assert_eq!(framed_id(Some(&[0, 0, 0, 0, 7])), Some(7));
        assert_eq!(framed_id(Some(&[0, 0, 0, 7])), None);
        assert_eq!(framed_id(Some(b"{\"a\":1}")), None);
        assert_eq!(framed_id(Some(&[1, 0, 0, 0, 7])), None);
        assert_eq!(framed_id(None), None);
    }

    #[test]
    fn every_id_resolving_with_the_same_text_passes_with_counts_by_id() {
        let source = registry(&[("t-value", 1, 1, "\"string\""), ("t-key", 1, 2, "\"long\"")]);
        let target = source.clone();
        let s = scan(&[
            ("t", 0, 0, Some(framed(2, b"k")), Some(framed(1, b"v"))),
            ("t", 0, 1, None, Some(framed(1, b"v"))),
            ("t", 1, 0, Some(b"plain".to_vec()), Some(b"plain".to_vec())),
        ]);
        let check = judge(&s, &source, Some(&target), "_schemas", true, "every record");
        assert_eq!(check.status, CheckStatus::Pass, "{check:#?}");
        assert!(check.findings.contains(&Finding {
            level: Level::Note,
            fact: Fact::SchemaIdRecords {
                id: 1,
                subject: Some("t-value".into()),
                records: 2
            }
        }));
        assert!(check.findings.contains(&Finding {
            level: Level::Note,
            fact: Fact::SchemaScan {
                records: 3,
                framed_keys: 1,
                framed_values: 2,
                unframed: 1
            }
        }));
        assert!(
            check.summary.contains("2 schema id(s)"),
            "{}",
            check.summary
        );
    }

    #[test]
    fn an_id_the_target_lacks_fails_naming_topic_partition_offset_and_id() {
        let source = registry(&[("t-value", 1, 1, "\"string\"")]);
        let target = source.clone();
        let s = scan(&[
            ("t", 0, 0, None, Some(framed(1, b"v"))),
            ("t", 2, 5, None, Some(framed(99, b"v"))),
            ("t", 2, 6, None, Some(framed(99, b"v"))),
        ]);
        let check = judge(&s, &source, Some(&target), "_schemas", true, "");
        assert_eq!(check.status, CheckStatus::Fail);
        assert_eq!(
            failures(&check),
            vec![&Fact::SchemaIdMissing {
                topic: "t".into(),
                partition: 2,
                target_offset: 5,
                field: "value",
                id: 99,
                records: 2,
                in_source: false
            }]
        );
    }

    #[test]
    fn a_schema_that_differs_under_an_id_fails_naming_id_and_subject() {
        let source = registry(&[("t-value", 1, 1, "\"string\"")]);
        let target = registry(&[("t-value", 1, 1, "\"bytes\"")]);
        let s = scan(&[("t", 0, 0, None, Some(framed(1, b"v")))]);
        let check = judge(&s, &source, Some(&target), "_schemas", true, "");
        assert_eq!(
            failures(&check),
            vec![&Fact::SchemaDiffers {
                id: 1,
                subject: "t-value".into(),
                fields: vec!["schema"]
            }]
        );
    }

    #[test]
    fn a_migrated_registry_must_hold_every_source_id() {
        let source = registry(&[("a", 1, 1, "\"string\""), ("b", 1, 2, "\"int\"")]);
        let target = registry(&[("a", 1, 1, "\"string\"")]);
        let s = scan(&[("t", 0, 0, None, Some(framed(1, b"v")))]);
        let check = judge(&s, &source, Some(&target), "_schemas", true, "");
        assert_eq!(
            failures(&check),
            vec![&Fact::SchemaMissing {
                id: 2,
                subject: "b".into()
            }]
        );
        // Not migrated: only the ids records reference matter.
        let check = judge(&s, &source, Some(&target), "_schemas", false, "");
        assert_eq!(check.status, CheckStatus::Warn);
    }

    #[test]
    fn a_registry_left_out_fails_when_records_reference_ids_the_target_lacks() {
        let source = registry(&[("t-value", 1, 1, "\"string\"")]);
        let s = scan(&[("t", 0, 3, None, Some(framed(1, b"v")))]);
        let check = judge(&s, &source, None, "_schemas", false, "");
        assert_eq!(check.status, CheckStatus::Fail);
        let got = failures(&check);
        assert_eq!(
            got[0],
            &Fact::RegistryNotMigrated {
                topic: "_schemas".into(),
                ids: 1
            }
        );
        assert!(matches!(
            got[1],
            Fact::SchemaIdMissing {
                id: 1,
                target_offset: 3,
                in_source: true,
                ..
            }
        ));
    }

    #[test]
    fn keys_that_only_look_framed_are_not_registry_data() {
        let source = registry(&[("t-value", 1, 1, "\"string\"")]);
        // An 8-byte big-endian integer key starts with 0.
        let s = scan(&[(
            "t",
            0,
            0,
            Some(5u64.to_be_bytes().to_vec()),
            Some(framed(1, b"v")),
        )]);
        let check = judge(&s, &source, Some(&source.clone()), "_schemas", true, "");
        assert_eq!(check.status, CheckStatus::Pass, "{check:#?}");
        assert!(check.findings.iter().any(|f| f.fact
            == Fact::NotRegistryFramed {
                topic: "t".into(),
                field: "key",
                records: 1
            }));
    }

    #[test]
    fn records_in_overlapping_windows_count_once() {
        let mut s = Scan::default();
        let v = framed(1, b"v");
        s.record("t", 0, 10, None, Some(v.as_slice()));
        s.mark_read("t", 0, 10, 10);
        s.record("t", 0, 10, None, Some(v.as_slice()));
        s.record("t", 0, 11, None, Some(v.as_slice()));
        assert_eq!(s.records, 2);
        assert_eq!(s.framed_values, 2);
    }
}
