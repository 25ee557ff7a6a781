//! DocumentRoot as an open directory, for the file lookup's `openat2`
//! (`handler::path`), kept true to the path it was opened from.
//!
//! Opened on first use in each process: the parent never serves, so a
//! child opens it after dropping its privileges, and the server's user
//! needs search permission on the way to it, as when every request walked
//! from `/`. httpd resolves DocumentRoot anew for every request, so sites
//! deployed by re-pointing a symbolic link (`current -> release-42`) switch
//! at once; a descriptor held for the life of a child would keep serving
//! the old release. So the path is checked again at most once a second
//! (one `stat`), and the directory reopened when it names another one:
//! a switch shows within a second, at no cost per request.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;

/// How stale the open directory may be.
const RECHECK: Duration = Duration::from_secs(1);

pub struct DocumentRootDir {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    dir: Option<Arc<OwnedFd>>,
    /// Device and inode of `dir`.
    id: Option<(u64, u64)>,
    checked: Option<Instant>,
}

impl std::fmt::Debug for DocumentRootDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DocumentRootDir({})", self.path.display())
    }
}

impl DocumentRootDir {
    pub fn new(path: &Path) -> DocumentRootDir {
        DocumentRootDir { path: path.to_path_buf(), state: Mutex::new(State::default()) }
    }

    /// The directory (`O_PATH`), or `None` when it cannot be opened, and
    /// requests then walk the path.
    pub fn get(&self) -> Option<Arc<OwnedFd>> {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        if state.checked.is_some_and(|at| now.duration_since(at) < RECHECK) {
            return state.dir.clone();
        }
        state.checked = Some(now);
        let current = std::fs::metadata(&self.path).ok().map(|m| (m.dev(), m.ino()));
        if current.is_none() || current != state.id {
            let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
            let dir = nix::fcntl::open(&self.path, flags, nix::sys::stat::Mode::empty()).ok();
            // The id of what was opened, not of what the path named a moment
            // earlier: a switch in between is then seen at the next check.
            state.id = dir.as_ref().and_then(|fd| nix::sys::stat::fstat(fd.as_fd()).ok()).map(|st| {
                // st_dev and st_ino are u64 on Linux; the casts are for other targets.
                #[allow(clippy::unnecessary_cast)]
                (st.st_dev as u64, st.st_ino as u64)
            });
            state.dir = dir.map(Arc::new);
        }
        state.dir.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `dir` holds a file named `name`.
    fn holds(dir: &OwnedFd, name: &str) -> bool {
        nix::sys::stat::fstatat(dir.as_fd(), name, nix::fcntl::AtFlags::empty()).is_ok()
    }

    #[test]
    fn a_re_pointed_link_is_followed_within_a_second() {
        let base = std::env::temp_dir().join(format!("docroot-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        for release in ["one", "two"] {
            std::fs::create_dir_all(base.join(release)).unwrap();
            std::fs::write(base.join(release).join(release), "x").unwrap();
        }
        let current = base.join("current");
        std::os::unix::fs::symlink("one", &current).unwrap();
        let root = DocumentRootDir::new(&current);
        assert!(holds(&root.get().unwrap(), "one"));

        // The deploy re-points the link (rename over it, atomically).
        std::os::unix::fs::symlink("two", base.join("next")).unwrap();
        std::fs::rename(base.join("next"), &current).unwrap();
        // Within the second, the open directory is kept...
        root.state.lock().unwrap().checked = Some(Instant::now());
        assert!(holds(&root.get().unwrap(), "one"));
        // ...and once it has passed, the new release is served.
        root.state.lock().unwrap().checked = Instant::now().checked_sub(RECHECK);
        assert!(holds(&root.get().unwrap(), "two"));
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_missing_root_is_none_and_is_opened_once_it_exists() {
        let base = std::env::temp_dir().join(format!("docroot-missing-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = DocumentRootDir::new(&base);
        assert!(root.get().is_none());
        std::fs::create_dir_all(&base).unwrap();
        root.state.lock().unwrap().checked = None;
        assert!(root.get().is_some());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
