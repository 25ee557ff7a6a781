//! Processes and signals: fork, the parent's signal handlers and self-pipe,
//! the children's, privilege drop, detaching from the terminal.
//!
//! One of the few modules with `unsafe` (ARCHITECTURE.md lists them): `fork` (sound because
//! the parent never starts threads) and `sigaction` (handlers only store to
//! atomics and write one byte to a pipe, both async-signal-safe).

use std::os::fd::{AsRawFd, OwnedFd};

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU32, Ordering};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::unistd::{ForkResult, Gid, Pid, Uid};

/// Exit codes children use (httpd's APEXIT_*).
pub const EXIT_OK: i32 = 0;
/// Resource shortage: the parent slows its forking.
pub const EXIT_CHILDSICK: i32 = 7;
/// Stop the whole server (e.g. privileges could not be dropped).
pub const EXIT_CHILDFATAL: i32 = 15;

/// What the parent was asked to do, strongest last: a stronger request wins
/// over a pending weaker one (httpd's rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Request {
    None = 0,
    /// USR1.
    GracefulRestart = 1,
    /// HUP.
    Restart = 2,
    /// WINCH.
    GracefulStop = 3,
    /// TERM or INT.
    Stop = 4,
}

impl Request {
    /// What the parent does for it, for log lines.
    pub fn describe(self) -> &'static str {
        match self {
            Request::None => "nothing",
            Request::GracefulRestart => "graceful restart",
            Request::Restart => "restart",
            Request::GracefulStop => "graceful stop",
            Request::Stop => "stop",
        }
    }
}

static PENDING: AtomicU8 = AtomicU8::new(0);
/// How many of each request's signals came since the last `take_request`
/// (index: `Request as usize`), so that merged signals can be told.
static RECEIVED: [AtomicU32; 5] = [const { AtomicU32::new(0) }; 5];
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_parent_signal(signal: nix::libc::c_int) {
    let request = match Signal::try_from(signal) {
        Ok(Signal::SIGTERM | Signal::SIGINT) => Request::Stop,
        Ok(Signal::SIGWINCH) => Request::GracefulStop,
        Ok(Signal::SIGHUP) => Request::Restart,
        Ok(Signal::SIGUSR1) => Request::GracefulRestart,
        // A child ended: only wake the main loop, which reaps it.
        Ok(Signal::SIGCHLD) => Request::None,
        _ => return,
    };
    if request != Request::None {
        PENDING.fetch_max(request as u8, Ordering::SeqCst);
        RECEIVED[request as usize].fetch_add(1, Ordering::SeqCst);
    }
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = [signal as u8];
        // SAFETY: write(2) is async-signal-safe; the buffer is valid for one
        // byte; a full pipe (EAGAIN) loses nothing since PENDING holds the flag.
        unsafe {
            nix::libc::write(fd, byte.as_ptr().cast(), 1);
        }
    }
}

/// The parent's signal handling: TERM/INT stop, WINCH graceful stop, HUP
/// restart, USR1 graceful restart, CHLD a wake-up (to reap and replace a
/// child at once), PIPE and XFSZ ignored. Returns the read
/// end of the self-pipe the handlers write to, for the parent's `poll`.
pub fn install_parent_handlers() -> nix::Result<OwnedFd> {
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_CLOEXEC)?;
    WAKE_FD.store(write.as_raw_fd(), Ordering::SeqCst);
    // The write end lives as long as the process.
    std::mem::forget(write);
    let handler = SigAction::new(SigHandler::Handler(on_parent_signal), SaFlags::SA_RESTART, SigSet::empty());
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    for signal in
        [Signal::SIGTERM, Signal::SIGINT, Signal::SIGWINCH, Signal::SIGHUP, Signal::SIGUSR1, Signal::SIGCHLD]
    {
        // SAFETY: the handler only touches atomics and calls write(2).
        unsafe { sigaction(signal, &handler) }?;
    }
    for signal in [Signal::SIGPIPE, Signal::SIGXFSZ] {
        // SAFETY: ignoring a signal installs no code.
        unsafe { sigaction(signal, &ignore) }?;
    }
    Ok(read)
}

/// Takes the pending request, if any.
pub fn take_request() -> Request {
    take_request_and_merged().0
}

