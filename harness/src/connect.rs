//! Kafka Connect and MirrorMaker 2 from the same Apache Kafka release as the brokers: a
//! distributed Connect worker (for the Connect engine) and MirrorMaker 2 in dedicated mode
//! (the baseline benchmarks compare against). Both die with the process that started them.

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::process::ChildProcess;
use crate::runtime::Runtime;
use crate::{io_err, HarnessError, Result};

/// A running Kafka Connect distributed worker.
pub struct ConnectWorker {
    process: ChildProcess,
    port: u16,
    dir: PathBuf,
}

impl ConnectWorker {
    /// Starts a worker from `properties` (a `connect-distributed.properties` text); the REST
    /// listener is set to a free loopback port. Returns once the REST API answers.
    pub fn start(name: &str, properties: &str) -> Result<ConnectWorker> {
        let runtime = Runtime::resolve()?;
        let dir = crate::shared::run_dir().join(name);
        fs::create_dir_all(&dir).map_err(io_err("creating the Connect folder"))?;
        let port = crate::cluster::allocate_ports(1, None)?[0];
        let text = format!(
            "{properties}\nlisteners=http://127.0.0.1:{port}\nrest.advertised.host.name=127.0.0.1\nrest.advertised.port={port}\nplugin.discovery=only_scan\n"
        );
        let config = dir.join("connect-distributed.properties");
        fs::write(&config, text).map_err(io_err("writing the worker properties"))?;
        let mut cmd = runtime.java_command(768);
        cmd.arg("org.apache.kafka.connect.cli.ConnectDistributed")
            .arg(&config);
        let process = ChildProcess::spawn(cmd, &dir.join("connect.log"))?;
        let mut worker = ConnectWorker { process, port, dir };
        worker.wait_ready()?;
        Ok(worker)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if self.process.exited().is_some() {
                crate::shared::keep_logs();
                return Err(HarnessError::Other(format!(
                    "the Connect worker exited; see {}",
                    self.process.log().display()
                )));
            }
            if TcpStream::connect_timeout(
                &([127, 0, 0, 1], self.port).into(),
                Duration::from_millis(500),
            )
            .is_ok()
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        crate::shared::keep_logs();
        Err(HarnessError::Other(format!(
            "the Connect worker's REST API did not answer in 120s; see {}",
            self.process.log().display()
        )))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Stops the worker cleanly (SIGTERM: its tasks stop and commit their source offsets).
    pub fn stop(&mut self) {
        self.process.terminate();
    }
}

/// MirrorMaker 2 in dedicated mode (`connect-mirror-maker`), for comparisons.
pub struct MirrorMaker {
    process: ChildProcess,
}

impl MirrorMaker {
    /// Starts MirrorMaker 2 with an `mm2.properties` text.
    pub fn start(name: &str, properties: &str, heap_mb: u32) -> Result<MirrorMaker> {
        let runtime = Runtime::resolve()?;
        let dir = crate::shared::run_dir().join(name);
        fs::create_dir_all(&dir).map_err(io_err("creating the MirrorMaker folder"))?;
        let config = dir.join("mm2.properties");
        fs::write(&config, properties).map_err(io_err("writing mm2.properties"))?;
        let mut cmd = runtime.java_command(heap_mb);
        cmd.arg("org.apache.kafka.connect.mirror.MirrorMaker")
            .arg(&config);
        let process = ChildProcess::spawn(cmd, &dir.join("mirror-maker.log"))?;
        Ok(MirrorMaker { process })
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.process.exited().is_none()
    }

    pub fn log(&self) -> &Path {
        self.process.log()
    }

    /// Stops MirrorMaker 2 (SIGTERM) and says what it used over its life.
    pub fn stop_and_measure(&mut self) -> Result<crate::process::Usage> {
        self.process
            .terminate_measured()
            .map_err(io_err("waiting for MirrorMaker 2"))
    }
}
