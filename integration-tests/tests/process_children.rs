//! Children on the real binaries, each test run against prefork, worker and
//! event: StartServers and spare maintenance after a load, killed children
//! logged and replaced, MaxConnectionsPerChild, and User/Group, PidFile and
//! `-k`. Children are counted from the OS (`/proc`) and from the
//! scoreboard (`?auto`).
//!
//! Every wait polls a condition with a deadline ([`wait_for`],
//! [`wait_until`]); every loop is bounded in count and in time; servers are
//! signalled and stopped by pid, on ports the kernel picks.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use integration_tests::http::{Running, get};
use integration_tests::status::{Auto, event_processes};
use integration_tests::supervised::{
    LIMIT, Loop, add_large_file, fetch_small, graceful_restart_notice, hold, hold_writing, pid_file, signal,
    site, spares, threads, wait_children, wait_log, wait_ready,
};
use integration_tests::{Server, children_of, is_alive, supervised_servers, wait_for, wait_until};
use nix::sys::signal::Signal;

supervised_servers!(start_servers_then_spares_settle_after_a_load, |server| {
    // Idle threads (a prefork child is one) between `min` and `max`. The
    // load in prefork and worker: connections in the middle of a request,
    // each holding a process or a thread, so 4 of them leave none idle. In
    // event a worker runs only while a connection has work, so no
    // connection holds one for long; what loads an event child is its
    // connection limit: with AsyncRequestWorkerFactor 1 a child of 2 idle
    // workers takes at most 2 + 1 x 2 = 4 connections that need or may soon
    // need a worker, then stops accepting, and maintenance does not count
    // the idle threads of a child that does not accept. A partial request
    // head does not count there (it waits in the listener, and a slow
    // client must not fill the children), a response that cannot be
    // written yet does (write completion, as in httpd): the load for event
    // is connections that ask for a large file and read none of it.
    let (start, min, max, load, extra) = match server {
        Server::Prefork => (3, 2, 4, 4, ""),
        Server::Worker => (2, 2, 5, 4, ""),
        Server::Event => (2, 2, 5, 8, "AsyncRequestWorkerFactor 1\n"),
    };
    let root = site(server, &format!("{}{extra}", spares(server, start, min, max)));
    if server == Server::Event {
        add_large_file(&root);
    }
    let httpd = Running::start(server, root.path(), &[]);
    let (parent, addr, threads) = (httpd.pid(), httpd.addr, threads(server));

    // StartServers children, from the OS and from the scoreboard (the
    // status request itself keeps one thread busy).
    let first = wait_children(parent, start);
    let auto = wait_until(&format!("?auto to count the {start} children"), LIMIT, || {
        let auto = Auto::fetch(addr)?;
        let all = auto.workers() == Some((start * threads) as u64);
        if all && auto.occupied(threads) == start { Ok(auto) } else { Err(auto.text) }
    });
    assert_eq!(auto.number("BusyWorkers"), 1, "only the status request is being served:\n{}", auto.text);
    assert_eq!(children_of(parent), first, "the children changed with no load");

    // With no thread idle (or no child accepting), maintenance forks more
    // children (1, then 2, ... a second) until `min` threads are idle again.
    // In event each connection is left to reach write completion before
    // the next: a child accepts a burst of new connections before any of
    // them shows as work (they have not sent their heads yet, as far as it
    // knows), so one child could take all 8 and the other stay free.
    let held: Vec<TcpStream> = match server {
        Server::Prefork | Server::Worker => (0..load).map(|_| hold(addr)).collect(),
        Server::Event => (0..load)
            .map(|n| {
                let stream = hold_writing(addr);
                wait_until(&format!("{} connection(s) in write completion", n + 1), LIMIT, || {
                    let auto = Auto::fetch(addr)?;
                    let writing = auto.try_number("ConnsAsyncWriting").unwrap_or(0);
                    if writing > n as u64 { Ok(()) } else { Err(auto.text) }
                });
                stream
            })
            .collect(),
    };
    wait_until("more children under load", LIMIT, || {
        let children = children_of(parent);
        if children.len() > start { Ok(()) } else { Err(format!("{children:?}")) }
    });
    let auto = wait_until("?auto to show the held connections", LIMIT, || {
        let auto = Auto::fetch(addr)?;
        let shown = match server {
            // The held connections each take a process or a thread (`R`),
            // the status request one more.
            Server::Prefork | Server::Worker => {
                auto.try_number("BusyWorkers") >= Some(load as u64 + 1)
                    && auto.count("R") >= load
                    && auto.occupied(threads) * threads > load
            }
            // The held connections are the children's (in write completion)
            // but no worker's, and a child holding 4 of them does not accept.
            Server::Event => {
                let html = get(addr, "/server-status").body_text();
                let full = event_processes(&html).iter().any(|p| !p.accepting && p.connections >= 4);
                full && auto.try_number("ConnsTotal") >= Some(load as u64)
                    && auto.try_number("Processes") > Some(start as u64)
            }
        };
        if shown { Ok(auto) } else { Err(auto.text) }
    });
    assert!(auto.occupied(threads) > start, "the scoreboard shows no new child:\n{}", auto.text);
    if server == Server::Event {
        assert_eq!(auto.number("BusyWorkers"), 1, "a held connection took a worker:\n{}", auto.text);
    }

    // The load ends: one idle child is retired a second while more than
    // `max` threads are idle, and never below `min`.
    drop(held);
    let in_range = |children: usize| (min..=max).contains(&(children * threads));
    let settled = wait_until(
        &format!("the idle threads to settle between {min} and {max}"),
        Duration::from_secs(20),
        || {
            let children = children_of(parent);
            let auto = Auto::fetch(addr)?;
            let counted = auto.workers().unwrap_or(0) as usize;
            let quiet = auto.find("BusyWorkers") == Some("1");
            if in_range(children.len())
                && quiet
                && counted == children.len() * threads
                && auto.occupied(threads) == children.len()
            {
                Ok(children)
            } else {
                Err(format!("children {children:?}, ?auto:\n{}", auto.text))
            }
        },
    );
    // Settled means it stays there: watch a little over one maintenance pass.
    let watch = Instant::now();
    while watch.elapsed() < Duration::from_millis(1200) {
        let children = children_of(parent);
        assert!(in_range(children.len()), "after settling at {settled:?} the children became {children:?}");
        std::thread::sleep(Duration::from_millis(50)); // sampling interval of the watch, not a synchronization
    }
});

