//! Buffers that connections gave back, kept per thread for the next request.
//!
//! A connection going idle in keep-alive frees its buffers
//! ([`Connection::release_buffers`](super::Connection::release_buffers)),
//! so that thousands of parked connections cost little; without this pool,
//! its next request would allocate them all again. Here they wait on the
//! thread that released them, and the next connection that thread serves
//! takes them: a worker serving one connection at a time recycles one set,
//! and the steady state allocates nothing.
//!
//! Per thread, so no lock; bounded in count and in the size of what it
//! keeps, so a burst (or one huge head) does not stay resident. A buffer
//! released on a thread that never serves requests is simply freed once that
//! thread's pool is full.

use std::cell::RefCell;

use super::message::Request;

/// What a byte buffer is for. Kept apart, so that a connection never gets a
/// small head buffer as its input buffer and grows it (an allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A connection's input buffer (4 KiB, more for a long head).
    Input,
    /// A response head being written.
    Head,
    /// File bytes read for writing (the small-file path, or one chunk).
    File,
}

/// How many of each thing a thread keeps. A worker holds one connection at
/// a time, so one set suffices in the steady state; the rest absorbs the
/// connections that block mid-response while the worker serves another.
const DEPTH: usize = 4;

/// Larger byte buffers are freed rather than kept: an input buffer grown
/// for an unusually long head, a large file's 256 KiB chunk buffer (whose
/// transfer dwarfs one allocation anyway).
const MAX_BYTES: usize = 64 * 1024;

struct Pool {
    input: Vec<Vec<u8>>,
    head: Vec<Vec<u8>>,
    file: Vec<Vec<u8>>,
    requests: Vec<Request>,
    /// Header lists' storage (see `Headers`' `Drop`).
    fields: Vec<Vec<(String, String)>>,
}

impl Pool {
    fn bytes(&mut self, kind: Kind) -> &mut Vec<Vec<u8>> {
        match kind {
            Kind::Input => &mut self.input,
            Kind::Head => &mut self.head,
            Kind::File => &mut self.file,
        }
    }
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool {
            input: Vec::new(),
            head: Vec::new(),
            file: Vec::new(),
            requests: Vec::new(),
            fields: Vec::new(),
        })
    };
}

/// Runs `f` on this thread's pool; `None` while the thread is being torn
/// down or the pool is in use further up the stack (a value dropped while
/// the pool is borrowed), when the caller does without it.
fn with<T>(f: impl FnOnce(&mut Pool) -> T) -> Option<T> {
    POOL.try_with(|p| p.try_borrow_mut().ok().map(|mut p| f(&mut p))).ok().flatten()
}

/// A buffer of `kind` given back earlier, or an empty `Vec` (which
/// allocates on first use). Its length is as it was given back: the input
/// and file buffers keep their initialized length, so they are not zeroed
/// again.
pub(super) fn take(kind: Kind) -> Vec<u8> {
    with(|p| p.bytes(kind).pop()).flatten().unwrap_or_default()
}

/// Gives a buffer back for reuse on this thread (or frees it).
pub(super) fn give(kind: Kind, buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > MAX_BYTES {
        return;
    }
    let rejected = with(|p| {
        let stack = p.bytes(kind);
        if stack.len() < DEPTH {
            stack.push(buf);
            None
        } else {
            Some(buf)
        }
    });
    drop(rejected);
}

/// A request given back earlier, with its strings' and headers' capacity.
pub(super) fn take_request() -> Option<Request> {
    with(|p| p.requests.pop()).flatten()
}

/// Gives a request back (cleared) for reuse on this thread; one that grew
/// past [`MAX_BYTES`] is freed.
pub(super) fn give_request(req: Request) {
    let strings = [&req.method, &req.target, &req.protocol, &req.line].map(String::capacity);
    if strings.iter().sum::<usize>() + req.headers.retained_bytes() > MAX_BYTES {
        return;
    }
    // What the pool refuses is dropped here, after its borrow ended: the
    // request's header list gives its storage back to the pool as it drops.
    let rejected = with(|p| {
        if p.requests.len() < DEPTH {
            p.requests.push(req);
            None
        } else {
            Some(req)
        }
    });
    drop(rejected);
}

