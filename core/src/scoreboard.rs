//! The scoreboard: one region of shared memory, made by the parent before its
//! first fork and inherited by every child, where each process and worker
//! says what it is doing (httpd's `include/scoreboard.h`).
//!
//! The region holds only `#[repr(C)]` atomics and byte arrays of atomics: no
//! pointers, no heap data, so every process may read it at any time and a
//! zeroed region is a valid empty scoreboard. Each record has one writer at a
//! time (its worker, or the parent after the child died), so no locks.
//!
//! All `unsafe` for the mapping lives in this module.

use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU8, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};

/// A worker's state, with httpd's numbers and mod_status characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum WorkerStatus {
    Dead = 0,
    Starting = 1,
    Ready = 2,
    BusyRead = 3,
    BusyWrite = 4,
    BusyKeepalive = 5,
    BusyLog = 6,
    BusyDns = 7,
    Closing = 8,
    Graceful = 9,
    IdleKill = 10,
}

impl WorkerStatus {
    pub fn from_u8(v: u8) -> WorkerStatus {
        use WorkerStatus::*;
        match v {
            1 => Starting,
            2 => Ready,
            3 => BusyRead,
            4 => BusyWrite,
            5 => BusyKeepalive,
            6 => BusyLog,
            7 => BusyDns,
            8 => Closing,
            9 => Graceful,
            10 => IdleKill,
            _ => Dead,
        }
    }

    /// mod_status's character for the state.
    pub fn as_char(self) -> char {
        use WorkerStatus::*;
        match self {
            Dead => '.',
            Starting => 'S',
            Ready => '_',
            BusyRead => 'R',
            BusyWrite => 'W',
            BusyKeepalive => 'K',
            BusyLog => 'L',
            BusyDns => 'D',
            Closing => 'C',
            Graceful => 'G',
            IdleKill => 'I',
        }
    }

    /// Maintenance counts every state up to Ready as idle (httpd's ordering).
    pub fn is_idle_for_maintenance(self) -> bool {
        self <= WorkerStatus::Ready
    }
}

/// A short text (request line, client, vhost, protocol) as atomic bytes.
#[repr(C)]
pub struct Text<const N: usize> {
    len: AtomicU8,
    bytes: [AtomicU8; N],
}

impl<const N: usize> Text<N> {
    /// Stores the first `N` bytes of `s` (or the last `N`, with `tail`).
    /// Readers may see a mix of old and new bytes while this runs, as in
    /// httpd; every byte they see is one that was written.
    pub fn set(&self, s: &str, tail: bool) {
        let b = s.as_bytes();
        let part = if tail && b.len() > N { &b[b.len() - N..] } else { &b[..b.len().min(N)] };
        self.len.store(0, Relaxed);
        for (slot, &byte) in self.bytes.iter().zip(part) {
            slot.store(byte, Relaxed);
        }
        self.len.store(part.len() as u8, Relaxed);
    }