supervised_servers!(killed_children_are_logged_and_replaced, |server| {
    // Every thread of the 3 StartServers children must stay idle, so two
    // children leave too few and maintenance forks more.
    let (min, max) = if server.is_threaded() { (6, 9) } else { (3, 6) };
    let root = site(server, &spares(server, 3, min, max));
    let mut httpd = Running::start(server, root.path(), &[]);
    let (parent, addr) = (httpd.pid(), httpd.addr);
    wait_children(parent, 3);

    // The loop itself kills children between two of its requests: its own
    // requests are all answered whole by then, so every child is idle (or
    // closing a finished connection) and no request may fail. Killing one
    // at an arbitrary moment could hit the child serving the loop, a failure
    // the server cannot prevent and the test could not tell from a bug. It
    // kills all children but two: maintenance may have forked a fourth while
    // a request of the loop kept a thread busy, and 3 children would still
    // give `min` idle threads.
    let (victim_tx, victim_rx) = mpsc::channel();
    let requests = Loop::start(addr, 5000, move |i| {
        if i == 20 {
            let children = children_of(parent);
            let victims = children[..children.len().saturating_sub(2)].to_vec();
            for &victim in &victims {
                signal(victim, Signal::SIGKILL);
            }
            let _ = victim_tx.send((victims, children));
        }
    });
    let (victims, before) = victim_rx.recv_timeout(LIMIT).expect("the loop to kill children");
    assert!(!victims.is_empty(), "no child to kill among {before:?}");

    for victim in &victims {
        let line = format!("AH00052: child pid {victim} exit signal Killed (9)");
        let log = wait_log(&root, &line, 1);
        let logged = log.lines().find(|l| l.contains(&line)).unwrap_or_default();
        assert!(logged.contains(&format!("[pid {parent}:")), "not logged by the parent {parent}: {logged}");
    }
    let after = wait_until("new children in place of the killed ones", LIMIT, || {
        let children = children_of(parent);
        let new = children.iter().any(|c| !before.contains(c));
        if children.iter().all(|c| !victims.contains(c)) && children.len() >= 3 && new {
            Ok(children)
        } else {
            Err(format!("before the kill {before:?}, killed {victims:?}, now {children:?}"))
        }
    });
    assert!(httpd.try_wait().is_none(), "the parent exited after children were killed");

    // Later requests are served, by the replacement among others.
    let at_replacement = requests.served();
    wait_for("20 more requests after the replacement", LIMIT, || {
        (requests.served() >= at_replacement + 20).then_some(())
    });
    let (made, failures) = requests.finish();
    assert!(
        failures.is_empty(),
        "{} of {made} requests failed (children {before:?} -> {after:?}):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(httpd.try_wait().is_none(), "the parent exited");
});

supervised_servers!(max_connections_per_child_changes_the_serving_pids, |server| {
    // worker and event: two children, and a third forked as soon as one
    // stops at its limit (MinSpareThreads 3 > the other's 2 threads), so
    // the requests rarely wait for a maintenance pass.
    let spares = match server {
        Server::Prefork => spares(server, 1, 1, 2),
        _ => spares(server, 2, 3, 6),
    };
    let root = site(server, &format!("{spares}MaxConnectionsPerChild 10\n"));
    let httpd = Running::start(server, root.path(), &[]);
    for i in 0..50 {
        fetch_small(httpd.addr).unwrap_or_else(|e| panic!("request {i}: {e}"));
    }
    // `%P %>s %r` per request: the serving child's pid first.
    let log = wait_until("50 access-log lines", LIMIT, || {
        let log = std::fs::read_to_string(root.join("logs/access_log")).unwrap_or_default();
        if log.lines().count() >= 50 { Ok(log) } else { Err(log) }
    });
    let mut per_pid: BTreeMap<u32, usize> = BTreeMap::new();
    for line in log.lines() {
        let pid = line.split(' ').next().and_then(|p| p.parse().ok());
        *per_pid.entry(pid.unwrap_or_else(|| panic!("no pid in {line:?}"))).or_default() += 1;
        assert!(line.ends_with(" 200 GET /small.txt HTTP/1.1"), "{line:?}");
    }
    assert!(per_pid.len() >= 5, "50 connections, 10 a child, yet only {} children:\n{log}", per_pid.len());
    assert!(per_pid.values().all(|&n| n <= 10), "a child served more than 10 connections: {per_pid:?}");
    assert!(!per_pid.contains_key(&httpd.pid()), "the parent served requests: {per_pid:?}");
});

/// The ids of a `/proc/<path>/status` line (`Uid:` or `Gid:`): real,
/// effective, saved and filesystem. `path` is a pid, or `<pid>/task/<tid>`
/// for one thread; `None` if it is gone.
fn try_ids(path: impl std::fmt::Display, field: &str) -> Option<Vec<u32>> {
    let status = std::fs::read_to_string(format!("/proc/{path}/status")).ok()?;
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|rest| rest.strip_prefix(':')))
        .unwrap_or_else(|| panic!("no {field}: line in /proc/{path}/status"));
    Some(line.split_whitespace().map(|id| id.parse().expect("a numeric id")).collect())
}

