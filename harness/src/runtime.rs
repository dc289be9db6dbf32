//! The Apache Kafka runtime: a pinned release resolved from Maven Central with Maven into a
//! cache folder of its own, once. A later resolution finds the finished cache and runs nothing.
//! Besides the current release ([`KAFKA_VERSION`]) older ones ([`Release`]) can run as
//! migration sources.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{io_err, HarnessError, Result};

/// The Apache Kafka release every test, the demo and the benchmarks run.
pub const KAFKA_VERSION: &str = "4.3.1";

const POM: &str = include_str!("../maven/pom.xml");
const POM_LEGACY: &str = include_str!("../maven/pom-legacy.xml");
const LOG4J: &str = include_str!("../maven/log4j.properties");
const LOG4J2: &str = include_str!("../maven/log4j2.properties");
const LOG4J2_TOOLS: &str = include_str!("../maven/log4j2-tools.properties");
const COMPLETE: &str = ".complete";
/// Broker-side classes: the MSK IAM token validator and the MSK topic policy, by file name.
pub const MSK_IAM_VALIDATOR: (&str, &str) = (
    "MskIamTokenValidator.java",
    include_str!("../java/MskIamTokenValidator.java"),
);
pub const MSK_TOPIC_POLICY: (&str, &str) = (
    "MskTopicPolicy.java",
    include_str!("../java/MskTopicPolicy.java"),
);

/// An Apache Kafka release the harness runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Release {
    /// 2.8.2, the last release before KRaft was usable: brokers on ZooKeeper (3.5, from the
    /// same Maven artifacts), log4j 1.
    Kafka28,
    /// 3.9.2, the last 3.x: KRaft, log4j 1.
    Kafka39,
    /// [`KAFKA_VERSION`]: KRaft, log4j 2, Connect and the command-line tools.
    #[default]
    Current,
}

impl Release {
    /// Every release, oldest first.
    pub const ALL: [Release; 3] = [Release::Kafka28, Release::Kafka39, Release::Current];

    /// The Apache Kafka version, as Maven Central names it.
    pub fn version(self) -> &'static str {
        match self {
            Release::Kafka28 => "2.8.2",
            Release::Kafka39 => "3.9.2",
            Release::Current => KAFKA_VERSION,
        }
    }

    /// Whether brokers keep their metadata in ZooKeeper (rather than KRaft).
    pub fn zookeeper(self) -> bool {
        self == Release::Kafka28
    }

    /// Whether the release logs with log4j 1 (rather than log4j 2).
    fn log4j1(self) -> bool {
        self != Release::Current
    }

    /// Roughly how many megabytes of jars the release's closure is, as last measured (the
    /// cache folder's size); said before downloading it.
    pub fn download_megabytes(self) -> u32 {
        match self {
            Release::Kafka28 => 36,
            Release::Kafka39 => 46,
            Release::Current => 120,
        }
    }

    /// What a complete cache of the release records: its version and its pom's digest.
    fn stamp(self) -> String {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.pom().hash(&mut hasher);
        format!("{} {:016x}", self.version(), hasher.finish())
    }

    fn pom(self) -> String {
        match self {
            Release::Current => POM.to_string(),
            _ => POM_LEGACY.replace("@KAFKA_VERSION@", self.version()),
        }
    }
}

/// A resolved Kafka runtime: the JDK's `java` and a folder holding every jar of the release.
#[derive(Debug, Clone)]
pub struct Runtime {
    pub release: Release,
    pub java: PathBuf,
    pub libs: PathBuf,
    /// The logging configuration of the release's JVMs (log4j 2, or log4j 1 for older ones).
    pub log4j2_config: PathBuf,
    /// Whether this resolution ran Maven (false: everything came from the cache).
    pub downloaded: bool,
}

impl Runtime {
    /// Resolves the current release into the default cache with the `mvn` on PATH.
    pub fn resolve() -> Result<Runtime> {
        Runtime::resolve_release(Release::Current)
    }