    pub fn get(&self) -> String {
        let n = usize::from(self.len.load(Relaxed)).min(N);
        let bytes: Vec<u8> = self.bytes[..n].iter().map(|b| b.load(Relaxed)).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// The global record.
#[repr(C)]
pub struct GlobalScore {
    server_limit: AtomicU32,
    thread_limit: AtomicU32,
    running_generation: AtomicU32,
    /// mod_status's "Parent Server Config. Generation", from 1.
    config_generation: AtomicU32,
    /// Seconds since the epoch.
    restart_time: AtomicI64,
}

impl GlobalScore {
    pub fn running_generation(&self) -> u32 {
        self.running_generation.load(Relaxed)
    }
    pub fn set_running_generation(&self, g: u32) {
        self.running_generation.store(g, Relaxed);
    }
    pub fn config_generation(&self) -> u32 {
        self.config_generation.load(Relaxed)
    }
    pub fn set_config_generation(&self, g: u32) {
        self.config_generation.store(g, Relaxed);
    }
    pub fn restart_time(&self) -> i64 {
        self.restart_time.load(Relaxed)
    }
    pub fn set_restart_time(&self, secs: i64) {
        self.restart_time.store(secs, Relaxed);
    }
    pub fn server_limit(&self) -> usize {
        self.server_limit.load(Relaxed) as usize
    }
    pub fn thread_limit(&self) -> usize {
        self.thread_limit.load(Relaxed) as usize
    }
}

/// One child process's record.
#[repr(C)]
pub struct ProcessScore {
    pid: AtomicI32,
    generation: AtomicU32,
    /// Stopping gracefully.
    quiescing: AtomicU32,
    not_accepting: AtomicU32,
    // Event MPM connection counts.
    pub connections: AtomicU32,
    pub write_completion: AtomicU32,
    pub lingering_close: AtomicU32,
    pub keep_alive: AtomicU32,
    pub suspended: AtomicU32,
    pub wait_io: AtomicU32,
}

impl ProcessScore {
    /// 0 for an empty slot.
    pub fn pid(&self) -> i32 {
        self.pid.load(Relaxed)
    }
    pub fn set_pid(&self, pid: i32) {
        self.pid.store(pid, Relaxed);
    }
    pub fn generation(&self) -> u32 {
        self.generation.load(Relaxed)
    }
    pub fn set_generation(&self, g: u32) {
        self.generation.store(g, Relaxed);
    }
    pub fn quiescing(&self) -> bool {
        self.quiescing.load(Relaxed) != 0
    }
    pub fn set_quiescing(&self, on: bool) {
        self.quiescing.store(u32::from(on), Relaxed);
    }
    pub fn not_accepting(&self) -> bool {
        self.not_accepting.load(Relaxed) != 0
    }
    pub fn set_not_accepting(&self, on: bool) {
        self.not_accepting.store(u32::from(on), Relaxed);
    }

    /// Clears the record (the child is gone).
    pub fn reset(&self) {
        self.pid.store(0, Relaxed);
        self.quiescing.store(0, Relaxed);
        self.not_accepting.store(0, Relaxed);
        for c in [
            &self.connections,
            &self.write_completion,
            &self.lingering_close,
            &self.keep_alive,
            &self.suspended,
            &self.wait_io,
        ] {
            c.store(0, Relaxed);
        }
    }
}

/// One worker's record (a prefork child, or one thread of a worker/event child).
#[repr(C)]
pub struct WorkerScore {
    status: AtomicU8,
    pub pid: AtomicI32,
    pub tid: AtomicI32,
    pub generation: AtomicU32,
    /// Requests served in this slot, ever.
    pub access_count: AtomicU64,
    pub bytes_served: AtomicU64,
    /// Requests and bytes of the current child in this slot.
    pub my_access_count: AtomicU64,
    pub my_bytes_served: AtomicU64,
    /// Requests and bytes on the current connection.
    pub conn_count: AtomicU32,
    pub conn_bytes: AtomicU64,
    /// Microseconds since the epoch.
    pub start_time: AtomicI64,
    pub stop_time: AtomicI64,
    /// Seconds since the epoch.
    pub last_used: AtomicI64,
    /// Microseconds spent serving requests, in all.
    pub duration: AtomicU64,
    pub client: Text<64>,
    pub request: Text<64>,
    pub vhost: Text<32>,
    pub protocol: Text<16>,
}

impl WorkerScore {
    pub fn status(&self) -> WorkerStatus {
        WorkerStatus::from_u8(self.status.load(Relaxed))
    }

    /// Sets the state; entering Ready or Dead starts a new connection's
    /// counts, and Dead a new child's (httpd's `ap_update_child_status`).
    pub fn set_status(&self, status: WorkerStatus) {
        self.status.store(status as u8, Relaxed);
        if matches!(status, WorkerStatus::Ready | WorkerStatus::Dead) {
            self.conn_count.store(0, Relaxed);
            self.conn_bytes.store(0, Relaxed);
            self.last_used.store(now_secs(), Relaxed);
        }
        if status == WorkerStatus::Dead {
            self.my_access_count.store(0, Relaxed);
            self.my_bytes_served.store(0, Relaxed);
        }
    }

    /// Counts one request served (ExtendedStatus On): its body bytes and time.
    pub fn count_request(&self, bytes: u64, micros: u64) {
        self.access_count.fetch_add(1, Relaxed);
        self.my_access_count.fetch_add(1, Relaxed);
        self.conn_count.fetch_add(1, Relaxed);
        self.bytes_served.fetch_add(bytes, Relaxed);
        self.my_bytes_served.fetch_add(bytes, Relaxed);
        self.conn_bytes.fetch_add(bytes, Relaxed);
        self.duration.fetch_add(micros, Relaxed);
    }
}

/// The whole region.
pub struct Scoreboard {
    base: NonNull<u8>,
    server_limit: usize,
    thread_limit: usize,
    processes_at: usize,
    workers_at: usize,
}

// SAFETY: the region holds only atomics (and is never unmapped: see
// `create`), so shared references to it may cross threads freely.
unsafe impl Send for Scoreboard {}
// SAFETY: as above; every access goes through atomic operations.
unsafe impl Sync for Scoreboard {}

fn align_up(n: usize, align: usize) -> usize {
    n.div_ceil(align) * align
}

impl Scoreboard {
    /// Maps a zeroed shared region for `server_limit` processes of
    /// `thread_limit` workers. Called by the parent before it forks; the
    /// mapping lives as long as the process (restarts reuse it, as
    /// ServerLimit and ThreadLimit cannot change on restart).
    pub fn create(server_limit: usize, thread_limit: usize) -> std::io::Result<&'static Scoreboard> {
        let server_limit = server_limit.max(1);
        let thread_limit = thread_limit.max(1);
        let processes_at = align_up(size_of::<GlobalScore>(), align_of::<ProcessScore>());
        let workers_at =
            align_up(processes_at + server_limit * size_of::<ProcessScore>(), align_of::<WorkerScore>());
        let len = workers_at + server_limit * thread_limit * size_of::<WorkerScore>();
        let len = NonZeroUsize::new(len).expect("the scoreboard has a global record");
        // SAFETY: an anonymous mapping at an address of the kernel's choice
        // aliases no existing memory; MAP_SHARED makes children inherit it.
        let ptr = unsafe {
            mmap_anonymous(None, len, ProtFlags::PROT_READ | ProtFlags::PROT_WRITE, MapFlags::MAP_SHARED)
        }
        .map_err(std::io::Error::from)?;
        let board = Box::leak(Box::new(Scoreboard {
            base: ptr.cast(),
            server_limit,
            thread_limit,
            processes_at,
            workers_at,
        }));
        board.global().server_limit.store(server_limit as u32, Relaxed);
        board.global().thread_limit.store(thread_limit as u32, Relaxed);
        board.global().config_generation.store(1, Relaxed);
        board.global().restart_time.store(now_secs(), Relaxed);
        Ok(board)
    }

    pub fn server_limit(&self) -> usize {
        self.server_limit
    }

    pub fn thread_limit(&self) -> usize {
        self.thread_limit
    }

    pub fn global(&self) -> &GlobalScore {
        // SAFETY: the region starts with a GlobalScore (mmap returns
        // page-aligned memory), was zeroed by the kernel (a valid value for
        // atomics) and is never unmapped.
        unsafe { &*self.base.as_ptr().cast::<GlobalScore>() }
    }

    /// The record of child slot `slot` (< ServerLimit).
    pub fn process(&self, slot: usize) -> &ProcessScore {
        assert!(slot < self.server_limit, "process slot {slot} beyond ServerLimit {}", self.server_limit);
        // SAFETY: `processes_at` is aligned for ProcessScore and the region
        // holds `server_limit` of them there (see `create`); zeroed atomics
        // are valid; the mapping outlives `self`.
        unsafe { &*self.base.as_ptr().add(self.processes_at).cast::<ProcessScore>().add(slot) }
    }

    /// The record of worker `thread` of child slot `slot`.
    pub fn worker(&self, slot: usize, thread: usize) -> &WorkerScore {
        assert!(
            slot < self.server_limit && thread < self.thread_limit,
            "worker {slot}/{thread} out of range"
        );
        let index = slot * self.thread_limit + thread;
        // SAFETY: as for `process`, for the `server_limit * thread_limit`
        // WorkerScores at `workers_at`.
        unsafe { &*self.base.as_ptr().add(self.workers_at).cast::<WorkerScore>().add(index) }
    }

    /// Zeroes every process and worker record (a non-graceful restart
    /// starts a fresh scoreboard in httpd), keeping the limits.
    pub fn clear(&self) {
        for slot in 0..self.server_limit {
            self.process(slot).reset();
            self.process(slot).set_generation(0);
            for thread in 0..self.thread_limit {
                let w = self.worker(slot, thread);
                w.set_status(WorkerStatus::Dead);
                for c in [&w.access_count, &w.bytes_served, &w.duration] {
                    c.store(0, Relaxed);
                }
                w.request.set("", false);
                w.client.set("", false);
            }
        }
        self.global().set_restart_time(now_secs());
    }

    /// The `Scoreboard:` line: one character per worker of the first
    /// `processes` slots and `threads` threads each.
    pub fn status_line(&self, processes: usize, threads: usize) -> String {
        let mut out = String::with_capacity(processes * threads);
        for slot in 0..processes.min(self.server_limit) {
            for thread in 0..threads.min(self.thread_limit) {
                out.push(self.worker(slot, thread).status().as_char());
            }
        }
        out
    }
}

pub fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

pub fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_board_is_all_dead() {
        let board = Scoreboard::create(4, 3).unwrap();
        assert_eq!(board.status_line(4, 3), "............");
        assert_eq!(board.global().config_generation(), 1);
        assert_eq!(board.process(3).pid(), 0);
    }

