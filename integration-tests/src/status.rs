//! server-status pages as a test reads them: [`Auto`] splits a `?auto` page
//! into its lines and reads the scoreboard per slot; [`json_number`] and
//! [`json_string`] pick values out of `?json`; [`event_processes`] reads
//! the event MPM's table of processes on the HTML page.

use std::net::SocketAddr;

use crate::http::try_get;

/// The `?auto` page of server-status: its first line (the host) and its
/// `Name: value` lines in order.
#[derive(Debug)]
pub struct Auto {
    pub text: String,
    pub host: String,
    pub fields: Vec<(String, String)>,
}

impl Auto {
    /// Fetches `?auto` on a new connection; `Err` describes a failed request
    /// or a non-200 answer.
    pub fn fetch(addr: SocketAddr) -> Result<Auto, String> {
        let response = try_get(addr, "/server-status?auto").map_err(|e| format!("GET ?auto: {e}"))?;
        if response.status != 200 {
            return Err(format!("{}\n{}", response.status_line, response.body_text()));
        }
        Ok(Auto::parse(&response.body_text()))
    }

    /// `?auto`, panicking if the request fails.
    #[track_caller]
    pub fn get(addr: SocketAddr) -> Auto {
        Auto::fetch(addr).unwrap_or_else(|e| panic!("server-status?auto: {e}"))
    }

    /// Splits each line at its first `:`; `ServerUptime:` may have nothing
    /// after it (httpd prints no part of a zero uptime).
    pub fn parse(text: &str) -> Auto {
        let mut lines = text.lines();
        let host = lines.next().unwrap_or_default().to_string();
        let fields = lines
            .map(|l| match l.split_once(':') {
                Some((name, value)) => (name.to_string(), value.trim_start().to_string()),
                None => (l.to_string(), String::new()),
            })
            .collect();
        Auto { text: text.to_string(), host, fields }
    }

    pub fn names(&self) -> Vec<&str> {
        self.fields.iter().map(|(n, _)| n.as_str()).collect()
    }

    pub fn find(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[track_caller]
    pub fn value(&self, name: &str) -> &str {
        self.find(name).unwrap_or_else(|| panic!("no {name:?} line in ?auto:\n{}", self.text))
    }

    #[track_caller]
    pub fn number(&self, name: &str) -> u64 {
        let value = self.value(name);
        value.parse().unwrap_or_else(|_| panic!("{name}: {value:?} is not a whole number in:\n{}", self.text))
    }

    /// A whole-number line, `None` if it is missing or not a number (for
    /// conditions polled while a page may still lack it).
    pub fn try_number(&self, name: &str) -> Option<u64> {
        self.find(name)?.parse().ok()
    }

    #[track_caller]
    pub fn float(&self, name: &str) -> f64 {
        let value = self.value(name);
        // APR's %g drops the leading zero (`.666667`), which Rust parses.
        value.parse().unwrap_or_else(|_| panic!("{name}: {value:?} is not a number in:\n{}", self.text))
    }

    pub fn scoreboard(&self) -> &str {
        self.find("Scoreboard").unwrap_or_default()
    }

    /// The scoreboard cut into process slots of `threads` characters (one
    /// per thread: ThreadsPerChild for worker and event, 1 for prefork;
    /// mod_status leaves out the threads past ThreadsPerChild).
    pub fn slots(&self, threads: usize) -> Vec<&str> {
        let board = self.scoreboard();
        (0..board.len()).step_by(threads.max(1)).map(|i| &board[i..(i + threads).min(board.len())]).collect()
    }

    /// Slots with a process: those with a thread in any state but `.`.
    pub fn occupied(&self, threads: usize) -> usize {
        self.slots(threads).iter().filter(|slot| slot.chars().any(|c| c != '.')).count()
    }

    /// How many scoreboard characters are in `states` (e.g. `"RW"`).
    pub fn count(&self, states: &str) -> usize {
        self.scoreboard().chars().filter(|&c| states.contains(c)).count()
    }

    /// IdleWorkers + BusyWorkers, or `None` if either line is missing.
    pub fn workers(&self) -> Option<u64> {
        Some(self.try_number("IdleWorkers")? + self.try_number("BusyWorkers")?)
    }
}

/// The number after `"key":` in a one-line JSON document.
pub fn json_number(json: &str, key: &str) -> Option<u64> {
    let start = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let digits: String = json[start..].trim_start().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The string after `"key":` in a one-line JSON document (no escapes).
pub fn json_string<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    json[start..].split('"').next()
}

/// One row of the event MPM's table of processes on the HTML status page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventProcess {
    pub slot: usize,
    pub pid: u32,
    /// `no`, `yes` or `yes (old gen)`.
    pub stopping: String,
    pub connections: u64,
    pub accepting: bool,
}

/// The rows of the event MPM's table of processes (the `Sum` row left out):
/// `<tr><td>slot</td><td>pid</td><td>stopping</td><td>connections</td>
/// <td>accepting</td>...` (MPM-SPEC §5.3).
pub fn event_processes(html: &str) -> Vec<EventProcess> {
    html.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.strip_prefix("<tr><td>")?.split("</td><td>").collect();
            Some(EventProcess {
                slot: cells.first()?.parse().ok()?,
                pid: cells.get(1)?.parse().ok()?,
                stopping: cells.get(2)?.to_string(),
                connections: cells.get(3)?.parse().ok()?,
                accepting: *cells.get(4)? == "yes",
            })
        })
        .collect()
}
