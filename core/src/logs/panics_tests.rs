//! The panic hook, in a process of its own: this test binary runs itself
//! again with one test selected, since the hook, the error log and ending
//! the process are all process-wide.

use std::process::Command;

use super::*;
use crate::config::Settings;
use crate::mpm::MpmKind;

/// Set to the error log's path in the process that panics.
const ERROR_LOG_VAR: &str = "PANICS_TEST_ERROR_LOG";

#[test]
fn a_panic_is_written_to_the_error_log_and_ends_a_serving_process() {
    let dir = std::env::temp_dir().join(format!("httpd-panics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("error_log");
    let _ = std::fs::remove_file(&log);
    let exe = std::env::current_exe().unwrap();
    let child = Command::new(exe)
        .args(["logs::panics::tests::panicking_process", "--exact", "--nocapture", "--test-threads=1"])
        .env(ERROR_LOG_VAR, &log)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert_eq!(child.status.code(), Some(EXIT_PANIC), "error log:\n{text}\nstderr:\n{stderr}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let file = file!();
    // A panic caught further up (issue 11's connection boundary): logged,
    // and the process goes on.
    let caught = lines[0].split_once("] [core:error] [pid ").unwrap().1;
    let (ids, message) = caught.split_once("] ").unwrap();
    assert!(ids.starts_with(&format!("{}:tid ", child_pid(&text))), "{ids}");
    assert!(message.starts_with(&format!("panic in thread 'conn-1' at {file}:")), "{message}");
    assert!(message.ends_with(": caught at the boundary 1"), "{message}");
    // Once the process serves, a panic inside a connection's boundary ends
    // only that connection.
    let contained = lines[1].split_once("] [core:error] [pid ").unwrap().1.split_once("] ").unwrap().1;
    assert!(contained.starts_with(&format!("panic in thread 'worker-5' at {file}:")), "{contained}");
    assert!(
        contained.ends_with(
            ": bad request; request \"GET /boom HTTP/1.1\" from 10.1.2.3 failed, its connection is closed"
        ),
        "{contained}"
    );
    // Outside it, a panic ends the process, its line written first.
    let fatal = lines[2].split_once("] [core:error] [pid ").unwrap().1.split_once("] ").unwrap().1;
    assert!(fatal.starts_with(&format!("panic in thread 'worker-7' at {file}:")), "{fatal}");
    assert!(fatal.ends_with(": worker 7 fails; the process exits (status 101)"), "{fatal}");
    // Rust's own message is not printed when the line went to the error log.
    assert!(!stderr.contains("panicked at"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The pid both lines show (the same process).
fn child_pid(text: &str) -> String {
    text.split("[pid ").nth(1).unwrap().split(':').next().unwrap().to_string()
}

/// Runs only in the process started above.
#[test]
fn panicking_process() {
    let Some(log) = std::env::var_os(ERROR_LOG_VAR) else { return };
    let mut settings = Settings { error_log: log.to_string_lossy().into_owned(), ..Settings::default() };
    // A panic is written whatever LogLevel says.
    settings.log_level.insert(String::new(), "emerg".into());
    error_log::init(&settings, MpmKind::Event).unwrap();
    install_hook();
    let caught = std::thread::Builder::new()
        .name("conn-1".into())
        .spawn(|| std::panic::catch_unwind(|| panic!("caught at the boundary {}", 1)).is_err())
        .unwrap();
    assert!(caught.join().unwrap());
    end_process_on_panic();
    let board = crate::scoreboard::Scoreboard::create(1, 1).unwrap();
    let slot = board.worker(0, 0);
    slot.request.set("GET /boom HTTP/1.1", false);
    slot.client.set("10.1.2.3", false);
    let contained = std::thread::Builder::new()
        .name("worker-5".into())
        .spawn(move || contain(Some(slot), || -> u32 { panic!("bad request") }))
        .unwrap();
    assert_eq!(contained.join().unwrap(), None);
    let worker = std::thread::Builder::new()
        .name("worker-7".into())
        .spawn(|| {
            let n = 7;
            panic!("worker {n} fails");
        })
        .unwrap();
    let _ = worker.join();
    // Not reached: the hook ended the process.
    std::process::exit(3);
}
