//! Clusters of Kafka JVMs on loopback ports: KRaft clusters of combined broker+controller
//! nodes, or, for a release on ZooKeeper ([`Release::zookeeper`]), brokers beside one
//! standalone ZooKeeper server. Nodes can be killed, frozen and started again one by one.
//!
//! Three flavours: `Plain` (PLAINTEXT, no authorizer), `Secure` (SASL_PLAINTEXT with
//! SCRAM-SHA-512 users, the StandardAuthorizer, `admin` as super user and
//! `allow.everyone.if.no.acl.found=false`) and `Tls` (an SSL listener that requires client
//! certificates and a SASL_SSL SCRAM-SHA-512 listener, certificates made at start, see
//! [`crate::tls`]). Readiness is decided by asking the cluster for
//! metadata, never by waiting a fixed time.

use std::fmt::Write as _;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::process::ChildProcess;
use crate::runtime::{Release, Runtime};
use crate::tls::TlsFiles;
use crate::{io_err, HarnessError, Result};

/// A SCRAM user of the `Secure` flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    pub name: &'static str,
    pub password: &'static str,
}

/// The super user of a `Secure` cluster (also the brokers' inter-broker identity).
pub const ADMIN: User = User {
    name: "admin",
    password: "admin-secret",
};
/// An ordinary user with no ACLs until a test grants some.
pub const ALICE: User = User {
    name: "alice",
    password: "alice-secret",
};
/// A second ordinary user.
pub const BOB: User = User {
    name: "bob",
    password: "bob-secret",
};
const USERS: [User; 3] = [ADMIN, ALICE, BOB];

const READY_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// PLAINTEXT; an authorizer holds ACLs, but every client is the ANONYMOUS super user.
    Plain,
    /// SASL_PLAINTEXT with SCRAM-SHA-512 and ACLs enforced.
    Secure,
    /// Two client listeners: SSL requiring a client certificate (mTLS; the certificate's CN
    /// is the user) and SASL_SSL with SCRAM-SHA-512. Brokers talk to each other on a
    /// PLAINTEXT loopback listener. ACLs can be listed; everyone may do everything.
    Tls,
}

impl Flavour {
    /// Client ports each node listens on besides its controller port.
    fn client_ports(self) -> usize {
        match self {
            Flavour::Plain | Flavour::Secure => 1,
            Flavour::Tls => 3,
        }
    }
}

/// What cluster to start.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    /// Names the cluster's folder and appears in error messages.
    pub name: String,
    pub flavour: Flavour,
    /// Number of combined broker+controller nodes (1 or 3 in practice).
    pub nodes: usize,
    /// Client port of the first node (the next nodes use the following ports); free ports
    /// are picked when `None`.
    pub base_port: Option<u16>,
    /// Heap cap of each JVM in MiB.
    pub heap_mb: u32,
    /// Extra broker settings, appended to the generated `server.properties`.
    pub broker_config: Vec<(String, String)>,
    /// `Tls` flavour only: the SASL_SSL listener also takes SASL/OAUTHBEARER with Amazon MSK
    /// IAM tokens for this region (checked in form and expiry; the principal is the access
    /// key id). Every accepted or rejected token is a line of [`Cluster::msk_iam_log`].
    pub msk_iam_region: Option<String>,
    /// With `msk_iam_region`: MSK IAM tokens signed longer ago than this are refused, as
    /// tokens signed with expired temporary credentials are.
    pub msk_iam_max_token_age: Option<Duration>,
    /// The Apache Kafka release the nodes run (older releases: `Plain` flavour only).
    pub release: Release,
    /// Brokers refuse the topic creations and config changes an MSK cluster of the type set
    /// by [`Cluster::imitate_msk`] refuses (`kafkamigrate.harness.MskTopicPolicy`).
    pub msk_topic_policy: bool,
}