    #[test]
    fn records_do_not_overlap() {
        let board = Scoreboard::create(3, 2).unwrap();
        for slot in 0..3 {
            board.process(slot).set_pid(100 + slot as i32);
            for thread in 0..2 {
                board.worker(slot, thread).set_status(WorkerStatus::BusyWrite);
                board.worker(slot, thread).request.set(&format!("GET /{slot}/{thread} HTTP/1.1"), false);
            }
        }
        board.worker(1, 1).set_status(WorkerStatus::Ready);
        assert_eq!(board.status_line(3, 2), "WWW_WW");
        assert_eq!(board.worker(2, 0).request.get(), "GET /2/0 HTTP/1.1");
        assert_eq!(board.process(2).pid(), 102);
        board.global().set_running_generation(7);
        assert_eq!(board.global().running_generation(), 7);
        assert_eq!(board.global().server_limit(), 3);
    }

    #[test]
    fn text_keeps_the_head_or_the_tail() {
        let board = Scoreboard::create(1, 1).unwrap();
        let long = format!("GET /{} HTTP/1.1", "x".repeat(100));
        board.worker(0, 0).request.set(&long, false);
        assert_eq!(board.worker(0, 0).request.get(), long[..64]);
        board.worker(0, 0).request.set(&long, true);
        assert_eq!(board.worker(0, 0).request.get(), long[long.len() - 64..]);
    }

