//! A harness that runs the real `prefork-server`, `worker-server` and
//! `event-server` binaries: [`Server`] names them, [`Server::run`] runs one
//! with a deadline and returns its [`Output`], [`TempDir`] holds the
//! configuration files a test writes, and [`each_server!`] expands one test
//! body into a `#[test]` per binary ([`supervised_servers!`] for the process
//! model tests). [`wait_for`] polls a condition with a deadline;
//! [`children_of`] lists a server's children from `/proc`. [`http`] runs
//! servers and speaks to them, [`status`] reads server-status pages, and
//! [`supervised`] holds what the process-model tests share.
//!
//! `cargo test --workspace` builds no other package's executables, and
//! `CARGO_BIN_EXE_<name>` exists only in the binary's own package, so
//! [`binary`] builds them once with `$CARGO build --bins` and looks for them
//! beside the test executable, as ripgrep's `Dir::bin` does.

pub mod http;
pub mod status;
pub mod supervised;
pub mod tls;

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long one run of a binary may take before the harness kills it. The
/// command line answers in milliseconds; this only bounds a hang.
pub const RUN_LIMIT: Duration = Duration::from_secs(30);

/// The prefix of the environment variables that set directives; the harness
/// removes every inherited one so the host environment cannot leak in.
pub const ENV_PREFIX: &str = "HTTPD_";

/// One of the three binaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Prefork,
    Worker,
    Event,
}

impl Server {
    pub const ALL: [Server; 3] = [Server::Prefork, Server::Worker, Server::Event];

    /// The executable's name, which it also uses where httpd says `httpd:`.
    pub fn binary_name(self) -> &'static str {
        match self {
            Server::Prefork => "prefork-server",
            Server::Worker => "worker-server",
            Server::Event => "event-server",
        }
    }

    /// The MPM's name, as `-V` prints it after `Server MPM:`.
    pub fn mpm(self) -> &'static str {
        match self {
            Server::Prefork => "prefork",
            Server::Worker => "worker",
            Server::Event => "event",
        }
    }

    /// The MPM's module identifier (`-M`, `<IfModule>`, `LoadModule`).
    pub fn module_id(self) -> &'static str {
        match self {
            Server::Prefork => "mpm_prefork_module",
            Server::Worker => "mpm_worker_module",
            Server::Event => "mpm_event_module",
        }
    }

    /// The MPM's source file name (`-l`).
    pub fn source(self) -> &'static str {
        match self {
            Server::Prefork => "prefork.c",
            Server::Worker => "worker.c",
            Server::Event => "event.c",
        }
    }

    /// Whether children run threads (worker and event).
    pub fn is_threaded(self) -> bool {
        self != Server::Prefork
    }

    /// The two other binaries.
    pub fn others(self) -> impl Iterator<Item = Server> {
        Server::ALL.into_iter().filter(move |s| *s != self)
    }

    /// The built executable.
    pub fn path(self) -> PathBuf {
        binary(self.binary_name())
    }

    /// Runs the binary with `args` and, on top of an environment cleared of
    /// `HTTPD_*`, the variables in `env`.
    #[track_caller]
    pub fn run<A: AsRef<OsStr>>(self, args: &[A], env: &[(&str, &str)]) -> Output {
        run(&self.path(), args, env)
    }

    /// Runs the binary with `-d root -f httpd.conf` before `args`.
    #[track_caller]
    pub fn run_in(self, root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut all = vec!["-d", utf8(root), "-f", CONF_NAME];
        all.extend(args);
        run(&self.path(), &all, env)
    }

    /// `-t` on the ServerRoot `root` (with `httpd.conf` in it), plus `args`.
    #[track_caller]
    pub fn check(self, root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut all = vec!["-t"];
        all.extend(args);
        self.run_in(root, &all, env)
    }
}

/// The main configuration file's name inside a ServerRoot.
pub const CONF_NAME: &str = "httpd.conf";

/// What a passing `-t` prints: nothing on stdout, this on stderr, exit 0.
pub const SYNTAX_OK: &str = "Syntax OK\n";