/// Takes the pending request, and says which signals it stands for when
/// more than one came since the last look (`SIGUSR1 x3`, `SIGUSR1, SIGHUP`):
/// the strongest is acted on once (a stop over a restart, a hard restart
/// over a graceful one), and the caller logs what was merged into it.
pub fn take_request_and_merged() -> (Request, Option<String>) {
    let request = match PENDING.swap(0, Ordering::SeqCst) {
        1 => Request::GracefulRestart,
        2 => Request::Restart,
        3 => Request::GracefulStop,
        4 => Request::Stop,
        _ => Request::None,
    };
    let names = ["", "SIGUSR1", "SIGHUP", "SIGWINCH", "SIGTERM"];
    let counts: Vec<(usize, u32)> = (1..RECEIVED.len())
        .map(|i| (i, RECEIVED[i].swap(0, Ordering::SeqCst)))
        .filter(|&(_, n)| n > 0)
        .collect();
    let total: u32 = counts.iter().map(|&(_, n)| n).sum();
    let merged = (total > 1).then(|| {
        counts
            .iter()
            .map(|&(i, n)| if n > 1 { format!("{} x{n}", names[i]) } else { names[i].to_string() })
            .collect::<Vec<_>>()
            .join(", ")
    });
    (request, merged)
}

static CHILD_GRACEFUL: AtomicBool = AtomicBool::new(false);

/// The child's copies of the listening sockets, closed by its USR1 handler.
const MAX_LISTENERS: usize = 64;
static LISTENER_FDS: [AtomicI32; MAX_LISTENERS] = [const { AtomicI32::new(-1) }; MAX_LISTENERS];

extern "C" fn on_child_usr1(_: nix::libc::c_int) {
    CHILD_GRACEFUL.store(true, Ordering::SeqCst);
    // A stopping child closes its copies of the listening sockets at once
    // (MPM-SPEC §1.2), so that after WINCH, when every child has closed
    // them, new connections are refused rather than queued unanswered. The
    // child never uses or drops its Listener objects after this: it exits.
    for slot in &LISTENER_FDS {
        let fd = slot.swap(-1, Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: close(2) is async-signal-safe; `fd` is this child's
            // copy of a listening socket, registered by the child itself.
            unsafe {
                nix::libc::close(fd);
            }
        }
    }
}

/// Registers the child's listening sockets for its USR1 handler to close.
pub fn register_listener_fds(fds: &[std::os::fd::RawFd]) {
    for (slot, &fd) in LISTENER_FDS.iter().zip(fds) {
        slot.store(fd, Ordering::SeqCst);
    }
}

/// A prefork child's signals (MPM-SPEC §1.2): TERM and HUP end it at once
/// (their default action), INT is ignored (Ctrl-C goes to the parent, which
/// stops everyone), USR1 asks it to finish its connection and exit. Without
/// SA_RESTART, so a wait in progress returns EINTR and sees the flag.
pub fn install_child_handlers() -> nix::Result<()> {
    let graceful = SigAction::new(SigHandler::Handler(on_child_usr1), SaFlags::empty(), SigSet::empty());
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    // SAFETY: the handler only stores to an atomic.
    unsafe { sigaction(Signal::SIGUSR1, &graceful) }?;
    for signal in [Signal::SIGTERM, Signal::SIGHUP, Signal::SIGWINCH] {
        // SAFETY: restoring the default action installs no code.
        unsafe { sigaction(signal, &default) }?;
    }
    // SAFETY: ignoring a signal installs no code.
    unsafe { sigaction(Signal::SIGINT, &ignore) }?;
    WAKE_FD.store(-1, Ordering::SeqCst);
    Ok(())
}

/// Whether this child was asked (USR1, the pipe of death, a new
/// generation) to stop after its current work.
pub fn child_should_stop() -> bool {
    CHILD_GRACEFUL.load(Ordering::SeqCst)
}

/// Marks this child as stopping, as USR1 does: keep-alive connections end
/// after their current request.
pub fn request_child_stop() {
    CHILD_GRACEFUL.store(true, Ordering::SeqCst);
}

/// Blocks the signals the main thread handles in the calling thread, so a
/// threaded child's USR1 interrupts the main thread's wait.
pub fn block_signals_in_thread() {
    let mut set = SigSet::empty();
    for signal in [Signal::SIGUSR1, Signal::SIGHUP, Signal::SIGTERM, Signal::SIGWINCH, Signal::SIGINT] {
        set.add(signal);
    }
    let _ = nix::sys::signal::pthread_sigmask(nix::sys::signal::SigmaskHow::SIG_BLOCK, Some(&set), None);
}

/// Forks. The child runs `child` and exits with the code it returns; the
/// parent gets the child's pid.
pub fn fork_child(child: impl FnOnce() -> i32) -> nix::Result<Pid> {
    debug_assert_eq!(thread_count(), Some(1), "fork from a threaded parent");
    // SAFETY: the parent never starts threads (ARCHITECTURE.md, "Processes";
    // asserted above in debug builds), so the child may allocate, lock and
    // log like any fresh process.
    match unsafe { nix::unistd::fork() }? {
        ForkResult::Child => {
            let code = child();
            // Flush what std buffers; the access log is unbuffered.
            use std::io::Write;
            let _ = std::io::stdout().flush();
            std::process::exit(code)
        }
        ForkResult::Parent { child } => Ok(child),
    }
}

