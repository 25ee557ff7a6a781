//! One-process serving: httpd's `-X` (debug) mode, where the process that
//! reads the configuration accepts and serves connections itself, one at a
//! time, with the blocking driver. The MPMs' process models build on the
//! same pieces (listeners, context, driver).

use std::io::Write;
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use std::process::ExitCode;

use crate::config::{Config, Source};
use crate::http::driver;
use crate::listen::{self, Listener};
use crate::mpm::{ChildContext, ProcessModel};
use crate::pod::PipeOfDeath;
use crate::scoreboard::Scoreboard;
use crate::server::ServerContext;

/// Opens the listeners, prints where they are (so scripts and tests that
/// asked for port 0 learn the port), and serves until the process is stopped.
pub fn one_process(config: &Config) -> Result<(), String> {
    let listeners = listen::open_all(&config.settings)?;
    open_error_log(config)?;
    let ctx = ServerContext::new(config, None)?;
    announce(&listeners);
    let mut next = 0;
    loop {
        let ready = wait_for_connection(&listeners, &mut next);
        match listeners[ready].socket.accept() {
            Ok((stream, _)) => driver::serve(stream, &ctx, None),
            Err(e) => {
                // "Client went away" errors are normal; resource errors are not,
                // but a one-process server has no parent to restart it.
                log::debug!(target: "core", "accept: {e}");
                if e.raw_os_error() == Some(nix::libc::EMFILE) || e.raw_os_error() == Some(nix::libc::ENFILE)
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }
}

/// `-X` for an MPM with a process model: the child's own loop runs in this
/// process, in slot 0, with no parent and no fork. Ctrl-C (ctrlc, which
/// starts a thread: allowed here because nothing forks) stops it.
pub fn debug_child<M: ProcessModel>(program: &str, config: Config) -> ExitCode {
    crate::logs::panics::end_process_on_panic();
    let run = || -> Result<i32, String> {
        let listeners = listen::open_all(&config.settings)?;
        let online_cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let (capacity, _) = crate::limits::capacity(config.mpm, &config.settings, online_cpus);
        let board = Scoreboard::create(capacity.server_limit as usize, capacity.thread_limit as usize)
            .map_err(|e| format!("AH00004: unable to create the scoreboard: {e}"))?;
        announce(&listeners);
        open_error_log(&config)?;
        crate::rlimit::apply_and_log(config.settings.rlimit_nofile);
        let server = ServerContext::new(&config, Some(board))?;
        let pod = PipeOfDeath::new().map_err(|e| e.to_string())?;
        crate::process::drop_privileges(&config.settings.user, &config.settings.group)?;
        ctrlc::set_handler(|| std::process::exit(0))
            .map_err(|e| format!("installing the Ctrl-C handler: {e}"))?;
        board.process(0).set_pid(std::process::id() as i32);
        let child =
            ChildContext { slot: 0, generation: 0, server: &server, board, listeners: &listeners, pod: &pod };
        Ok(M::child_main(&child))
    };
    match run() {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("{program}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Opens ErrorLog. The embedded configuration names `logs/error_log` under
/// a ServerRoot that may not exist (a binary installed alone): then the
/// error log is stderr, said once.
pub(crate) fn open_error_log(config: &Config) -> Result<(), String> {
    match crate::logs::error_log::init(&config.settings, config.mpm) {
        Ok(()) => Ok(()),
        Err(e) if config.source == Source::Embedded => {
            crate::logs::error_log::init_stderr(&config.settings, config.mpm)?;
            log::warn!(target: "core", "{e}; the error log goes to stderr");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// `listening on http://127.0.0.1:8080/`, one line per listener, on stdout.
pub(crate) fn announce(listeners: &[Listener]) {
    let mut out = std::io::stdout().lock();
    for l in listeners {
        let _ = writeln!(out, "listening on {}://{}/", l.protocol, l.addr);
    }
    let _ = out.flush();
}

/// The index of a listener with a connection waiting: round-robin over the
/// ready ones so none starves, as prefork.c does.
fn wait_for_connection(listeners: &[Listener], next: &mut usize) -> usize {
    if listeners.len() == 1 {
        return 0;
    }
    loop {
        let mut fds: Vec<PollFd<'_>> =
            listeners.iter().map(|l| PollFd::new(l.socket.as_fd(), PollFlags::POLLIN)).collect();
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(n) if n > 0 => {
                for offset in 0..listeners.len() {
                    let i = (*next + offset) % listeners.len();
                    if fds[i].revents().is_some_and(|r| !r.is_empty()) {
                        *next = (i + 1) % listeners.len();
                        return i;
                    }
                }
            }
            _ => continue,
        }
    }
}