/// The path of the workspace binary `name`, built (once per test process)
/// with the profile the tests were built with.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(build_binaries);
    let path = bin_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.is_file(), "{} was not built (looked beside the test executable)", path.display());
    path
}

/// The workspace root: this crate's parent directory.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("integration-tests sits in the workspace root")
}

/// The directory holding the built binaries: the test executable's own,
/// without the trailing `deps` (ripgrep's `Dir::bin`).
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe.parent().expect("the test executable sits in a directory").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

fn build_binaries() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let dir = bin_dir();
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace_root()).args(["build", "--bins"]);
    // Build into the target directory and with the profile the tests were
    // built with, so the binaries land beside the test executable even under
    // `--target-dir` or `--release`: <target>/debug holds the dev (and test)
    // profile, <target>/release the release (and bench) profile, any other
    // directory the profile of its name.
    if let Some(target_dir) = dir.parent() {
        cmd.arg("--target-dir").arg(target_dir);
    }
    match dir.file_name().and_then(OsStr::to_str) {
        Some("debug") | None => {}
        Some(profile) => {
            cmd.args(["--profile", profile]);
        }
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("running {}: {e}", Path::new(&cargo).display()));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What a finished run printed.
#[derive(Debug, Clone)]
pub struct Output {
    /// The command, for messages.
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The exit code (`None` if a signal ended the process).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Asserts the exit code and both streams exactly; on a mismatch prints
    /// what was expected and what came, in full.
    #[track_caller]
    pub fn assert(&self, code: i32, stdout: &str, stderr: &str) {
        if self.code() != Some(code) || self.stdout != stdout || self.stderr != stderr {
            panic!(
                "\ncommand: {}\n{}",
                self.command,
                report(&streams(&format!("exit {code}"), stdout, stderr), &self.summary())
            );
        }
    }

    /// Asserts the exit code alone.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        if self.code() != Some(code) {
            panic!("expected exit code {code}\n{}", self.describe());
        }
        self
    }

    /// The exit status and both streams, labelled, for failure messages.
    pub fn describe(&self) -> String {
        format!("command: {}\n{}", self.command, self.summary())
    }

    fn summary(&self) -> String {
        let code = self.code().map_or_else(|| self.status.to_string(), |c| format!("exit {c}"));
        streams(&code, &self.stdout, &self.stderr)
    }
}

/// An exit status and both streams, each stream under a marker line; a
/// stream not ending in a newline is flagged as diff does.
fn streams(status: &str, stdout: &str, stderr: &str) -> String {
    let section = |name: &str, text: &str| {
        let flag = if text.is_empty() || text.ends_with('\n') { "" } else { "\n\\ No newline at end\n" };
        format!("--- {name}\n{text}{flag}")
    };
    format!("{status}\n{}{}", section("stdout", stdout), section("stderr", stderr))
}

