//! Kafka's own command-line tools (kafka-acls, kafka-configs, kafka-consumer-groups, …), run
//! from the same release as the brokers. Tests use them as an independent oracle and to set up
//! state that kafka-migrate itself must not be trusted to create.

use std::fs;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::cluster::{Cluster, User, ADMIN};
use crate::process::ChildProcess;
use crate::{io_err, HarnessError, Result};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A Kafka command-line tool, by the main class its shell script runs.
#[derive(Debug, Clone, Copy)]
pub enum Tool {
    Acls,
    Configs,
    ConsumerGroups,
    Topics,
}

impl Tool {
    fn class(self) -> &'static str {
        match self {
            Tool::Acls => "org.apache.kafka.tools.AclCommand",
            Tool::Configs => "kafka.admin.ConfigCommand",
            Tool::ConsumerGroups => "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
            Tool::Topics => "org.apache.kafka.tools.TopicCommand",
        }
    }
}

impl Cluster {
    /// Runs `tool` against this cluster as the super user and returns its standard output.
    pub fn tool(&self, tool: Tool, args: &[&str]) -> Result<String> {
        self.tool_as(ADMIN, tool, args)
    }

    /// Runs `tool` against this cluster as `user` and returns its standard output.
    pub fn tool_as(&self, user: User, tool: Tool, args: &[&str]) -> Result<String> {
        let props = self.java_client_properties(user)?;
        // The current release's tools, whichever release the brokers run.
        let mut cmd = crate::runtime::Runtime::resolve()?.tool_command();
        cmd.arg(tool.class())
            .arg("--bootstrap-server")
            .arg(self.bootstrap())
            .arg("--command-config")
            .arg(&props)
            .args(args);
        let dir = crate::shared::run_dir().join("tools");
        fs::create_dir_all(&dir).map_err(io_err("creating the tools folder"))?;
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let (out, err) = (dir.join(format!("{n}.out")), dir.join(format!("{n}.err")));
        let mut child = ChildProcess::spawn_split(cmd, &out, &err)?;
        let status = child.wait();
        let stdout = fs::read_to_string(&out).unwrap_or_default();
        if !status.is_some_and(|s| s.success()) {
            return Err(HarnessError::Tool {
                tool: format!("{tool:?} {}", args.join(" ")),
                status: format!("{status:?}"),
                output: format!("{stdout}{}", fs::read_to_string(&err).unwrap_or_default()),
            });
        }
        Ok(stdout)
    }
}