/// Ends the process now with `code` (`_exit(2)`): no destructors, no atexit
/// handlers, no stdio flush, whatever the other threads are doing. For a
/// child that must not run on (logs::panics); its logs are unbuffered.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` is async-signal-safe and touches no memory of ours; it
    // only ends the process.
    unsafe { nix::libc::_exit(code) }
}

/// The number of threads of this process, from /proc (Linux).
pub fn thread_count() -> Option<usize> {
    std::fs::read_dir("/proc/self/task").ok().map(|d| d.count())
}

/// Detaches from the terminal as httpd does unless FOREGROUND: fork (the
/// original process exits), setsid, chdir /, stdin/stdout/stderr to
/// /dev/null. `fork_too` is false for NO_DETACH (all but the fork).
pub fn detach(fork_too: bool) -> nix::Result<()> {
    if fork_too {
        // SAFETY: called before any thread exists (the parent never starts one).
        if let ForkResult::Parent { .. } = unsafe { nix::unistd::fork() }? {
            std::process::exit(0);
        }
    }
    nix::unistd::setsid()?;
    nix::unistd::chdir("/")?;
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|_| nix::Error::ENOENT)?;
    nix::unistd::dup2_stdin(&null)?;
    nix::unistd::dup2_stdout(&null)?;
    nix::unistd::dup2_stderr(&null)?;
    Ok(())
}

/// Resolves `User`/`Group` values (`name` or `#id`); `#-1` (httpd's default)
/// is taken as nobody's ids when dropping from root.
pub fn resolve_ids(user: &str, group: &str) -> Result<(Uid, Gid, String), String> {
    let (uid, user_name) = match user.strip_prefix('#') {
        Some("-1") => (Uid::from_raw(65534), "nobody".to_string()),
        Some(n) => (Uid::from_raw(n.parse().map_err(|_| format!("bad user name {user}"))?), user.to_string()),
        None => {
            let u = nix::unistd::User::from_name(user)
                .ok()
                .flatten()
                .ok_or_else(|| format!("bad user name {user}"))?;
            (u.uid, u.name)
        }
    };
    let gid = match group.strip_prefix('#') {
        Some("-1") => Gid::from_raw(65534),
        Some(n) => Gid::from_raw(n.parse().map_err(|_| format!("bad group name {group}"))?),
        None => {
            nix::unistd::Group::from_name(group)
                .ok()
                .flatten()
                .ok_or_else(|| format!("bad group name {group}"))?
                .gid
        }
    };
    Ok((uid, gid, user_name))
}

/// Drops root privileges in a child (MPM-SPEC §1.7): setgid, initgroups,
/// setuid. A child that would still be root refuses to serve.
pub fn drop_privileges(user: &str, group: &str) -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    let (uid, gid, name) = resolve_ids(user, group)?;
    nix::unistd::setgid(gid)
        .map_err(|e| format!("AH02155: setgid: unable to set group id to Group {gid}: {e}"))?;
    let cname = std::ffi::CString::new(name.clone()).map_err(|_| format!("bad user name {name}"))?;
    if nix::unistd::initgroups(&cname, gid).is_err() {
        nix::unistd::setgroups(&[gid]).map_err(|e| {
            format!("AH02158: initgroups: unable to set groups for User {name} and Group {gid}: {e}")
        })?;
    }
    nix::unistd::setuid(uid).map_err(|e| format!("AH02159: setuid: unable to change to uid: {uid}: {e}"))?;
    if nix::unistd::geteuid().is_root() || nix::unistd::getuid().is_root() {
        return Err("refusing to serve as root: User resolves to uid 0".into());
    }
    Ok(())
}

/// The name of a signal number, as httpd's `apr_signal_description`.
pub fn signal_name(signal: Signal) -> &'static str {
    match signal {
        Signal::SIGSEGV => "Segmentation fault",
        Signal::SIGBUS => "Bus error",
        Signal::SIGABRT => "Aborted",
        Signal::SIGILL => "Illegal instruction",
        Signal::SIGFPE => "Floating point exception",
        Signal::SIGKILL => "Killed",
        Signal::SIGTERM => "Terminated",
        Signal::SIGHUP => "Hangup",
        Signal::SIGINT => "Interrupt",
        Signal::SIGUSR1 => "User defined signal 1",
        Signal::SIGPIPE => "Broken pipe",
        _ => signal.as_str(),
    }
}