impl ClusterSpec {
    pub fn new(name: &str, flavour: Flavour) -> ClusterSpec {
        ClusterSpec {
            name: name.to_string(),
            flavour,
            nodes: 1,
            base_port: None,
            heap_mb: 512,
            broker_config: Vec::new(),
            msk_iam_region: None,
            msk_iam_max_token_age: None,
            release: Release::Current,
            msk_topic_policy: false,
        }
    }

    /// See [`ClusterSpec::msk_topic_policy`].
    pub fn msk_topic_policy(mut self) -> Self {
        self.msk_topic_policy = true;
        self
    }

    pub fn release(mut self, release: Release) -> Self {
        self.release = release;
        self
    }

    pub fn nodes(mut self, nodes: usize) -> Self {
        self.nodes = nodes;
        self
    }

    pub fn base_port(mut self, port: u16) -> Self {
        self.base_port = Some(port);
        self
    }

    pub fn msk_iam(mut self, region: &str) -> Self {
        self.msk_iam_region = Some(region.to_string());
        self
    }

    pub fn msk_iam_max_token_age(mut self, age: Duration) -> Self {
        self.msk_iam_max_token_age = Some(age);
        self
    }

    pub fn broker_config(mut self, key: &str, value: &str) -> Self {
        self.broker_config
            .push((key.to_string(), value.to_string()));
        self
    }
}

struct Node {
    id: usize,
    port: u16,
    controller_port: u16,
    /// The `Tls` flavour's SASL_SSL and inter-broker PLAINTEXT ports.
    extra_ports: Vec<u16>,
    config: PathBuf,
    log: PathBuf,
    process: Mutex<Option<ChildProcess>>,
}

/// A running cluster. Dropping it kills its JVMs; its folder stays for the logs.
pub struct Cluster {
    spec: ClusterSpec,
    runtime: Runtime,
    dir: PathBuf,
    nodes: Vec<Node>,
    tls: Option<TlsFiles>,
    /// Compiled classes the brokers need on their class path (the MSK IAM validator).
    classes: Option<PathBuf>,
    /// The ZooKeeper server of a release on ZooKeeper (dropped after the brokers).
    _zookeeper: Option<ZooKeeper>,
}

/// A standalone ZooKeeper server from the release's own jars.
struct ZooKeeper {
    port: u16,
    _process: ChildProcess,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("name", &self.spec.name)
            .field("bootstrap", &self.bootstrap())
            .finish()
    }
}

