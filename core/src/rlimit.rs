//! The descriptor limit a server starts with. Debian's default soft
//! RLIMIT_NOFILE is 1024, which an event child holding thousands of idle
//! keep-alive connections passes at once; httpd leaves the limit to the
//! init script (`ulimit -n`), nginx raises it with `worker_rlimit_nofile`.
//! Here the parent raises the soft limit to the hard one at start, before
//! the first fork, so every child inherits it, and logs the figure;
//! `RLimitNOFILE N` (nginx's `worker_rlimit_nofile`, not in httpd) asks for
//! N instead, raising the hard limit too when the parent runs as root.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// The most raised to: a hard limit of "unlimited" still means the
/// kernel's `fs.nr_open` (1 Mi by default), and no child needs more.
const CEILING: u64 = 1 << 20;

/// What the soft limit was and is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFile {
    pub before: u64,
    pub now: u64,
}

/// Raises the soft RLIMIT_NOFILE toward the hard limit. Never lowers it.
pub fn raise_nofile() -> nix::Result<NoFile> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    let target = hard.min(CEILING).max(soft);
    if target > soft {
        setrlimit(Resource::RLIMIT_NOFILE, target, hard)?;
    }
    let (now, _) = getrlimit(Resource::RLIMIT_NOFILE)?;
    Ok(NoFile { before: soft, now })
}

/// Sets the soft RLIMIT_NOFILE to `wanted`, raising the hard limit to it
/// when it is below (which only root may do).
pub fn set_nofile(wanted: u64) -> nix::Result<NoFile> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    setrlimit(Resource::RLIMIT_NOFILE, wanted, hard.max(wanted))?;
    let (now, _) = getrlimit(Resource::RLIMIT_NOFILE)?;
    Ok(NoFile { before: soft, now })
}

/// Sets the limit per RLimitNOFILE (`0`: raise to the hard limit) and says
/// so in the error log (at info: the figure is what an administrator
/// checks when connections are refused).
pub fn apply_and_log(wanted: u64) {
    let result = if wanted == 0 { raise_nofile() } else { set_nofile(wanted) };
    match result {
        Ok(NoFile { before, now }) if now > before => {
            log::info!(target: "core", "RLIMIT_NOFILE raised from {before} to {now} descriptors");
        }
        Ok(NoFile { before, now }) if now < before => {
            log::info!(target: "core", "RLIMIT_NOFILE lowered from {before} to {now} descriptors (RLimitNOFILE)");
        }
        Ok(NoFile { now, .. }) => {
            log::info!(target: "core", "RLIMIT_NOFILE is {now} descriptors");
        }
        Err(e) if wanted > 0 => {
            log::warn!(target: "core", "RLimitNOFILE {wanted}: could not set RLIMIT_NOFILE: {e}; keeping the limit as it was")
        }
        Err(e) => log::warn!(target: "core", "could not raise RLIMIT_NOFILE: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_never_lowers_and_reaches_the_hard_limit() {
        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        let got = raise_nofile().unwrap();
        assert!(got.now >= got.before, "{got:?}");
        assert_eq!(got.now, hard.min(CEILING).max(got.before), "{got:?}");
        // A second call changes nothing.
        assert_eq!(raise_nofile().unwrap(), NoFile { before: got.now, now: got.now });
    }
}
