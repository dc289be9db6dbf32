//! Applications on a cluster, for the tests that need them live: a producer writing to a topic
//! and a member of a group reading it, each on a thread of its own until stopped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kafka_harness::Cluster;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

/// A producer writing (idempotent, a record every 20 ms) and a group member reading (auto
/// commit), until stopped or dropped.
pub struct Live {
    stop: Arc<AtomicBool>,
    assigned: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Live {
    /// Writes to `topic` (to `partition` only, when given) and reads it as `client_id` in
    /// `group`.
    pub fn start(
        cluster: &Cluster,
        topic: &str,
        group: &str,
        client_id: &str,
        partition: Option<i32>,
    ) -> Live {
        let stop = Arc::new(AtomicBool::new(false));
        let assigned = Arc::new(AtomicBool::new(false));
        let producer: BaseProducer = cluster
            .admin_config()
            .set("enable.idempotence", "true")
            .set("linger.ms", "0")
            .create()
            .unwrap();
        let consumer: BaseConsumer = cluster
            .admin_config()
            .set("group.id", group)
            .set("client.id", client_id)
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "200")
            .create()
            .unwrap();
        consumer.subscribe(&[topic]).unwrap();
        let writing = {
            let (stop, topic) = (stop.clone(), topic.to_string());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("live-{i}");
                    let record = BaseRecord::<[u8], [u8]>::to(&topic)
                        .key(key.as_bytes())
                        .payload(&[7u8; 200][..]);
                    let _ = producer.send(match partition {
                        Some(p) => record.partition(p),
                        None => record,
                    });
                    producer.poll(Duration::from_millis(20));
                    i += 1;
                }
                let _ = producer.flush(Duration::from_secs(10));
            })
        };
        let reading = {
            let (stop, assigned) = (stop.clone(), assigned.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = consumer.poll(Duration::from_millis(100));
                    if consumer.assignment().is_ok_and(|a| a.count() > 0) {
                        assigned.store(true, Ordering::Relaxed);
                    }
                }
                // What it read is committed before it leaves.
                let _ = consumer.commit_consumer_state(CommitMode::Sync);
            })
        };
        Live {
            stop,
            assigned,
            threads: vec![writing, reading],
        }
    }

    /// Whether the group member has been assigned partitions.
    pub fn assigned(&self) -> bool {
        self.assigned.load(Ordering::Relaxed)
    }

    /// Stops both, the producer flushed and the member's offsets committed.
    pub fn stop(mut self) {
        self.end();
    }

    fn end(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.end();
    }
}