impl Cluster {
    /// Formats storage (or starts ZooKeeper) and starts every node, then waits until all
    /// brokers answer metadata.
    pub fn start(spec: ClusterSpec) -> Result<Cluster> {
        if spec.release != Release::Current && spec.flavour != Flavour::Plain {
            return Err(HarnessError::Other(format!(
                "cluster `{}`: Kafka {} runs with the Plain flavour only",
                spec.name,
                spec.release.version()
            )));
        }
        let runtime = Runtime::resolve_release(spec.release)?;
        let dir = crate::shared::run_dir().join(&spec.name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let per_node = spec.flavour.client_ports() + 1;
        // One more port for ZooKeeper, after the nodes' ports.
        let zookeeper_ports = usize::from(spec.release.zookeeper());
        let ports = allocate_ports(spec.nodes * per_node + zookeeper_ports, spec.base_port)?;
        let zookeeper = if spec.release.zookeeper() {
            Some(ZooKeeper::start(
                &runtime,
                &dir.join("zookeeper"),
                ports[spec.nodes * per_node],
            )?)
        } else {
            None
        };
        let voters = (0..spec.nodes)
            .map(|i| format!("{}@127.0.0.1:{}", i + 1, ports[per_node * i + 1]))
            .collect::<Vec<_>>()
            .join(",");
        let tls = match spec.flavour {
            Flavour::Tls => Some(TlsFiles::generate(
                &dir.join("tls"),
                &USERS.map(|u| u.name),
            )?),
            _ => None,
        };
        let mut sources = Vec::new();
        if spec.msk_iam_region.is_some() && spec.flavour == Flavour::Tls {
            sources.push(crate::runtime::MSK_IAM_VALIDATOR);
        }
        if spec.msk_topic_policy {
            sources.push(crate::runtime::MSK_TOPIC_POLICY);
        }
        let classes = match sources.is_empty() {
            true => None,
            false => Some(runtime.compiled(&sources)?),
        };
        let mut nodes = Vec::new();
        for i in 0..spec.nodes {
            let node_dir = dir.join(format!("node-{}", i + 1));
            fs::create_dir_all(&node_dir).map_err(io_err("creating a node folder"))?;
            let node = Node {
                id: i + 1,
                port: ports[per_node * i],
                controller_port: ports[per_node * i + 1],
                extra_ports: ports[per_node * i + 2..per_node * (i + 1)].to_vec(),
                config: node_dir.join("server.properties"),
                log: node_dir.join("broker.log"),
                process: Mutex::new(None),
            };
            let props = server_properties(
                &spec,
                &node,
                &voters,
                zookeeper.as_ref().map(|z| z.port),
                &node_dir.join("data"),
                tls.as_ref(),
                &dir.join(MSK_IAM_LOG),
            );
            fs::write(&node.config, props).map_err(io_err("writing server.properties"))?;
            nodes.push(node);
        }
        let cluster = Cluster {
            spec,
            runtime,
            dir,
            nodes,
            tls,
            classes,
            _zookeeper: zookeeper,
        };
        if !cluster.spec.release.zookeeper() {
            cluster.format()?;
        }
        for i in 0..cluster.nodes.len() {
            cluster.start_node(i)?;
        }
        cluster.wait_ready(cluster.nodes.len())?;
        Ok(cluster)
    }

    fn format(&self) -> Result<()> {
        let cluster_id = cluster_id();
        let mut formats = Vec::new();
        for node in &self.nodes {
            // The brokers' own classes too: the configuration names them.
            let mut cmd = self.runtime.java_command_with(256, self.classes.as_deref());
            cmd.arg("kafka.tools.StorageTool")
                .arg("format")
                .arg("--ignore-formatted")
                // One argument: a random id may begin with '-', which would read as a flag.
                .arg(format!("--cluster-id={cluster_id}"))
                .arg("-c")
                .arg(&node.config);
            if matches!(self.spec.flavour, Flavour::Secure | Flavour::Tls) {
                for user in USERS {
                    cmd.arg("--add-scram").arg(format!(
                        "SCRAM-SHA-512=[name={},password={}]",
                        user.name, user.password
                    ));
                }
            }
            formats.push(ChildProcess::spawn(cmd, &node.log)?);
        }
        for mut format in formats {
            let status = format.wait();
            if !status.is_some_and(|s| s.success()) {
                return Err(HarnessError::Tool {
                    tool: "kafka.tools.StorageTool format".into(),
                    status: format!("{status:?}"),
                    output: format!("see {}", format.log().display()),
                });
            }
        }
        Ok(())
    }

    /// Starts node `index` (0-based) again after [`Cluster::kill_node`].
    pub fn start_node(&self, index: usize) -> Result<()> {
        let node = &self.nodes[index];
        let mut cmd = self
            .runtime
            .java_command_with(self.spec.heap_mb, self.classes.as_deref());
        cmd.arg("kafka.Kafka").arg(&node.config);
        let child = ChildProcess::spawn(cmd, &node.log)?;
        *node.process.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
        Ok(())
    }

    /// Kills node `index` (0-based) with SIGKILL, as a crash would.
    pub fn kill_node(&self, index: usize) {
        if let Some(mut child) = self.nodes[index]
            .process
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            child.kill();
        }
    }

    /// Freezes node `index` (0-based) with SIGSTOP: its connections stay open but nothing
    /// answers, as when a network partition cuts it off. [`Cluster::thaw_node`] undoes it.
    pub fn freeze_node(&self, index: usize) {
        self.signal_node(index, libc::SIGSTOP);
    }

    /// Lets node `index` (0-based) run again after [`Cluster::freeze_node`] (SIGCONT).
    pub fn thaw_node(&self, index: usize) {
        self.signal_node(index, libc::SIGCONT);
    }

