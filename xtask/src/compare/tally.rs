//! What a load run counted: latencies, completions and errors of the active clients in the
//! measured window, and how the background connections fared.

use hdrhistogram::Histogram;

/// Error counts by kind, counted inside the measured window only.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Errors {
    pub(crate) connect: u64,
    pub(crate) reset: u64,
    pub(crate) short_body: u64,
    pub(crate) timeout: u64,
    pub(crate) status: u64,
    pub(crate) parse: u64,
    pub(crate) tls: u64,
}

impl Errors {
    pub(crate) fn by_kind(&self) -> [(&'static str, u64); 7] {
        [
            ("connect", self.connect),
            ("reset", self.reset),
            ("short_body", self.short_body),
            ("timeout", self.timeout),
            ("status", self.status),
            ("parse", self.parse),
            ("tls", self.tls),
        ]
    }

    fn add(&mut self, o: &Errors) {
        self.connect += o.connect;
        self.reset += o.reset;
        self.short_body += o.short_body;
        self.timeout += o.timeout;
        self.status += o.status;
        self.parse += o.parse;
        self.tls += o.tls;
    }
}

/// How the background connections fared, at the end of the run.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BackgroundTally {
    /// Ready (idle: answered; slow: head started) and still open at the end.
    pub(crate) open: u64,
    /// Closed by the server: for idle connections, before KeepAliveTimeout.
    pub(crate) closed_early: u64,
    /// Never ready: an idle request never answered, a slow client never connected.
    pub(crate) never_ready: u64,
}

/// What the active clients got in the measured window.
pub(crate) struct Tally {
    /// Microseconds from the first byte of a request (or its connect) to the last of its response.
    pub(crate) latency: Histogram<u64>,
    pub(crate) completed: u64,
    /// Of those, the requests made on a TLS connection that resumed a session.
    pub(crate) resumed: u64,
    pub(crate) body_bytes: u64,
    pub(crate) errors: Errors,
    pub(crate) background: BackgroundTally,
}

impl Tally {
    pub(super) fn new() -> Tally {
        Tally {
            latency: Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds"),
            completed: 0,
            resumed: 0,
            body_bytes: 0,
            errors: Errors::default(),
            background: BackgroundTally::default(),
        }
    }

    pub(super) fn merge(&mut self, o: Tally) {
        self.latency.add(&o.latency).expect("same histogram bounds");
        self.completed += o.completed;
        self.resumed += o.resumed;
        self.body_bytes += o.body_bytes;
        self.errors.add(&o.errors);
        self.background.open += o.background.open;
        self.background.closed_early += o.background.closed_early;
        self.background.never_ready += o.background.never_ready;
    }
}
