//! The names kafka-migrate gives what it creates for a migration — its progress topic, its
//! transactional ids and client ids, the Connect worker's topics and MirrorMaker 2's alias —
//! all built here from the migration's name, and nowhere else. Pure functions, no I/O.

/// The progress topic of a migration.
pub fn progress_topic(migration: &str) -> String {
    let safe: String = migration
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("kafka-migrate.{safe}.progress")
}

/// The name the built-in engine runs under when it replicates back from the target to the
/// source after the cutover (failback): its transactional ids and client ids carry it.
pub fn failback(migration: &str) -> String {
    format!("{migration}.failback")
}

/// The failback's progress topic, on the source: where replication back from the target got
/// to, written in the same transactions as the records it appends to the source.
pub fn failback_progress_topic(migration: &str) -> String {
    progress_topic(&failback(migration))
}

/// The transactional id of a task of the built-in engine: stable per migration and task, so
/// that a restarted or second run fences the one before.
pub fn transactional_id(migration: &str, task: usize) -> String {
    format!("kafka-migrate-{migration}-task-{task}")
}

/// The client id of one of the migration's clients (`role`: `task-3`, `progress-writer`, …).
pub fn client_id(migration: &str, role: &str) -> String {
    format!("kafka-migrate-{migration}-{role}")
}

/// MirrorMaker 2's alias of the source cluster: the migration's name, so that its internal
/// topics (offset syncs, checkpoints) name the migration.
pub fn source_alias(migration: &str) -> String {
    migration.to_string()
}

/// The Connect worker's internal topic of `kind` (`configs`, `offsets`, `status`) for this
/// migration, on the target.
pub fn worker_topic(migration: &str, kind: &str) -> String {
    format!("kafka-migrate.{migration}.connect-{kind}")
}

/// The offset-syncs topic MirrorMaker 2 keeps on the target for this migration; its presence
/// on the target says that MirrorMaker 2 replicated the migration.
pub fn offset_syncs_topic(migration: &str) -> String {
    format!("mm2-offset-syncs.{}.internal", source_alias(migration))
}

/// Every topic name the migration may create, for checking that its name makes valid ones.
pub fn internal_topics(migration: &str) -> Vec<String> {
    let mut topics = vec![
        progress_topic(migration),
        failback_progress_topic(migration),
        offset_syncs_topic(migration),
    ];
    topics.extend(["configs", "offsets", "status"].map(|k| worker_topic(migration, k)));
    topics
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_topic_names_are_valid_kafka_names() {
        assert_eq!(
            progress_topic("orders-to-msk"),
            "kafka-migrate.orders-to-msk.progress"
        );
        assert_eq!(progress_topic("a b/c"), "kafka-migrate.a_b_c.progress");
        assert_eq!(
            failback_progress_topic("orders-to-msk"),
            "kafka-migrate.orders-to-msk_failback.progress"
        );
    }

    #[test]
    fn every_internal_name_carries_the_migration_name() {
        for topic in internal_topics("orders") {
            assert!(topic.contains("orders"), "{topic}");
        }
        assert_eq!(transactional_id("orders", 2), "kafka-migrate-orders-task-2");
        assert_eq!(client_id("orders", "task-2"), "kafka-migrate-orders-task-2");
    }
}