    fn signal_node(&self, index: usize, signal: libc::c_int) {
        let guard = self.nodes[index]
            .process
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(child) = guard.as_ref() {
            child.signal(signal);
        }
    }

    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The release the nodes run.
    pub fn release(&self) -> Release {
        self.spec.release
    }

    /// Waits until `brokers` brokers answer metadata requests (as the admin user).
    pub fn wait_ready(&self, brokers: usize) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let consumer: BaseConsumer = self
            .client_config(ADMIN)
            .set("socket.connection.setup.timeout.ms", "5000")
            .create()?;
        let mut last_error = String::from("no answer yet");
        while Instant::now() < deadline {
            if let Some(dead) = self.dead_node() {
                return Err(self.not_ready(format!("node {dead} exited")));
            }
            match consumer.fetch_metadata(None, Duration::from_secs(2)) {
                Ok(md) if md.brokers().len() >= brokers => return Ok(()),
                Ok(md) => last_error = format!("{} of {brokers} brokers up", md.brokers().len()),
                Err(e) => last_error = e.to_string(),
            }
        }
        Err(self.not_ready(last_error))
    }

    fn dead_node(&self) -> Option<usize> {
        self.nodes.iter().find_map(|node| {
            let mut guard = node.process.lock().unwrap_or_else(|p| p.into_inner());
            let exited = guard.as_mut().is_some_and(|child| child.exited().is_some());
            exited.then_some(node.id)
        })
    }

    fn not_ready(&self, reason: String) -> HarnessError {
        crate::shared::keep_logs();
        HarnessError::NotReady {
            cluster: self.spec.name.clone(),
            seconds: READY_TIMEOUT.as_secs(),
            reason,
            logs: self.dir.display().to_string(),
        }
    }

    /// With [`ClusterSpec::msk_topic_policy`]: the brokers refuse from now on what an MSK
    /// cluster of `kind` ("standard", "express" or "serverless") refuses; `None`: nothing.
    pub fn imitate_msk(&self, kind: Option<&str>) -> Result<()> {
        let file = self.dir.join(MSK_TYPE_FILE);
        match kind {
            Some(kind) => fs::write(&file, kind).map_err(io_err("writing the MSK type")),
            None => match fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(io_err("removing the MSK type")(e))
                }
                _ => Ok(()),
            },
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn flavour(&self) -> Flavour {
        self.spec.flavour
    }

    /// `host:port,host:port` of every node's client listener.
    pub fn bootstrap(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `host:port,…` of every node's KRaft controller listener (which answers no client
    /// request).
    pub fn controller_bootstrap(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.controller_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `host:port,…` of the `Tls` flavour's SASL_SSL listeners.
    pub fn sasl_ssl_bootstrap(&self) -> Option<String> {
        self.tls.as_ref()?;
        Some(
            self.nodes
                .iter()
                .map(|n| format!("127.0.0.1:{}", n.extra_ports[0]))
                .collect::<Vec<_>>()
                .join(","),
        )
    }

    /// One line per MSK IAM token the brokers saw: `ACCEPTED <access key id> <X-Amz-Date>`
    /// or `REJECTED <why>` (see [`ClusterSpec::msk_iam_region`]).
    pub fn msk_iam_log(&self) -> PathBuf {
        self.dir.join(MSK_IAM_LOG)
    }

    /// The certificates of a `Tls` cluster.
    pub fn tls(&self) -> Option<&TlsFiles> {
        self.tls.as_ref()
    }

    /// The folder holding each node's configuration, data and `broker.log`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Process ids of the running JVMs.
    pub fn pids(&self) -> Vec<u32> {
        self.nodes
            .iter()
            .filter_map(|n| {
                let guard = n.process.lock().unwrap_or_else(|p| p.into_inner());
                guard.as_ref().map(|c| c.pid())
            })
            .collect()
    }

    /// Client settings to connect as `user` (ignored by the `Plain` flavour; the `Tls`
    /// flavour connects with `user`'s client certificate).
    pub fn client_properties(&self, user: User) -> Vec<(String, String)> {
        let mut props = vec![("bootstrap.servers".to_string(), self.bootstrap())];
        if let Some(tls) = &self.tls {
            props.extend(
                [
                    ("security.protocol", "SSL".into()),
                    ("ssl.ca.location", tls.ca().display().to_string()),
                    (
                        "ssl.certificate.location",
                        tls.cert(user.name).display().to_string(),
                    ),
                    (
                        "ssl.key.location",
                        tls.key_file(user.name).display().to_string(),
                    ),
                ]
                .map(|(k, v)| (k.to_string(), v)),
            );
        }
        if self.spec.flavour == Flavour::Secure {
            props.extend(
                [
                    ("security.protocol", "SASL_PLAINTEXT"),
                    ("sasl.mechanism", "SCRAM-SHA-512"),
                    ("sasl.username", user.name),
                    ("sasl.password", user.password),
                ]
                .map(|(k, v)| (k.to_string(), v.to_string())),
            );
        }
        props
    }

    /// An rdkafka configuration connecting as `user`.
    pub fn client_config(&self, user: User) -> ClientConfig {
        let mut config = ClientConfig::new();
        for (k, v) in self.client_properties(user) {
            config.set(k, v);
        }
        config
    }

    /// An rdkafka configuration connecting as the super user.
    pub fn admin_config(&self) -> ClientConfig {
        self.client_config(ADMIN)
    }

    /// A Java client properties file for Kafka's own tools, connecting as `user`.
    pub fn java_client_properties(&self, user: User) -> Result<PathBuf> {
        let path = self.dir.join(format!("client-{}.properties", user.name));
        let mut text = String::new();
        if let Some(tls) = &self.tls {
            let _ = writeln!(text, "security.protocol=SSL");
            let _ = writeln!(text, "ssl.truststore.type=PEM");
            let _ = writeln!(text, "ssl.truststore.location={}", tls.ca().display());
            let keystore = self.dir.join(format!("client-{}-keystore.pem", user.name));
            let pem = [tls.key_file(user.name), tls.cert(user.name)]
                .iter()
                .map(fs::read_to_string)
                .collect::<std::io::Result<Vec<_>>>()
                .map_err(io_err("reading a client certificate"))?
                .concat();
            fs::write(&keystore, pem).map_err(io_err("writing a client keystore"))?;
            let _ = writeln!(text, "ssl.keystore.type=PEM");
            let _ = writeln!(text, "ssl.keystore.location={}", keystore.display());
        }
        if self.spec.flavour == Flavour::Secure {
            let _ = writeln!(text, "security.protocol=SASL_PLAINTEXT");
            let _ = writeln!(text, "sasl.mechanism=SCRAM-SHA-512");
            let _ = writeln!(text, "sasl.jaas.config={}", jaas(user));
        }
        fs::write(&path, text).map_err(io_err("writing a client properties file"))?;
        Ok(path)
    }

    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill_node(i);
        }
    }
}