/// Storage for a header list, given back earlier.
pub(super) fn take_fields() -> Vec<(String, String)> {
    with(|p| p.fields.pop()).flatten().unwrap_or_default()
}

/// Gives a header list's storage back. Lists live in requests and responses
/// of every thread, so more are kept than of the rest; one that grew past
/// [`MAX_BYTES`] (a client's hundred long fields) is freed.
pub(super) fn give_fields(fields: Vec<(String, String)>) {
    if fields.capacity() == 0 || super::headers::retained_bytes(&fields) > MAX_BYTES {
        return;
    }
    let rejected = with(|p| {
        if p.fields.len() < 2 * DEPTH {
            p.fields.push(fields);
            None
        } else {
            Some(fields)
        }
    });
    drop(rejected);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_per_kind_and_size() {
        // A thread of its own: the pool is per thread, and test threads are reused.
        std::thread::spawn(|| {
            for _ in 0..DEPTH + 2 {
                give(Kind::Input, Vec::with_capacity(4096));
            }
            give(Kind::Head, vec![1, 2, 3]);
            give(Kind::File, Vec::with_capacity(MAX_BYTES + 1));
            give(Kind::File, Vec::new());
            with(|p| assert_eq!((p.input.len(), p.head.len(), p.file.len()), (DEPTH, 1, 0)));
            let head = take(Kind::Head);
            assert_eq!(head, [1, 2, 3], "kept with its length");
            assert_eq!(take(Kind::Head).capacity(), 0);
            assert!(take(Kind::Input).capacity() >= 4096);

            let mut req = Request::new();
            req.line.push_str("GET / HTTP/1.1");
            req.headers.push("Host", "x");
            req.release();
            let req = take_request().unwrap();
            assert!(req.line.is_empty() && req.line.capacity() > 0 && req.headers.is_empty());
            assert!(take_request().is_none());

            let mut huge = Request::new();
            huge.line.push_str("GET / HTTP/1.1");
            huge.headers.push("Cookie", "c".repeat(MAX_BYTES));
            huge.release();
            assert!(take_request().is_none(), "a request past the bound is freed");
            assert_eq!(take_fields().capacity(), 0, "and so is its header list");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn what_an_idle_connection_frees_the_next_request_takes_back() {
        use super::super::input::InputBuffer;
        use super::super::output::Transport;
        use std::io::{self, IoSlice};

        struct Once(&'static [u8]);
        impl Transport for Once {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
            fn write_vectored(&mut self, _: &[IoSlice<'_>]) -> io::Result<usize> {
                Ok(0)
            }
            fn shutdown_write(&mut self) -> io::Result<()> {
                Ok(())
            }
        }

        std::thread::spawn(|| {
            let mut input = InputBuffer::default();
            input.read_from(&mut Once(b"GET / HTTP/1.1\r\n\r\n")).unwrap();
            let (n, buf) = (input.data().len(), input.data().as_ptr());
            input.consume(n);
            input.release();
            assert_eq!(input.capacity(), 0, "an idle connection holds no input buffer");
            input.read_from(&mut Once(b"x")).unwrap();
            assert_eq!(input.data(), b"x");
            assert_eq!(input.data().as_ptr(), buf, "the same buffer, from the pool");

            let mut req = Request::new();
            req.clear();
            req.line.push_str("GET / HTTP/1.1");
            req.headers.push("Host", "x");
            let line = req.line.as_ptr();
            req.release();
            assert_eq!((req.line.capacity(), req.headers.len()), (0, 0));
            req.clear();
            assert_eq!((req.line.as_ptr(), req.line.len()), (line, 0), "the same strings, from the pool");
        })
        .join()
        .unwrap();
    }
}
