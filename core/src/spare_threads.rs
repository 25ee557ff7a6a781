//! The threaded MPMs' idle-thread maintenance, once a second in the parent
//! (worker.c's and event.c's `perform_idle_server_maintenance`): idle
//! threads are counted across the children of the current generation; below
//! MinSpareThreads a child is forked (1, 2, 4 ... up to 32 a pass), above
//! MaxSpareThreads one is retired through the pipe of death. worker-server
//! and event-server share it; event also leaves out the idle threads of a
//! child that stopped accepting (AsyncRequestWorkerFactor).

use crate::limits::Capacity;
use crate::mpm::Maintenance;
use crate::scoreboard::Scoreboard;

/// worker.c's MAX_SPAWN_RATE.
const MAX_SPAWN_RATE: u32 = 32;

/// What the policy remembers between passes.
#[derive(Debug, Default)]
pub struct State {
    spawn_rate: u32,
    reported_max: bool,
}

pub fn maintain(board: &Scoreboard, cap: &Capacity, generation: u32, state: &mut State) -> Maintenance {
    let rate = state.spawn_rate.max(1);
    let threads = (cap.threads_per_child as usize).min(board.thread_limit());
    let mut idle = 0u32;
    let mut active = 0u32;
    let mut free = Vec::new();
    for slot in 0..board.server_limit() {
        let process = board.process(slot);
        if process.pid() == 0 {
            if free.len() < rate as usize {
                free.push(slot);
            }
            continue;
        }
        // Threads of stopping or old-generation children are not counted.
        if process.generation() != generation || process.quiescing() {
            continue;
        }
        active += 1;
        if process.not_accepting() {
            continue;
        }
        idle +=
            (0..threads).filter(|&t| board.worker(slot, t).status().is_idle_for_maintenance()).count() as u32;
    }
    if idle > cap.max_spare_threads {
        state.spawn_rate = 1;
        return Maintenance { spawn: Vec::new(), retire: 1 };
    }
    if idle < cap.min_spare_threads {
        if active >= cap.max_children {
            if !state.reported_max {
                if idle == 0 {
                    log::error!(
                        target: "mpm",
                        "AH00286: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting"
                    );
                } else {
                    log::error!(
                        target: "mpm",
                        "AH00287: server is within MinSpareThreads of MaxRequestWorkers, consider raising the MaxRequestWorkers setting"
                    );
                }
                state.reported_max = true;
            }
            state.spawn_rate = 1;
            return Maintenance::default();
        }
        if free.is_empty() {
            log::error!(target: "mpm", "AH00288: scoreboard is full, not at MaxRequestWorkers");
            state.spawn_rate = 1;
            return Maintenance::default();
        }
        free.truncate((cap.max_children - active) as usize);
        if rate >= 8 {
            log::info!(
                target: "mpm",
                "AH00289: server seems busy, (you may need to increase StartServers, ThreadsPerChild or \
                 Min/MaxSpareThreads), spawning {} children, there are around {idle} idle threads, and {active} total children",
                free.len()
            );
        }
        state.spawn_rate = (rate * 2).min(MAX_SPAWN_RATE);
        return Maintenance { spawn: free, retire: 0 };
    }
    state.spawn_rate = 1;
    Maintenance::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::mpm::MpmKind;
    use crate::scoreboard::WorkerStatus;

    fn capacity(f: impl FnOnce(&mut Settings)) -> Capacity {
        let mut s = Settings::default();
        f(&mut s);
        crate::limits::capacity(MpmKind::Worker, &s, 1).0
    }

    /// `children` children of ThreadsPerChild 25, `busy` threads busy in each.
    fn board(children: usize, busy: usize) -> &'static Scoreboard {
        let board = Scoreboard::create(16, 64).unwrap();
        for slot in 0..children {
            board.process(slot).set_pid(1000 + slot as i32);
            for t in 0..25 {
                let status = if t < busy { WorkerStatus::BusyWrite } else { WorkerStatus::Ready };
                board.worker(slot, t).set_status(status);
            }
        }
        board
    }

    #[test]
    fn a_child_is_forked_when_idle_threads_fall_below_min_spare() {
        let cap = capacity(|_| {});
        let mut state = State::default();
        // 3 children, 20 busy threads each: 15 idle < 75.
        assert_eq!(maintain(board(3, 20), &cap, 0, &mut state).spawn, [3]);
        assert_eq!(maintain(board(3, 20), &cap, 0, &mut state).spawn, [3, 4]);
        // 3 idle children: 75 idle, between the spares.
        assert_eq!(maintain(board(3, 0), &cap, 0, &mut state), Maintenance::default());
    }

    #[test]
    fn a_child_is_retired_above_max_spare() {
        let cap = capacity(|s| s.max_spare_threads = Some(100));
        let mut state = State::default();
        assert_eq!(maintain(board(5, 0), &cap, 0, &mut state).retire, 1);
    }

    #[test]
    fn max_request_workers_stops_forking() {
        let cap = capacity(|s| s.max_request_workers = Some(50));
        let mut state = State::default();
        assert!(maintain(board(2, 25), &cap, 0, &mut state).spawn.is_empty());
        assert!(state.reported_max);
    }
}