/// [`try_ids`] of a process that must be there.
fn ids(pid: u32, field: &str) -> Vec<u32> {
    try_ids(pid, field).unwrap_or_else(|| panic!("no /proc/{pid}/status"))
}

/// The thread ids of process `pid`, from `/proc/<pid>/task`.
fn tasks(pid: u32) -> Vec<u32> {
    let dir = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/task: {e}"));
    dir.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect()
}

supervised_servers!(user_group_pid_file_and_k_commands, |server| {
    use nix::unistd::{Group, User, geteuid};

    // Debian names nobody's group nogroup; other systems nobody.
    let group = ["nogroup", "nobody"]
        .into_iter()
        .find_map(|g| Group::from_name(g).ok().flatten())
        .expect("a group named nogroup or nobody");
    let nobody = User::from_name("nobody").ok().flatten().expect("a user named nobody");
    let (min, max) = if server.is_threaded() { (1, 5) } else { (1, 4) };
    let root = site(server, &format!("{}User nobody\nGroup {}\n", spares(server, 2, min, max), group.name));
    let mut httpd = Running::start(server, root.path(), &[]);
    let (parent, addr, threads) = (httpd.pid(), httpd.addr, threads(server));
    let first = wait_ready(parent, addr, threads, 2);

    // Every thread of a child (worker and event: the workers and the
    // listener) runs with the dropped ids: setuid(2) in a threaded process
    // changes them all, and the threads start after it anyway.
    let check_ids = |children: &[u32]| {
        if geteuid().is_root() {
            for &child in children {
                for task in tasks(child) {
                    // A thread that ended meanwhile has no ids to check.
                    let path = format!("{child}/task/{task}");
                    let (Some(uids), Some(gids)) = (try_ids(&path, "Uid"), try_ids(&path, "Gid")) else {
                        continue;
                    };
                    assert_eq!(uids, [nobody.uid.as_raw(); 4], "thread {path}'s uids");
                    assert_eq!(gids, [group.gid.as_raw(); 4], "thread {path}'s gids");
                }
                assert_eq!(ids(child, "Uid"), [nobody.uid.as_raw(); 4], "child {child}'s uids");
            }
            assert_eq!(ids(parent, "Uid"), [0; 4], "the parent's uids");
        } else {
            // Not root (a developer's machine): User and Group are ignored,
            // as httpd's unixd ignores them when not started as root, so the
            // children keep this test's ids.
            let me = geteuid().as_raw();
            for &child in children.iter().chain([&parent]) {
                assert_eq!(ids(child, "Uid"), [me; 4], "process {child}'s uids");
            }
        }
    };
    check_ids(&first);

    // PidFile holds the parent's pid while it runs.
    let pid_path = pid_file(&root);
    let written =
        std::fs::read_to_string(&pid_path).unwrap_or_else(|e| panic!("{}: {e}", pid_path.display()));
    assert_eq!(written, format!("{parent}\n"));

    // `-k graceful` finds the parent through PidFile: a new generation of
    // children replaces the first.
    let env = [("HTTPD_LISTEN", "127.0.0.1:0")];
    server.run_in(root.path(), &["-k", "graceful"], &env).assert(0, "", "");
    wait_log(&root, graceful_restart_notice(server), 1);
    let second = wait_until("a new generation of children", LIMIT, || {
        let children = children_of(parent);
        if children.len() >= 2 && children.iter().all(|c| !first.contains(c)) {
            Ok(children)
        } else {
            Err(format!("first {first:?}, now {children:?}"))
        }
    });
    let auto = wait_until("?auto at generation 1 with the children ready", LIMIT, || {
        let auto = Auto::fetch(addr)?;
        let ready = auto.occupied(threads) == second.len() && auto.count("S") == 0;
        if auto.find("ParentServerMPMGeneration") == Some("1") && ready { Ok(auto) } else { Err(auto.text) }
    });
    assert_eq!(auto.value("ParentServerConfigGeneration"), "2", "\n{}", auto.text);
    check_ids(&children_of(parent));

    // `-k stop` stops it; PidFile goes with it.
    server.run_in(root.path(), &["-k", "stop"], &env).assert(0, "", "");
    let status = httpd.wait_exit(LIMIT);
    assert!(status.success(), "the server exited with {status}");
    assert!(!pid_path.exists(), "PidFile left after -k stop");
    let left: Vec<u32> = second.iter().copied().filter(|&c| is_alive(c)).collect();
    assert!(left.is_empty(), "children {left:?} outlived the parent");
    let stopped = format!("{} (no pid file) not running\n", server.binary_name());
    server.run_in(root.path(), &["-k", "stop"], &env).assert(0, &stopped, "");
});