/// The file [`Cluster::msk_iam_log`] names, in the cluster's folder.
const MSK_IAM_LOG: &str = "msk-iam-tokens.log";
/// The MSK type [`Cluster::imitate_msk`] sets, read by the brokers' topic policy.
const MSK_TYPE_FILE: &str = "msk-type";

fn jaas(user: User) -> String {
    format!(
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{}\" password=\"{}\";",
        user.name, user.password
    )
}

fn server_properties(
    spec: &ClusterSpec,
    node: &Node,
    voters: &str,
    zookeeper: Option<u16>,
    data: &Path,
    tls: Option<&TlsFiles>,
    msk_iam_log: &Path,
) -> String {
    let internal_rf = spec.nodes.min(3);
    let (listener, protocol) = match spec.flavour {
        Flavour::Plain => ("PLAINTEXT", "PLAINTEXT"),
        Flavour::Secure => ("SASL_PLAINTEXT", "SASL_PLAINTEXT"),
        Flavour::Tls => ("SSL", "SSL"),
    };
    // Client listeners as (name, port, protocol); the first one brokers use among themselves.
    let mut listeners = vec![(listener, node.port, protocol)];
    if spec.flavour == Flavour::Tls {
        listeners = vec![
            ("INTERNAL", node.extra_ports[1], "PLAINTEXT"),
            ("SSL", node.port, "SSL"),
            ("SASL_SSL", node.extra_ports[0], "SASL_SSL"),
        ];
    }
    let join = |f: &dyn Fn(&(&str, u16, &str)) -> String| {
        listeners.iter().map(f).collect::<Vec<_>>().join(",")
    };
    let advertised = join(&|(name, port, _)| format!("{name}://127.0.0.1:{port}"));
    let protocols = join(&|(name, _, protocol)| format!("{name}:{protocol}"));
    let mut p = String::new();
    let mut set = |k: &str, v: &str| {
        let _ = writeln!(p, "{k}={v}");
    };
    if let Some(zookeeper) = zookeeper {
        set("broker.id", &node.id.to_string());
        set("zookeeper.connect", &format!("127.0.0.1:{zookeeper}"));
        set("listeners", &advertised);
        set("listener.security.protocol.map", &protocols);
    } else {
        set("process.roles", "broker,controller");
        set("node.id", &node.id.to_string());
        set("controller.quorum.voters", voters);
        set(
            "listeners",
            &format!(
                "{advertised},CONTROLLER://127.0.0.1:{}",
                node.controller_port
            ),
        );
        set("controller.listener.names", "CONTROLLER");
        set(
            "listener.security.protocol.map",
            &format!("{protocols},CONTROLLER:PLAINTEXT"),
        );
    }
    set("advertised.listeners", &advertised);
    set("inter.broker.listener.name", listeners[0].0);
    set("log.dirs", &data.display().to_string());
    set("num.partitions", "1");
    set("auto.create.topics.enable", "false");
    set("offsets.topic.num.partitions", "10");
    set("offsets.topic.replication.factor", &internal_rf.to_string());
    set("transaction.state.log.num.partitions", "10");
    set(
        "transaction.state.log.replication.factor",
        &internal_rf.to_string(),
    );
    set("transaction.state.log.min.isr", "1");
    if spec.release == Release::Current {
        set(
            "share.coordinator.state.topic.replication.factor",
            &internal_rf.to_string(),
        );
        set("share.coordinator.state.topic.min.isr", "1");
    }
    set("group.initial.rebalance.delay.ms", "0");
    set("log.retention.check.interval.ms", "1000");
    set("log.cleaner.backoff.ms", "1000");
    set("num.network.threads", "2");
    set("num.io.threads", "4");
    if spec.flavour == Flavour::Plain {
        // ACLs can be created and listed, but bind no one: every PLAINTEXT client is the
        // ANONYMOUS super user.
        set(
            "authorizer.class.name",
            if zookeeper.is_some() {
                "kafka.security.authorizer.AclAuthorizer"
            } else {
                "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
            },
        );
        set("super.users", "User:ANONYMOUS");
        set("allow.everyone.if.no.acl.found", "true");
    }
    if spec.flavour == Flavour::Secure {
        set("sasl.enabled.mechanisms", "SCRAM-SHA-512");
        set("sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-512");
        set(
            "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config",
            &jaas(ADMIN),
        );
        set(
            "authorizer.class.name",
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        );
        // The controller listener is PLAINTEXT on loopback; its peers are the nodes themselves.
        set("super.users", "User:admin;User:ANONYMOUS");
        set("allow.everyone.if.no.acl.found", "false");
    }
    if let Some(tls) = tls {
        set("ssl.keystore.type", "PEM");
        set(
            "ssl.keystore.location",
            &tls.broker_keystore().display().to_string(),
        );
        set("ssl.truststore.type", "PEM");
        set("ssl.truststore.location", &tls.ca().display().to_string());
        set("listener.name.ssl.ssl.client.auth", "required");
        // A client certificate's CN is the user, as SCRAM's user name is.
        set("ssl.principal.mapping.rules", "RULE:^CN=(.*?)$/$1/,DEFAULT");
        set(
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
            &jaas(ADMIN),
        );
        match &spec.msk_iam_region {
            None => set("sasl.enabled.mechanisms", "SCRAM-SHA-512"),
            Some(region) => {
                set("sasl.enabled.mechanisms", "SCRAM-SHA-512,OAUTHBEARER");
                set(
                    "listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class",
                    "kafkamigrate.harness.MskIamTokenValidator",
                );
                let max_age = spec
                    .msk_iam_max_token_age
                    .map(|age| format!(" maxTokenAgeMs=\"{}\"", age.as_millis()))
                    .unwrap_or_default();
                set(
                    "listener.name.sasl_ssl.oauthbearer.sasl.jaas.config",
                    &format!(
                        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub=\"broker\" region=\"{region}\" acceptedLog=\"{}\"{max_age};",
                        msk_iam_log.display()
                    ),
                );
            }
        }
        set(
            "authorizer.class.name",
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        );
        set("super.users", "User:admin;User:ANONYMOUS");
        set("allow.everyone.if.no.acl.found", "true");
    }
    if spec.msk_topic_policy {
        let policy = "kafkamigrate.harness.MskTopicPolicy";
        set("create.topic.policy.class.name", policy);
        set("alter.config.policy.class.name", policy);
        let file = msk_iam_log.with_file_name(MSK_TYPE_FILE);
        set("kafkamigrate.msk.type.file", &file.display().to_string());
    }
    for (k, v) in &spec.broker_config {
        set(k, v);
    }
    p
}

