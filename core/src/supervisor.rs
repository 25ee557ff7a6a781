//! The parent process: httpd's `server_main_loop` once for every MPM.
//!
//! It opens the listeners (before dropping privileges), makes the
//! scoreboard and the pipe of death, forks children into slots, reaps and
//! replaces them, runs the MPM's maintenance once a second, and acts on
//! signals: TERM stop, WINCH graceful stop, HUP restart, USR1 graceful
//! restart. It never starts a thread (fork from a threaded process is
//! unsafe); signals reach it through a self-pipe.

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::build_info;
use crate::config::{Config, LoadOptions, Source};
use crate::limits::{self, Capacity};
use crate::listen::{self, Listener};
use crate::logs::panics::EXIT_PANIC;
use crate::mpm::{ChildContext, ProcessModel};
use crate::notice;
use crate::pod::PipeOfDeath;
use crate::process::{self, EXIT_CHILDFATAL, Request};
use crate::scoreboard::{Scoreboard, WorkerStatus};
use crate::server::ServerContext;

/// One running child.
#[derive(Debug, Clone, Copy)]
struct Child {
    slot: usize,
    generation: u32,
}

/// The parent's state.
struct Parent<M: ProcessModel> {
    program: String,
    options: LoadOptions,
    config: Config,
    capacity: Capacity,
    listeners: Vec<Listener>,
    board: &'static Scoreboard,
    pod: PipeOfDeath,
    server: ServerContext,
    generation: u32,
    children: HashMap<i32, Child>,
    state: M::State,
    pid_file: Option<PathBuf>,
}

