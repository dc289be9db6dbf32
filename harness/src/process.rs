//! Child processes that cannot outlive their parent.
//!
//! Every JVM is started with `PR_SET_PDEATHSIG = SIGKILL`, so the kernel kills it when the
//! process that started it dies — normally, on panic, or by `kill -9`. Linux ties that signal
//! to the *thread* that forked, not the process, so all children are forked by one spawner
//! thread that lives as long as the process (test threads come and go).

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

use crate::{io_err, Result};

type Request = (Command, Sender<std::io::Result<Child>>);

fn spawner() -> &'static Mutex<Sender<Request>> {
    static SPAWNER: OnceLock<Mutex<Sender<Request>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = channel::<Request>();
        std::thread::Builder::new()
            .name("kafka-harness-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("the spawner thread starts");
        Mutex::new(tx)
    })
}

/// A child process (a JVM) whose output goes to a log file and which is killed on drop.
#[derive(Debug)]
pub struct ChildProcess {
    child: Child,
    log: PathBuf,
    /// Set once the process was reaped outside `std` (by `wait4`), so drop leaves it alone.
    reaped: bool,
    /// Samples the process's peak RSS while it runs (see [`ChildProcess::measure`]).
    sampler: Option<Sampler>,
}

/// User plus system CPU time in `usage`.
fn cpu_seconds(usage: &libc::rusage) -> f64 {
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// CPU seconds the calling process (every thread of it) has used so far.
pub fn own_cpu_seconds() -> f64 {
    // SAFETY: an all-zero rusage is a valid value; getrusage fills it for this process.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    cpu_seconds(&usage)
}

/// What a finished process used, from `wait4`.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub success: bool,
    /// User plus system CPU time.
    pub cpu_seconds: f64,
    /// Peak resident set size.
    pub peak_rss_mib: f64,
}

/// A thread reading a process's `VmHWM` every 20 ms until stopped.
#[derive(Debug)]
struct Sampler {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = done.clone();
        let thread = std::thread::spawn(move || {
            let mut peak_kib = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(kib) = high_water_kib(pid) {
                    peak_kib = peak_kib.max(kib);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            peak_kib
        });
        Sampler { done, thread }
    }

    /// The highest `VmHWM` read, in KiB.
    fn stop(self) -> u64 {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or(0)
    }
}

/// A running process's peak resident set size so far (`VmHWM` in `/proc/PID/status`), in KiB.
fn high_water_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

impl ChildProcess {
    /// Starts `cmd` with standard output and error appended to `log`.
    pub fn spawn(cmd: Command, log: &Path) -> Result<ChildProcess> {
        ChildProcess::spawn_split(cmd, log, log)
    }

    /// Starts `cmd` with standard output appended to `out` and standard error to `err`.
    pub fn spawn_split(mut cmd: Command, out: &Path, err: &Path) -> Result<ChildProcess> {
        let open = |path: &Path| {
            File::options()
                .create(true)
                .append(true)
                .open(path)
                .map_err(io_err(format!("opening {}", path.display())))
        };
        cmd.stdin(Stdio::null())
            .stdout(open(out)?)
            .stderr(open(err)?);
        let log = out;
        // SAFETY: prctl is async-signal-safe and touches only the calling (forked) process.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died between fork and prctl.
                if libc::getppid() == 1 {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let (tx, rx) = channel();
        let program = format!("{:?}", cmd.get_program());
        spawner()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .send((cmd, tx))
            .map_err(|_| crate::HarnessError::Other("the spawner thread is gone".into()))?;
        let child = rx
            .recv()
            .map_err(|_| crate::HarnessError::Other("the spawner thread is gone".into()))?
            .map_err(io_err(format!("starting {program}")))?;
        Ok(ChildProcess {
            child,
            log: log.to_path_buf(),
            reaped: false,
            sampler: None,
        })
    }

    /// Starts sampling the process's peak RSS now, for [`ChildProcess::wait_measured`] (which
    /// starts it itself when it was not): call it right after spawning a process that may
    /// end before it is waited for.
    pub fn measure(&mut self) {
        if self.sampler.is_none() {
            self.sampler = Some(Sampler::start(self.child.id()));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to the process (while it has not been reaped).
    pub fn signal(&self, signal: libc::c_int) {
        if !self.reaped {
            // SAFETY: sending a signal to our own, not yet reaped, child.
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, signal);
            }
        }
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// `Some(status)` once the process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits for the process to exit.
    pub fn wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.wait().ok()
    }

    /// Waits for the process to exit and says what it used.
    ///
    /// The peak RSS is the program's own: its `VmHWM`, sampled while it runs. The kernel's
    /// `ru_maxrss` is not used: a child started by `posix_spawn` (vfork) execs from its
    /// parent's memory, and Linux counts that memory's high-water mark into the child's
    /// `ru_maxrss`, so a child of a large parent reads as at least as large as the parent.
    pub fn wait_measured(&mut self) -> std::io::Result<Usage> {
        let pid = self.child.id();
        self.measure();
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waiting for our own child's pid with valid pointers.
        let waited = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        let peak_kib = self.sampler.take().map_or(0, Sampler::stop);
        if waited < 0 {
            return Err(std::io::Error::last_os_error());
        }
        self.reaped = true;
        Ok(Usage {
            success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            cpu_seconds: cpu_seconds(&usage),
            peak_rss_mib: peak_kib as f64 / 1024.0,
        })
    }

    /// Asks the process to stop (SIGTERM), waits, and says what it used.
    pub fn terminate_measured(&mut self) -> std::io::Result<Usage> {
        // SAFETY: sending a signal to our own, not yet reaped, child.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        self.wait_measured()
    }

    /// Kills the process at once and reaps it.
    pub fn kill(&mut self) {
        if let Some(sampler) = self.sampler.take() {
            sampler.stop();
        }
        if self.reaped {
            return;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the process to stop (SIGTERM) and waits for it.
    pub fn terminate(&mut self) {
        // SAFETY: sending a signal to our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether a process with this pid exists (and is not a zombie).
pub fn is_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state letter follows the parenthesised command name.
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next());
            !matches!(state, Some("Z") | Some("X") | None)
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small child of a large parent is measured small: its own high-water mark, not the
    /// parent's memory it was started from.
    #[test]
    fn a_childs_peak_rss_is_its_own_not_its_parents() {
        let mut ballast = vec![0u8; 300 << 20];
        for page in ballast.chunks_mut(4096) {
            page[0] = 1;
        }
        let log = std::env::temp_dir().join(format!("harness-rss-{}.log", std::process::id()));
        let mut cmd = Command::new("sleep");
        cmd.arg("0.5");
        let mut child = ChildProcess::spawn(cmd, &log).unwrap();
        let usage = child.wait_measured().unwrap();
        let _ = std::fs::remove_file(&log);
        assert!(usage.success);
        assert!(
            usage.peak_rss_mib > 0.0 && usage.peak_rss_mib < 64.0,
            "sleep measured at {} MiB beside a parent of {} MiB",
            usage.peak_rss_mib,
            ballast.len() >> 20
        );
    }
}
