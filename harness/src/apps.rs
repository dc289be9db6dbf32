//! Applications whose state lives on a cluster, run from Apache Kafka's own jars as subjects
//! of the tests that move them: a Kafka Streams word count (exactly-once, a persistent state
//! store backed by its changelog, a repartition topic). Kafka Connect workers are in
//! [`crate::connect`]. Each dies with the process that started it.

use std::fs;
use std::path::Path;

use crate::process::ChildProcess;
use crate::runtime::Runtime;
use crate::{io_err, Result};

/// The word count's source, compiled once against the runtime's jars.
const WORD_COUNT: (&str, &str) = ("WordCount.java", include_str!("../java/WordCount.java"));

/// A running Kafka Streams application.
pub struct StreamsApp {
    process: ChildProcess,
}

impl StreamsApp {
    /// Starts the word count as `application_id` on the cluster at `bootstrap` (PLAINTEXT),
    /// reading lines from `input` and writing each word's new count (as text) to `output`,
    /// its stores under `state_dir`. `name` names its folder of the run (and log).
    pub fn word_count(
        name: &str,
        bootstrap: &str,
        application_id: &str,
        input: &str,
        output: &str,
        state_dir: &Path,
    ) -> Result<StreamsApp> {
        let runtime = Runtime::resolve()?;
        let classes = runtime.compiled(&[WORD_COUNT])?;
        let dir = crate::shared::run_dir().join(name);
        fs::create_dir_all(&dir).map_err(io_err("creating the application's folder"))?;
        let mut cmd = runtime.java_command_with(384, Some(&classes));
        cmd.arg("kafkamigrate.harness.WordCount")
            .arg(bootstrap)
            .arg(application_id)
            .arg(input)
            .arg(output)
            .arg(state_dir);
        let process = ChildProcess::spawn(cmd, &dir.join("streams.log"))?;
        Ok(StreamsApp { process })
    }

    /// Whether the application is still running.
    pub fn running(&mut self) -> bool {
        self.process.exited().is_none()
    }

    pub fn log(&self) -> &Path {
        self.process.log()
    }

    /// Stops the application cleanly (SIGTERM: it commits what it processed and closes).
    pub fn stop(&mut self) {
        self.process.terminate();
    }
}