    #[test]
    fn counters_and_status_resets() {
        let board = Scoreboard::create(1, 1).unwrap();
        let w = board.worker(0, 0);
        w.count_request(100, 5);
        w.count_request(50, 5);
        assert_eq!((w.access_count.load(Relaxed), w.conn_count.load(Relaxed)), (2, 2));
        w.set_status(WorkerStatus::Ready);
        assert_eq!((w.access_count.load(Relaxed), w.conn_count.load(Relaxed)), (2, 0));
        w.set_status(WorkerStatus::Dead);
        assert_eq!((w.my_access_count.load(Relaxed), w.bytes_served.load(Relaxed)), (0, 150));
        assert!(WorkerStatus::Starting.is_idle_for_maintenance());
        assert!(!WorkerStatus::BusyRead.is_idle_for_maintenance());
    }

    #[test]
    fn a_forked_child_writes_what_the_parent_reads() {
        let board = Scoreboard::create(2, 1).unwrap();
        // SAFETY: the child only stores to atomics and exits with _exit,
        // both async-signal-safe, so forking this threaded test is sound.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                board.worker(1, 0).set_status(WorkerStatus::BusyKeepalive);
                board.process(1).set_pid(4242);
                // SAFETY: _exit ends the child without running the
                // parent's atexit handlers or test harness.
                unsafe { nix::libc::_exit(0) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                nix::sys::wait::waitpid(child, None).unwrap();
                assert_eq!(board.worker(1, 0).status(), WorkerStatus::BusyKeepalive);
                assert_eq!(board.process(1).pid(), 4242);
            }
        }
    }
}