/// Runs the server with `M`'s process model until it is stopped.
pub fn run<M: ProcessModel>(
    program: &str,
    config: Config,
    options: LoadOptions,
    foreground: bool,
) -> ExitCode {
    match start::<M>(program, config, options, foreground) {
        Ok(code) => code,
        Err(e) => {
            log::error!(target: "core", "{e}");
            eprintln!("{program}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn start<M: ProcessModel>(
    program: &str,
    config: Config,
    options: LoadOptions,
    foreground: bool,
) -> Result<ExitCode, String> {
    let listeners = listen::open_all(&config.settings)?;
    let online_cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let (capacity, _) = limits::capacity(config.mpm, &config.settings, online_cpus);
    let board = Scoreboard::create(capacity.server_limit as usize, capacity.thread_limit as usize)
        .map_err(|e| format!("AH00004: unable to create the scoreboard: {e}"))?;
    crate::serve::announce(&listeners);
    if !foreground {
        let no_detach = config.is_defined("NO_DETACH");
        process::detach(!no_detach).map_err(|e| format!("unable to detach: {e}"))?;
    }
    crate::serve::open_error_log(&config)?;
    crate::rlimit::raise_nofile_and_log();
    let pid_file = write_pid_file(&config)?;
    let wake = process::install_parent_handlers().map_err(|e| format!("installing signal handlers: {e}"))?;
    let pod = PipeOfDeath::new().map_err(|e| format!("creating the pipe of death: {e}"))?;
    let server = ServerContext::new(&config, Some(board))?;
    let mut parent = Parent::<M> {
        program: program.to_string(),
        options,
        config,
        capacity,
        listeners,
        board,
        pod,
        server,
        generation: 0,
        children: HashMap::new(),
        state: M::State::default(),
        pid_file,
    };
    board.global().set_running_generation(0);
    notice!(target: "mpm", "AH00163: {} configured -- resuming normal operations", build_info::server_version(M::KIND));
    log::info!(target: "mpm", "AH00164: Server built: {}", build_info::built());
    notice!(target: "core", "AH00094: Command line: '{}'", std::env::args().collect::<Vec<_>>().join(" "));
    parent.spawn_start_servers();
    Ok(parent.main_loop(&wake))
}

impl<M: ProcessModel> Parent<M> {
    fn main_loop(&mut self, wake: &OwnedFd) -> ExitCode {
        let mut last_maintenance = Instant::now();
        loop {
            wait_readable(wake, Duration::from_secs(1));
            drain(wake);
            if let Some(code) = self.reap() {
                return self.stop(code);
            }
            match process::take_request() {
                Request::Stop => {
                    notice!(target: "mpm", "caught SIGTERM, shutting down");
                    return self.stop(ExitCode::SUCCESS);
                }
                Request::GracefulStop => {
                    notice!(target: "mpm", "caught SIGWINCH, shutting down gracefully");
                    return self.graceful_stop();
                }
                Request::Restart => {
                    notice!(target: "mpm", "SIGHUP received.  Attempting to restart");
                    self.restart(false);
                }
                Request::GracefulRestart => {
                    match M::KIND {
                        crate::MpmKind::Prefork => {
                            notice!(target: "mpm", "AH00171: Graceful restart requested, doing restart")
                        }
                        _ => notice!(target: "mpm", "AH00297: SIGUSR1 received.  Doing graceful restart"),
                    }
                    self.restart(true);
                }
                Request::None => {}
            }
            if last_maintenance.elapsed() >= Duration::from_secs(1) {
                last_maintenance = Instant::now();
                let decision = M::maintain(self.board, &self.capacity, self.generation, &mut self.state);
                for slot in decision.spawn {
                    self.spawn(slot);
                }
                for _ in 0..decision.retire {
                    let _ = self.pod.retire_one();
                }
            }
        }
    }

    /// StartServers children into the lowest free slots.
    fn spawn_start_servers(&mut self) {
        let want = self.capacity.start_children as usize;
        let free: Vec<usize> = (0..self.capacity.server_limit as usize)
            .filter(|&s| self.board.process(s).pid() == 0)
            .take(want)
            .collect();
        for slot in free {
            self.spawn(slot);
        }
    }

    /// Forks a child into `slot`.
    fn spawn(&mut self, slot: usize) {
        if self.board.process(slot).pid() != 0 {
            return;
        }
        let threads = self.capacity.threads_per_child.max(1) as usize;
        for thread in 0..threads.min(self.board.thread_limit()) {
            self.board.worker(slot, thread).set_status(WorkerStatus::Starting);
        }
        self.board.process(slot).set_generation(self.generation);
        self.board.process(slot).set_quiescing(false);
        let generation = self.generation;
        let settings = &self.server.main().settings;
        let child = ChildContext {
            slot,
            generation,
            server: &self.server,
            board: self.board,
            listeners: &self.listeners,
            pod: &self.pod,
        };
        match process::fork_child(|| child_entry::<M>(&child, &settings.user, &settings.group)) {
            Ok(pid) => {
                self.board.process(slot).set_pid(pid.as_raw());
                self.children.insert(pid.as_raw(), Child { slot, generation });
            }
            Err(e) => {
                log::error!(target: "mpm", "AH00159: fork: Unable to fork new process: {e}");
                for thread in 0..threads.min(self.board.thread_limit()) {
                    self.board.worker(slot, thread).set_status(WorkerStatus::Dead);
                }
            }
        }
    }

    /// Reaps every exited child; returns an exit code when a child of the
    /// current generation reported a fatal error (the server stops).
    fn reap(&mut self) -> Option<ExitCode> {
        let mut fatal = None;
        loop {
            let status = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return fatal,
                Ok(status) => status,
            };
            let Some(pid) = status.pid() else { continue };
            let Some(child) = self.children.remove(&pid.as_raw()) else {
                // A piped logger or a child from before a restart we lost track of.
                continue;
            };
            self.clear_slot(child.slot, pid.as_raw());
            match status {
                WaitStatus::Exited(_, EXIT_CHILDFATAL) if child.generation == self.generation => {
                    log::error!(
                        target: "alert:mpm",
                        "AH00160: Child {pid} returned a Fatal error... Apache is exiting!"
                    );
                    fatal = Some(ExitCode::from(EXIT_CHILDFATAL as u8));
                }
                WaitStatus::Exited(_, EXIT_CHILDFATAL) => {
                    log::warn!(target: "mpm", "AH00162: Ignoring fatal error in child of previous generation (pid {pid}).");
                }
                WaitStatus::Exited(_, EXIT_PANIC) => {
                    log::error!(
                        target: "mpm",
                        "child pid {pid} exit status {EXIT_PANIC}: it panicked (its error-log line is above)"
                    );
                }
                WaitStatus::Signaled(_, signal, core) => {
                    let dumped = if core { ", possible coredump in /" } else { "" };
                    // httpd keeps quiet about TERM, HUP, USR1 and KILL; a
                    // child killed from outside is worth a line, so only the
                    // signals this parent sends itself stay unlogged.
                    if !matches!(signal, Signal::SIGTERM | Signal::SIGHUP | Signal::SIGUSR1) {
                        notice!(
                            target: "core",
                            "AH00052: child pid {pid} exit signal {} ({}){dumped}",
                            process::signal_name(signal),
                            signal as i32
                        );
                    }
                }
                _ => {}
            }
        }
    }

    /// A child is gone: its slot is free again.
    fn clear_slot(&self, slot: usize, pid: i32) {
        let process = self.board.process(slot);
        if process.pid() == pid {
            process.reset();
            for thread in 0..self.board.thread_limit() {
                self.board.worker(slot, thread).set_status(WorkerStatus::Dead);
            }
        }
    }

    /// HUP (hard) or USR1 (graceful): the configuration is read again; if it
    /// fails, the old one keeps serving and the error is logged.
    fn restart(&mut self, graceful: bool) {
        let config = match Config::load(&self.options) {
            Ok(config) => config,
            Err(e) => {
                log::error!(target: "core", "{}", e.render(&self.program).replace('\n', " "));
                log::error!(target: "mpm", "configuration check failed; still serving with the previous configuration");
                return;
            }
        };
        let listeners = match listen::reconcile(std::mem::take(&mut self.listeners), &config.settings) {
            Ok(l) => l,
            Err((old, e)) => {
                self.listeners = old;
                log::error!(target: "core", "{e}; still serving with the previous configuration");
                return;
            }
        };
        self.listeners = listeners;
        let server = match ServerContext::new(&config, Some(self.board)) {
            Ok(s) => s,
            Err(e) => {
                // A certificate or key error is a two-line AH00526 text.
                let e = e.replace('\n', " ");
                log::error!(target: "core", "{e}; still serving with the previous configuration");
                return;
            }
        };
        let _ = crate::logs::error_log::reopen(config.mpm);
        self.generation += 1;
        let global = self.board.global();
        global.set_running_generation(self.generation);
        global.set_config_generation(global.config_generation() + 1);
        let online_cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let (capacity, warnings) = limits::capacity(config.mpm, &config.settings, online_cpus);
        for w in warnings {
            log::warn!(target: "mpm", "{}", w.trim_start_matches("WARNING: "));
        }
        // ServerLimit and ThreadLimit cannot change on restart (the
        // scoreboard keeps its size).
        self.capacity = Capacity {
            server_limit: self.capacity.server_limit,
            thread_limit: self.capacity.thread_limit,
            ..capacity
        };
        if graceful {
            for (&pid, child) in &self.children {
                self.board.process(child.slot).set_quiescing(true);
                for thread in 0..self.board.thread_limit() {
                    let w = self.board.worker(child.slot, thread);
                    if w.status() != WorkerStatus::Dead {
                        w.set_status(WorkerStatus::Graceful);
                    }
                }
                let _ = kill(Pid::from_raw(pid), Signal::SIGUSR1);
            }
        } else {
            self.terminate_children();
            self.board.clear();
        }
        self.pod.drain();
        self.server = server;
        self.config = config;
        self.state = M::State::default();
        self.spawn_start_servers();
    }

    /// TERM: every child is stopped now (reclaim loop), PidFile removed.
    fn stop(&mut self, code: ExitCode) -> ExitCode {
        self.terminate_children();
        self.remove_pid_file();
        code
    }

    /// WINCH: stop accepting, let children finish their connections, exit
    /// when none is left or GracefulShutdownTimeout runs out.
    fn graceful_stop(&mut self) -> ExitCode {
        self.listeners.clear();
        self.remove_pid_file();
        for (&pid, child) in &self.children {
            self.board.process(child.slot).set_quiescing(true);
            let _ = kill(Pid::from_raw(pid), Signal::SIGUSR1);
        }
        let timeout = u64::try_from(self.config.settings.graceful_shutdown_timeout).unwrap_or(0);
        let deadline = (timeout > 0).then(|| Instant::now() + Duration::from_secs(timeout));
        while !self.children.is_empty() {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                self.terminate_children();
                break;
            }
            std::thread::sleep(Duration::from_millis(100)); // the parent's 1 s pass, finer
            let _ = self.reap();
            if process::take_request() == Request::Stop {
                self.terminate_children();
                break;
            }
        }
        ExitCode::SUCCESS
    }

    /// httpd's reclaim loop: TERM now, again at 3, 5 and 7 s, KILL at 9 s,
    /// give up at 10 s; waits 16 ms growing x4 up to 1 s between checks.
    fn terminate_children(&mut self) {
        for &pid in self.children.keys() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let start = Instant::now();
        let mut pause = Duration::from_millis(16);
        let mut next_term = Duration::from_secs(3);
        while !self.children.is_empty() {
            std::thread::sleep(pause.min(Duration::from_millis(250)));
            pause = (pause * 4).min(Duration::from_secs(1));
            let _ = self.reap();
            let elapsed = start.elapsed();
            if elapsed >= Duration::from_secs(10) {
                for pid in self.children.keys() {
                    log::error!(target: "core", "AH00050: could not make child process {pid} exit, attempting to continue anyway");
                }
                break;
            } else if elapsed >= Duration::from_secs(9) {
                for &pid in self.children.keys() {
                    log::error!(target: "core", "AH00048: child process {pid} still did not exit, sending a SIGKILL");
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            } else if elapsed >= next_term {
                for &pid in self.children.keys() {
                    log::warn!(target: "core", "AH00047: child process {pid} still did not exit, sending a SIGTERM");
                    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
                }
                next_term += Duration::from_secs(2);
            }
        }
    }

    fn remove_pid_file(&mut self) {
        if let Some(path) = self.pid_file.take() {
            if std::fs::remove_file(&path).is_ok() {
                log::info!(target: "core", "AH00096: removed PID file {} (pid={})", path.display(), std::process::id());
            }
        }
    }
}

/// In a new child: its signals, privilege drop, then the MPM's loop.
fn child_entry<M: ProcessModel>(child: &ChildContext<'_>, user: &str, group: &str) -> i32 {
    use std::os::fd::AsRawFd;
    // A panic in any of its threads ends the child, logged (logs::panics):
    // it never unwinds into the parent's frames copied by the fork.
    crate::logs::panics::end_process_on_panic();
    let fds: Vec<i32> = child.listeners.iter().map(|l| l.socket.as_raw_fd()).collect();
    process::register_listener_fds(&fds);
    if let Err(e) = process::install_child_handlers() {
        log::error!(target: "mpm", "installing the child's signal handlers: {e}");
        return EXIT_CHILDFATAL;
    }
    if let Err(e) = process::drop_privileges(user, group) {
        log::error!(target: "mpm", "{e}");
        return EXIT_CHILDFATAL;
    }
    M::child_main(child)
}

/// Writes PidFile (the parent's pid). The embedded configuration's
/// `logs/` may not exist: then there is no PidFile, said once.
fn write_pid_file(config: &Config) -> Result<Option<PathBuf>, String> {
    let path = config.settings.pid_file.clone();
    match std::fs::write(&path, format!("{}\n", std::process::id())) {
        Ok(()) => Ok(Some(path)),
        Err(e) if config.source == Source::Embedded => {
            log::warn!(target: "core", "AH00099: could not create {}: {e}; running without a PidFile", path.display());
            Ok(None)
        }
        Err(e) => Err(format!("AH00099: could not create {}: {}", path.display(), crate::logs::os_error(&e))),
    }
}

fn wait_readable(fd: &OwnedFd, wait: Duration) {
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    let _ = poll(&mut fds, PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX));
}

fn drain(fd: &OwnedFd) {
    let mut buf = [0u8; 64];
    while matches!(nix::unistd::read(fd, &mut buf), Ok(n) if n > 0) {}
}

/// Whether `path` names an existing file (for tests and -k).
pub fn pid_file_exists(path: &Path) -> bool {
    path.exists()
}
