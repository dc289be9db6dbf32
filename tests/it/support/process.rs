//! Processes a test starts in the background — `kafka-migrate`, or a program run beside it —
//! and drives: Ctrl-C, SIGKILL, waiting for the exit with a time limit, reading what they
//! printed. A process still running when its [`Running`] is dropped (a test that failed) is
//! killed, so that none outlives its test.

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::command;

/// A process started in the background, its standard output and error going to files.
pub struct Running {
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

impl Running {
    /// Starts `kafka-migrate -c config args…` (see [`Running::spawn`]).
    pub fn start(
        config: &Path,
        args: &[&str],
        dir: &Path,
        setup: impl FnOnce(&mut Command),
    ) -> Running {
        let mut cmd = command::kafka_migrate_process(Some(config));
        cmd.args(args);
        Running::spawn(cmd, dir, setup)
    }

    /// Starts `cmd` with its standard output and error going to new files in `dir`, after
    /// `setup` has been applied to it (environment variables, or a piped standard output).
    pub fn spawn(mut cmd: Command, dir: &Path, setup: impl FnOnce(&mut Command)) -> Running {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let program = Path::new(cmd.get_program())
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = format!("{program}-{}", STARTED.fetch_add(1, Ordering::Relaxed));
        let (out, err) = (
            dir.join(format!("{name}.out")),
            dir.join(format!("{name}.err")),
        );
        cmd.stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap());
        setup(&mut cmd);
        let child = cmd.spawn().unwrap();
        Running { child, out, err }
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Both outputs, for a failure message.
    pub fn output(&self) -> String {
        format!("output:\n{}\n{}", self.stdout(), self.stderr())
    }

    /// The standard output that `setup` piped.
    pub fn take_stdout(&mut self) -> ChildStdout {
        self.child
            .stdout
            .take()
            .expect("standard output piped at the start")
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGINT (Ctrl-C).
    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -INT {}", self.child.id());
    }

    /// Kills the process with SIGKILL and reaps it: how it ended (by the signal, or on its own
    /// if it exited first).
    pub fn kill(&mut self) -> ExitStatus {
        self.child.kill().unwrap();
        self.child.wait().unwrap()
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// The exit status, once the process exits within `timeout`.
    pub fn exit_within(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut status = None;
        super::poll_until(timeout, || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        status
    }

    /// Waits for the process to exit; fails the test after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        self.exit_within(timeout)
            .unwrap_or_else(|| panic!("timed out waiting for the process to exit"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Set in the process [`run_in_own_process`] starts, to the name of the test it runs.
const OWN_PROCESS: &str = "KAFKA_MIGRATE_TEST_OWN_PROCESS";

/// Whether this process is the one [`run_in_own_process`] started for `test`.
pub fn in_own_process(test: &str) -> bool {
    std::env::var(OWN_PROCESS).is_ok_and(|name| name == test)
}

/// Runs the test `test` (its full name, `module::name`) of this test binary again, alone in a
/// process of its own with `setup` applied to its command, and fails if it fails there. For a
/// test of code that reads the process's environment: the environment is given to that
/// process when it starts, instead of being changed under the tests running beside this one.
pub fn run_in_own_process(test: &str, setup: impl FnOnce(&mut Command)) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([test, "--exact", "--test-threads=1", "--nocapture"])
        .env(OWN_PROCESS, test);
    setup(&mut cmd);
    let out = cmd.output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{test} in its own process: {said}");
    assert!(
        said.contains("test result: ok. 1 passed"),
        "{test} did not run in its own process: {said}"
    );
}