    /// Resolves `release` into the default cache with the `mvn` on PATH.
    pub fn resolve_release(release: Release) -> Result<Runtime> {
        Runtime::resolve_release_in(release, &cache_root(), Path::new("mvn"))
    }

    /// Resolves the current release into `cache`, running `mvn` only when the cache is not
    /// complete.
    pub fn resolve_in(cache: &Path, mvn: &Path) -> Result<Runtime> {
        Runtime::resolve_release_in(Release::Current, cache, mvn)
    }

    /// Resolves `release` into its own folder of `cache`, running `mvn` only when that folder
    /// is not complete.
    pub fn resolve_release_in(release: Release, cache: &Path, mvn: &Path) -> Result<Runtime> {
        let home = cache.join(format!("kafka-{}", release.version()));
        fs::create_dir_all(&home).map_err(io_err(format!("creating {}", home.display())))?;
        let _lock = FileLock::acquire(&home.join(".lock"))?;
        let libs = home.join("libs");
        // The cache is complete for this release's pom only: a pom that gained a jar since
        // resolves again.
        let stamp = release.stamp();
        let complete = fs::read_to_string(libs.join(COMPLETE)).is_ok_and(|s| s == stamp);
        let downloaded = if complete {
            false
        } else {
            // Maven runs quietly: say what it fetches, once, so that the wait is understood.
            eprintln!(
                "Downloading Apache Kafka {} from Maven Central with Maven (about {} MB of jars, \
                 once; cached in {})…",
                release.version(),
                release.download_megabytes(),
                libs.display()
            );
            download(release, &home, &libs, mvn)?;
            true
        };
        let log4j2_config = if release.log4j1() {
            write_if_changed(&home.join("log4j.properties"), LOG4J)?
        } else {
            write_if_changed(&home.join("log4j2-tools.properties"), LOG4J2_TOOLS)?;
            write_if_changed(&home.join("log4j2.properties"), LOG4J2)?
        };
        Ok(Runtime {
            release,
            java: java_binary(),
            libs,
            log4j2_config,
            downloaded,
        })
    }

    /// The JVM class path covering every jar of the release.
    pub fn classpath(&self) -> String {
        format!("{}/*", self.libs.display())
    }

    /// A `java` command for a short-lived tool: small heap, warnings only, on standard error.
    pub fn tool_command(&self) -> Command {
        let mut cmd = self.java_command(256);
        cmd.arg(format!(
            "-Dlog4j2.configurationFile={}",
            self.log4j2_config
                .with_file_name("log4j2-tools.properties")
                .display()
        ));
        cmd
    }

    /// A `java` command with the class path, logging configuration and a capped heap.
    pub fn java_command(&self, heap_mb: u32) -> Command {
        self.java_command_with(heap_mb, None)
    }

    /// [`Runtime::java_command`] with `classes` (a folder of compiled classes) on the class
    /// path too.
    pub fn java_command_with(&self, heap_mb: u32, classes: Option<&Path>) -> Command {
        let mut classpath = self.classpath();
        if let Some(classes) = classes {
            classpath = format!("{classpath}:{}", classes.display());
        }
        let mut cmd = Command::new(&self.java);
        cmd.arg(format!("-Xmx{heap_mb}m"))
            .arg("-Xms64m")
            .arg("-XX:+UseG1GC")
            .arg("-XX:MaxGCPauseMillis=20")
            .arg("-XX:+ExitOnOutOfMemoryError")
            .arg("-Djava.awt.headless=true");
        if self.release.log4j1() {
            cmd.arg(format!(
                "-Dlog4j.configuration=file:{}",
                self.log4j2_config.display()
            ));
        } else {
            cmd.arg(format!(
                "-Dlog4j2.configurationFile={}",
                self.log4j2_config.display()
            ));
        }
        cmd.arg("-cp").arg(classpath);
        cmd
    }