/// Runs `bin` with `args`, stdin closed, the inherited `HTTPD_*` variables
/// removed and `env` added. Panics if it runs past [`RUN_LIMIT`] (after
/// killing it).
#[track_caller]
pub fn run<A: AsRef<OsStr>>(bin: &Path, args: &[A], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().to_ascii_uppercase().starts_with(ENV_PREFIX) {
            cmd.env_remove(name);
        }
    }
    cmd.envs(env.iter().copied());
    let command = describe_command(bin, args, env);

    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawning {command}: {e}"));
    // Drain both pipes while waiting: a child blocked on a full pipe (-L
    // prints many kilobytes) would otherwise never exit.
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status = wait_for_exit(&mut child, &command);
    Output {
        command,
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// Reads `pipe` to its end on a thread of its own (so a child that fills
/// one pipe never blocks on it); the thread returns what came, as text.
pub fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[track_caller]
fn wait_for_exit(child: &mut std::process::Child, command: &str) -> ExitStatus {
    let (deadline, mut pause) = (Instant::now() + RUN_LIMIT, Duration::from_millis(1));
    loop {
        if let Some(status) = child.try_wait().unwrap_or_else(|e| panic!("waiting for {command}: {e}")) {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gave up after {RUN_LIMIT:?} waiting for {command} to exit; killed it");
        }
        std::thread::sleep(pause); // back-off between checks, never a guess
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

fn describe_command<A: AsRef<OsStr>>(bin: &Path, args: &[A], env: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (name, value) in env {
        let _ = write!(out, "{name}={value:?} ");
    }
    let _ = write!(out, "{}", bin.display());
    for arg in args {
        let arg = arg.as_ref().to_string_lossy();
        if arg.is_empty() || arg.contains(char::is_whitespace) {
            let _ = write!(out, " {arg:?}");
        } else {
            let _ = write!(out, " {arg}");
        }
    }
    out
}

/// Both texts in full, between rules so that trailing whitespace and
/// newlines show (ripgrep's `eqnice!`).
fn report(expected: &str, got: &str) -> String {
    let rule = "~".repeat(60);
    let framed = |text: &str| {
        if text.is_empty() || text.ends_with('\n') { text.to_string() } else { format!("{text}\n") }
    };
    format!("expected:\n{rule}\n{}{rule}\ngot:\n{rule}\n{}{rule}\n", framed(expected), framed(got))
}

/// Asserts two texts are equal; on a mismatch prints both in full (ripgrep's `eqnice!`).
#[track_caller]
pub fn assert_text(expected: &str, got: &str) {
    if expected != got {
        panic!("\n{}", report(expected, got));
    }
}

/// Asserts `text` starts with `prefix`; on a mismatch prints both in full.
#[track_caller]
pub fn assert_starts_with(prefix: &str, text: &str) {
    if !text.starts_with(prefix) {
        panic!("\nexpected a text starting with the first, got the second:\n{}", report(prefix, text));
    }
}

/// Asserts `text` has `line` as one of its lines, whole.
#[track_caller]
pub fn assert_has_line(text: &str, line: &str) {
    if !text.lines().any(|l| l == line) {
        panic!("\nno line equal to\n    {line:?}\nin:\n{}", report(line, text));
    }
}

/// Asserts no line of `text` is `line`.
#[track_caller]
pub fn assert_no_line(text: &str, line: &str) {
    if text.lines().any(|l| l == line) {
        panic!("\nunexpected line\n    {line:?}\nin:\n{text}");
    }
}

/// The one line of `text` that starts with `prefix`; panics, printing
/// `text`, if there is none or more than one.
#[track_caller]
pub fn line_starting<'a>(text: &'a str, prefix: &str) -> &'a str {
    let mut found = text.lines().filter(|l| l.starts_with(prefix));
    match (found.next(), found.next()) {
        (Some(line), None) => line,
        (None, _) => panic!("\nno line starts with {prefix:?} in:\n{text}"),
        (Some(_), Some(_)) => panic!("\nmore than one line starts with {prefix:?} in:\n{text}"),
    }
}

/// `path` as a `&str`, for argument lists (test paths are UTF-8).
#[track_caller]
pub fn utf8(path: &Path) -> &str {
    path.to_str().unwrap_or_else(|| panic!("{} is not UTF-8", path.display()))
}

/// The shared-conf crate's directory: a ServerRoot holding `httpd.conf`,
/// `mime.types` and `htdocs/`.
pub fn shared_conf_dir() -> &'static Path {
    shared_conf::dir()
}

