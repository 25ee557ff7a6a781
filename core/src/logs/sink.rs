//! Where log lines go: a file opened with O_APPEND, or the stdin of a piped
//! log program. Lines are built whole and handed to one `write_all`, whose
//! first `write(2)` carries the whole line; with O_APPEND the kernel places
//! each such write at the end atomically, so lines from many processes and
//! threads never interleave. Nothing is buffered in userspace, so nothing is
//! lost when a process stops. (A pipe keeps writes of up to PIPE_BUF, 4096
//! bytes, whole; longer lines to a piped log may interleave, as in httpd.)

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Opens `path` for appending, creating it with mode 0644 (before umask).
pub(crate) fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().append(true).create(true).mode(0o644).open(path)
}

/// A log program started for a `|program` target.
#[derive(Debug)]
pub(crate) struct PipedProgram {
    child: Child,
    /// The process that started it: only that one stops it (forked children
    /// inherit this value but must leave the program alone).
    spawner: u32,
}

/// Starts the program of a piped target (the text after `|`) with a pipe
/// as its stdin, and returns the pipe's write end.
///
/// httpd 2.4 runs `|program` without a shell and `|$program` through one;
/// here both go through `/bin/sh -c`, the first as `exec program` so that
/// the shell becomes the program (it gets the pipe and, at the end, the
/// signal) and quoting works as users expect. `||program` is 2.2's spelling
/// of the first form.
pub(crate) fn spawn_piped(program: &str) -> io::Result<(File, PipedProgram)> {
    let script = match program.strip_prefix('$') {
        Some(shell_command) => shell_command.to_string(),
        None => format!("exec {}", program.strip_prefix('|').unwrap_or(program)),
    };
    let mut child = Command::new("/bin/sh").arg("-c").arg(script).stdin(Stdio::piped()).spawn()?;
    let stdin = child.stdin.take().expect("stdin was piped");
    let pipe = File::from(OwnedFd::from(stdin));
    Ok((pipe, PipedProgram { child, spawner: std::process::id() }))
}

impl Drop for PipedProgram {
    /// The owner closes the write end first; the program then reads what is
    /// left in the pipe, sees end of file and exits. One that is still
    /// running after 2 s gets SIGTERM (httpd's `piped_log_cleanup` sends it at
    /// once, which can lose the lines still in the pipe).
    fn drop(&mut self) {
        if std::process::id() != self.spawner {
            return;
        }
        if exited_within(&mut self.child, Duration::from_secs(2)) {
            return;
        }
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
        }
        let _ = exited_within(&mut self.child, Duration::from_secs(1));
    }
}

/// Polls `child` until it exits (or is reaped by someone else) or `limit` passes.
fn exited_within(child: &mut Child, limit: Duration) -> bool {
    let (deadline, mut pause) = (Instant::now() + limit, Duration::from_millis(1));
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() >= deadline => return false,
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
        }
    }
}

/// An OS error as httpd prints one before a message: `(13)Permission denied`.
pub(crate) fn os_error(e: &io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(code) => format!("({code}){}", text.split(" (os error").next().unwrap_or(&text)),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_read_as_httpd_prints_them() {
        let e = io::Error::from_raw_os_error(13);
        assert_eq!(os_error(&e), "(13)Permission denied");
        assert_eq!(os_error(&io::Error::other("no luck")), "no luck");
    }
}
