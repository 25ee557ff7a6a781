//! prefork's idle-server maintenance, once a second in the parent (as
//! prefork.c's `perform_idle_server_maintenance`): keep between
//! MinSpareServers and MaxSpareServers idle children, forking 1, 2, 4 ... up
//! to 32 a second while short, retiring one a second while over.

use httpd_core::limits::Capacity;
use httpd_core::mpm::Maintenance;
use httpd_core::scoreboard::Scoreboard;

/// prefork.c's MAX_SPAWN_RATE.
const MAX_SPAWN_RATE: u32 = 32;

/// What the policy remembers between passes.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Children to fork on the next short pass (0 reads as 1).
    spawn_rate: u32,
    /// "server reached MaxRequestWorkers" is logged once.
    reported_max: bool,
}

pub(crate) fn maintain(
    board: &Scoreboard,
    cap: &Capacity,
    generation: u32,
    state: &mut State,
) -> Maintenance {
    let rate = state.spawn_rate.max(1);
    let mut idle = 0u32;
    let mut total = 0u32;
    let mut free = Vec::new();
    for slot in 0..(cap.max_children as usize).min(board.server_limit()) {
        let process = board.process(slot);
        if process.pid() == 0 {
            if free.len() < rate as usize {
                free.push(slot);
            }
            continue;
        }
        total += 1;
        let current = process.generation() == generation && !process.quiescing();
        if current && board.worker(slot, 0).status().is_idle_for_maintenance() {
            idle += 1;
        }
    }
    if idle > cap.max_spare_servers {
        state.spawn_rate = 1;
        return Maintenance { spawn: Vec::new(), retire: 1 };
    }
    if idle < cap.min_spare_servers {
        if free.is_empty() {
            if !state.reported_max {
                log::error!(
                    target: "mpm",
                    "AH00161: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting"
                );
                state.reported_max = true;
            }
            state.spawn_rate = 1;
            return Maintenance::default();
        }
        if rate >= 8 {
            log::info!(
                target: "mpm",
                "AH00162: server seems busy, (you may need to increase StartServers, or Min/MaxSpareServers), \
                 spawning {} children, there are {idle} idle, and {total} total children",
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
    use httpd_core::config::Settings;
    use httpd_core::mpm::MpmKind;
    use httpd_core::scoreboard::WorkerStatus;

    fn capacity(f: impl FnOnce(&mut Settings)) -> Capacity {
        let mut s = Settings::default();
        f(&mut s);
        httpd_core::limits::capacity(MpmKind::Prefork, &s, 1).0
    }

    /// A board with `busy` busy children in the first slots, then `idle` idle ones.
    fn board(busy: usize, idle: usize) -> &'static Scoreboard {
        let board = Scoreboard::create(256, 1).unwrap();
        for slot in 0..busy + idle {
            board.process(slot).set_pid(1000 + slot as i32);
            let status = if slot < busy { WorkerStatus::BusyWrite } else { WorkerStatus::Ready };
            board.worker(slot, 0).set_status(status);
        }
        board
    }

    #[test]
    fn spawn_rate_doubles_up_to_32_while_no_child_is_idle() {
        let cap = capacity(|_| {});
        let board = board(40, 0);
        let mut state = State::default();
        let rates: Vec<usize> = (0..8).map(|_| maintain(board, &cap, 0, &mut state).spawn.len()).collect();
        assert_eq!(rates, [1, 2, 4, 8, 16, 32, 32, 32]);
        // The spawned slots are the lowest free ones.
        let mut state = State::default();
        assert_eq!(maintain(board, &cap, 0, &mut state).spawn, [40]);
    }

    #[test]
    fn one_idle_child_retired_a_pass_when_above_max_spare() {
        let cap = capacity(|_| {});
        let mut state = State { spawn_rate: 16, reported_max: false };
        let m = maintain(board(0, 11), &cap, 0, &mut state);
        assert_eq!(m, Maintenance { spawn: Vec::new(), retire: 1 });
        assert_eq!(state.spawn_rate, 1);
        assert_eq!(maintain(board(0, 10), &cap, 0, &mut state), Maintenance::default());
    }

    #[test]
    fn between_the_spares_nothing_happens_and_the_rate_resets() {
        let cap = capacity(|_| {});
        let mut state = State { spawn_rate: 8, reported_max: false };
        assert_eq!(maintain(board(3, 7), &cap, 0, &mut state), Maintenance::default());
        assert_eq!(state.spawn_rate, 1);
    }

    #[test]
    fn max_request_workers_caps_the_children() {
        let cap = capacity(|s| {
            s.max_request_workers = Some(3);
            s.start_servers = Some(1);
        });
        let mut state = State::default();
        assert!(maintain(board(3, 0), &cap, 0, &mut state).spawn.is_empty());
        assert!(state.reported_max);
        assert_eq!(maintain(board(2, 0), &cap, 0, &mut state).spawn, [2]);
    }

    #[test]
    fn old_generation_and_quiescing_children_are_not_idle() {
        let cap = capacity(|_| {});
        let board = board(0, 5);
        for slot in 0..5 {
            board.process(slot).set_generation(0);
        }
        board.process(0).set_quiescing(true);
        let mut state = State::default();
        // Generation 1 runs now: none of the five counts, so one is forked.
        assert_eq!(maintain(board, &cap, 1, &mut state).spawn, [5]);
    }
}