/// A directory under the system temporary directory, removed on drop
/// (kept, and its path printed, when the test is panicking).
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh directory, named after the process, a counter and the
    /// time so that parallel tests and test processes never share one. The
    /// path is canonical, so it equals the paths the binaries print.
    pub fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name = format!(
            "httpd-integration-tests-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        let path = path.canonicalize().unwrap_or_else(|e| panic!("canonicalizing {}: {e}", path.display()));
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The absolute path of `rel` inside the directory (not created).
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path.join(rel)
    }

    /// Writes `contents` to `rel`, creating parent directories; returns the
    /// absolute path.
    pub fn write(&self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
        }
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// A fresh ServerRoot: `httpd.conf` holding `conf`, and an empty
    /// `htdocs/` for a `DocumentRoot htdocs` line to name.
    pub fn server_root(conf: &str) -> TempDir {
        let dir = TempDir::new();
        dir.write(CONF_NAME, conf);
        dir.mkdir("htdocs");
        dir
    }

    /// `httpd.conf` in the directory, as the binaries print it.
    pub fn conf(&self) -> String {
        self.path.join(CONF_NAME).display().to_string()
    }

    /// Creates the directory `rel` (and its parents); returns its absolute path.
    pub fn mkdir(&self, rel: impl AsRef<Path>) -> PathBuf {
        let path = self.path.join(rel);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        path
    }
}

impl Default for TempDir {
    fn default() -> Self {
        TempDir::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("keeping {} for inspection", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Expands one test body into a `#[test]` per binary, as ripgrep's `rgtest!`
/// runs each body per regex engine: `each_server!(name, |server| { ... })`
/// gives `name::prefork`, `name::worker` and `name::event`, each calling the
/// body with its [`Server`].
#[macro_export]
macro_rules! each_server {
    ($name:ident, |$server:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body($server: $crate::Server) $body

            #[test]
            fn prefork() {
                body($crate::Server::Prefork)
            }

            #[test]
            fn worker() {
                body($crate::Server::Worker)
            }

            #[test]
            fn event() {
                body($crate::Server::Event)
            }
        }
    };
}

/// Expands one process-model test body (children, signals, `-k`, the
/// scoreboard) into a `#[test]` per binary with a process model, which is
/// every one of them: `supervised_servers!(name, |server| { ... })` gives
/// `name::prefork`, `name::worker` and `name::event`. The bodies size each
/// MPM in its own directives ([`supervised::site`], [`supervised::spares`]):
/// each binary rejects another MPM's (MinSpareServers in worker-server).
#[macro_export]
macro_rules! supervised_servers {
    ($name:ident, |$server:ident| $body:block) => {
        $crate::each_server!($name, |$server| $body);
    };
}

/// Polls `probe` until it returns `Some`, backing off from 1 ms to 50 ms
/// between checks; panics after `limit` (STYLE.md section 8: never sleep to
/// synchronize, wait on a condition with a deadline).
#[track_caller]
pub fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    wait_until(what, limit, || probe().ok_or_else(String::new))
}

/// [`wait_for`] with a probe that says what it saw when the condition does
/// not hold yet; the last of those is in the panic message.
#[track_caller]
pub fn wait_until<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let (deadline, mut pause) = (Instant::now() + limit, Duration::from_millis(1));
    loop {
        let seen = match probe() {
            Ok(found) => return found,
            Err(seen) => seen,
        };
        if Instant::now() >= deadline {
            panic!("gave up after {limit:?} waiting for {what}; last seen:\n{seen}");
        }
        std::thread::sleep(pause); // back-off between checks, never a guess
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The live children of process `parent`, sorted: every process whose
/// `/proc/<pid>/stat` names `parent` as its parent, zombies (exited, not yet
/// reaped) left out. Linux only, as the servers' process model.
pub fn children_of(parent: u32) -> Vec<u32> {
    let mut children = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return children };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if let Some((state, ppid)) = proc_state(pid) {
            if ppid == parent && !matches!(state, 'Z' | 'X') {
                children.push(pid);
            }
        }
    }
    children.sort_unstable();
    children
}

/// Whether process `pid` exists and has not exited (a zombie counts as gone).
pub fn is_alive(pid: u32) -> bool {
    proc_state(pid).is_some_and(|(state, _)| !matches!(state, 'Z' | 'X'))
}

/// The state letter and parent pid of `pid`, from `/proc/<pid>/stat`:
/// `pid (comm) state ppid ...`, where comm may hold spaces and parentheses,
/// so the fields are taken after the last `)`.
fn proc_state(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}