    /// The folder of broker-side classes compiled from `sources` (file name, Java text) with
    /// `javac`, once per set of sources.
    pub fn compiled(&self, sources: &[(&str, &str)]) -> Result<PathBuf> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        sources.hash(&mut hasher);
        let home = self
            .libs
            .with_file_name(format!("broker-classes-{:016x}", hasher.finish()));
        let classes = home.join("classes");
        fs::create_dir_all(&home).map_err(io_err(format!("creating {}", home.display())))?;
        let _lock = FileLock::acquire(&home.join(".lock"))?;
        if classes.join(COMPLETE).exists() {
            return Ok(classes);
        }
        let mut files = Vec::new();
        for (name, text) in sources {
            let source = home.join(name);
            fs::write(&source, text).map_err(io_err(format!("writing {name}")))?;
            files.push(source);
        }
        let _ = fs::remove_dir_all(&classes);
        // The JDK's compiler beside its `java` (the bare name when `java` came from PATH).
        let javac = self.java.with_file_name("javac");
        let output = Command::new(&javac)
            .arg("-cp")
            .arg(self.classpath())
            .arg("-d")
            .arg(&classes)
            .args(&files)
            .output()
            .map_err(io_err(format!("running {}", javac.display())))?;
        if !output.status.success() {
            let names: Vec<&str> = sources.iter().map(|(n, _)| *n).collect();
            return Err(HarnessError::Tool {
                tool: format!("javac {}", names.join(" ")),
                status: output.status.to_string(),
                output: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        fs::write(classes.join(COMPLETE), "").map_err(io_err("marking the compiled classes"))?;
        Ok(classes)
    }
}

fn write_if_changed(path: &Path, text: &str) -> Result<PathBuf> {
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        fs::write(path, text).map_err(io_err(format!("writing {}", path.display())))?;
    }
    Ok(path.to_path_buf())
}

fn download(release: Release, home: &Path, libs: &Path, mvn: &Path) -> Result<()> {
    let pom = home.join("pom.xml");
    fs::write(&pom, release.pom()).map_err(io_err("writing the Kafka runtime pom"))?;
    let staging = home.join("libs.partial");
    let _ = fs::remove_dir_all(&staging);
    let output = Command::new(mvn)
        .arg("-B")
        .arg("-q")
        .arg("-f")
        .arg(&pom)
        .arg("dependency:copy-dependencies")
        .arg(format!("-DoutputDirectory={}", staging.display()))
        .arg("-DincludeScope=runtime")
        .output()
        .map_err(io_err(format!("running {}", mvn.display())))?;
    if !output.status.success() {
        return Err(HarnessError::Maven {
            version: release.version(),
            status: output.status.to_string(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        });
    }
    fs::write(staging.join(COMPLETE), release.stamp()).map_err(io_err("marking the cache"))?;
    let _ = fs::remove_dir_all(libs);
    fs::rename(&staging, libs).map_err(io_err("moving the Kafka jars into the cache"))?;
    Ok(())
}

/// `$KAFKA_MIGRATE_CACHE`, else `$XDG_CACHE_HOME/kafka-migrate`, else `~/.cache/kafka-migrate`.
pub fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("KAFKA_MIGRATE_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("kafka-migrate");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".cache").join("kafka-migrate")
}

fn java_binary() -> PathBuf {
    match std::env::var_os("JAVA_HOME") {
        Some(home) if Path::new(&home).join("bin/java").exists() => {
            Path::new(&home).join("bin/java")
        }
        _ => PathBuf::from("java"),
    }
}

/// An exclusive advisory lock on a file, so that concurrent test binaries resolve once.
struct FileLock(fs::File);

impl FileLock {
    fn acquire(path: &Path) -> Result<FileLock> {
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io_err(format!("opening {}", path.display())))?;
        file.lock()
            .map_err(io_err(format!("locking {}", path.display())))?;
        Ok(FileLock(file))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}
