//! Running the engine: read committed progress from the target, start one blocking task per
//! partition set, forward their events, stop them together.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::progress::{Progress, ProgressKey, ProgressValue};
use super::task::{reader_config, SourceContext, Task};
use super::{assign, Event, ReplicateError, Settings};

/// How a run ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub tasks: usize,
    pub partitions: usize,
}

/// Reads the migration's progress topic on the target, read_committed, start to end.
pub fn read_progress(settings: &Settings) -> Result<Progress, ReplicateError> {
    let err = |e: KafkaError| ReplicateError::Progress(e.to_string());
    let consumer: BaseConsumer<SourceContext> =
        reader_config(&settings.target, &settings.migration, "progress-reader")
            .create_with_context(SourceContext)
            .map_err(err)?;
    let topic = &settings.progress_topic;
    let md = consumer
        .fetch_metadata(Some(topic), settings.request_timeout)
        .map_err(err)?;
    let partitions: Vec<i32> = md
        .topics()
        .first()
        .filter(|t| t.error().is_none())
        .map(|t| t.partitions().iter().map(|p| p.id()).collect())
        .unwrap_or_default();
    let mut progress = Progress::default();
    if partitions.is_empty() {
        return Ok(progress);
    }
    let mut tpl = TopicPartitionList::new();
    let mut remaining = 0;
    for p in &partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, *p, settings.request_timeout)
            .map_err(err)?;
        if high > low {
            tpl.add_partition_offset(topic, *p, Offset::Beginning)
                .map_err(err)?;
            remaining += 1;
        }
    }
    if remaining == 0 {
        return Ok(progress);
    }
    consumer.assign(&tpl).map_err(err)?;
    while remaining > 0 {
        match consumer.poll(settings.request_timeout) {
            None => {
                return Err(ReplicateError::Progress(format!(
                    "no answer reading {topic}"
                )))
            }
            Some(Err(KafkaError::PartitionEOF(_))) => remaining -= 1,
            Some(Err(e)) => return Err(err(e)),
            Some(Ok(m)) => {
                let key = m.key().and_then(ProgressKey::decode);
                let value = m.payload().and_then(ProgressValue::decode);
                if let (Some(key), Some(value)) = (key, value) {
                    progress.apply(&key, &value);
                }
            }
        }
    }
    Ok(progress)
}

/// Replicates `partitions` until `stop` is set or, with `settings.until_synced`, until every
/// partition has caught up. Events go to `events` as they happen.
pub async fn replicate(
    settings: Arc<Settings>,
    partitions: Vec<(String, i32)>,
    stop: Arc<AtomicBool>,
    events: tokio::sync::mpsc::UnboundedSender<Event>,
) -> Result<RunSummary, ReplicateError> {
    let progress = {
        let settings = settings.clone();
        tokio::task::spawn_blocking(move || read_progress(&settings))
            .await
            .map_err(|e| ReplicateError::Panicked(e.to_string()))??
    };
    let progress = Arc::new(progress);
    let summary = RunSummary {
        tasks: 0,
        partitions: partitions.len(),
    };
    let sets = assign(partitions, settings.tasks);
    let mut handles = tokio::task::JoinSet::new();
    for (id, set) in sets.into_iter().enumerate() {
        let task = Task {
            id,
            partitions: set,
        };
        let (settings, progress, stop, events) = (
            settings.clone(),
            progress.clone(),
            stop.clone(),
            events.clone(),
        );
        handles.spawn_blocking(move || {
            let forward = |e: Event| {
                let _ = events.send(e);
            };
            task.run(&settings, &progress, &stop, &forward)
        });
    }
    let summary = RunSummary {
        tasks: handles.len(),
        ..summary
    };
    let mut first_error = None;
    while let Some(joined) = handles.join_next().await {
        let result = joined
            .map_err(|e| ReplicateError::Panicked(e.to_string()))
            .and_then(|r| r);
        if let Err(e) = result {
            // One task failing stops the others: they drain and commit what they have.
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            if first_error.is_none() {
                first_error = Some(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}