impl ZooKeeper {
    /// Starts a standalone server on `port` with its data in `dir` and waits until it answers
    /// `ruok` with `imok`.
    fn start(runtime: &Runtime, dir: &Path, port: u16) -> Result<ZooKeeper> {
        fs::create_dir_all(dir.join("data")).map_err(io_err("creating the ZooKeeper folder"))?;
        let config = dir.join("zoo.cfg");
        let text = format!(
            "dataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\ntickTime=500\nmaxClientCnxns=0\nadmin.enableServer=false\n4lw.commands.whitelist=ruok\n",
            dir.join("data").display()
        );
        fs::write(&config, text).map_err(io_err("writing zoo.cfg"))?;
        let log = dir.join("zookeeper.log");
        let mut cmd = runtime.java_command(256);
        cmd.arg("org.apache.zookeeper.server.ZooKeeperServerMain")
            .arg(&config);
        let mut process = ChildProcess::spawn(cmd, &log)?;
        let deadline = Instant::now() + READY_TIMEOUT;
        while !zookeeper_ok(port) {
            let not_ready = |reason: &str| HarnessError::NotReady {
                cluster: format!("ZooKeeper on port {port}"),
                seconds: READY_TIMEOUT.as_secs(),
                reason: reason.to_string(),
                logs: log.display().to_string(),
            };
            if process.exited().is_some() {
                crate::shared::keep_logs();
                return Err(not_ready("the server exited"));
            }
            if Instant::now() > deadline {
                crate::shared::keep_logs();
                return Err(not_ready("no `imok` to `ruok`"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(ZooKeeper {
            port,
            _process: process,
        })
    }
}

/// Whether the ZooKeeper server on `port` answers `ruok` with `imok`.
fn zookeeper_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut answer = String::new();
    stream.write_all(b"ruok").is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer == "imok"
}

/// Picks free loopback ports (or `base..base+count` when given).
pub(crate) fn allocate_ports(count: usize, base: Option<u16>) -> Result<Vec<u16>> {
    if let Some(base) = base {
        return Ok((0..count as u16).map(|i| base + i).collect());
    }
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(io_err("finding free loopback ports"))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(io_err("reading a port"))
}

/// A fresh KRaft cluster id: a random UUID in URL-safe base64 without padding.
fn cluster_id() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ids_are_22_url_safe_characters() {
        let id = cluster_id();
        assert_eq!(id.len(), 22);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(id, cluster_id());
    }
}
