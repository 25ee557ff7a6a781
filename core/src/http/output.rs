//! Writing a response: the transport the engine writes through, and a writer
//! that sends a head and its body in as few system calls as it can: the head
//! and a small body leave in one `writev`, large files go by `sendfile` when
//! the transport is a plain socket and EnableSendfile is on, else by `pread`
//! into a buffer the connection reuses.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::fs::FileExt;

use super::message::Body;

/// What the engine reads from and writes to. Plain TCP now; TLS later, with
/// no change to the engine or to any MPM.
pub trait Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// Sends up to `len` bytes of `file` from `offset` without copying
    /// through user space; `Ok(None)` when the transport cannot.
    fn send_file(&mut self, _file: &File, _offset: u64, _len: usize) -> io::Result<Option<usize>> {
        Ok(None)
    }
    /// Sends FIN (the first step of a lingering close).
    fn shutdown_write(&mut self) -> io::Result<()>;
}

impl Transport for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(self, buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        Write::write_vectored(self, bufs)
    }

    fn send_file(&mut self, file: &File, offset: u64, len: usize) -> io::Result<Option<usize>> {
        let mut off = i64::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        match nix::sys::sendfile::sendfile(&*self, file, Some(&mut off), len) {
            Ok(n) => Ok(Some(n)),
            Err(e) => Err(io::Error::from(e)),
        }
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// Files up to this size are read whole and leave with their head in one
/// `writev` (when not sent by sendfile).
const SMALL_FILE: u64 = 64 * 1024;
/// The most one `pread` or `sendfile` moves at a time.
const CHUNK: usize = 256 * 1024;

/// Where a write stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteState {
    Done,
    Blocked,
}

/// A response on its way out. Reused for every response of a connection.
#[derive(Debug, Default)]
pub struct Writer {
    head: Vec<u8>,
    head_pos: usize,
    bodies: VecDeque<Body>,
    /// Progress in the front body.
    body_pos: u64,
    /// File bytes read but not yet written: `buf[buf_pos..buf_len]`.
    buf: Vec<u8>,
    buf_pos: usize,
    buf_len: usize,
    sendfile: bool,
    /// Body bytes written so far (for `%b`).
    pub body_sent: u64,
}

impl Writer {
    /// The head buffer, cleared, for the engine to fill.
    pub fn start(&mut self, sendfile: bool) -> &mut Vec<u8> {
        // Buffers given back when the connection went idle come from this
        // thread's pool (moved, not allocated); the file buffer is taken
        // here too, whether or not this response reads a file.
        if self.head.capacity() == 0 {
            self.head = super::pool::take(super::pool::Kind::Head);
        }
        if self.buf.capacity() == 0 {
            self.buf = super::pool::take(super::pool::Kind::File);
        }
        self.head.clear();
        self.head_pos = 0;
        self.bodies.clear();
        self.body_pos = 0;
        self.buf_pos = 0;
        self.buf_len = 0;
        self.sendfile = sendfile;
        self.body_sent = 0;
        &mut self.head
    }

    pub fn head_mut(&mut self) -> &mut Vec<u8> {
        &mut self.head
    }

    pub fn push_body(&mut self, body: Body) {
        match body {
            Body::Empty => {}
            Body::Parts(parts) => parts.into_iter().for_each(|p| self.push_body(p)),
            other => self.bodies.push_back(other),
        }
    }

    /// Gives the head and file buffers to this thread's pool when nothing
    /// is pending (a connection going idle).
    pub fn release(&mut self) {
        if self.is_idle() {
            super::pool::give(super::pool::Kind::File, std::mem::take(&mut self.buf));
            self.buf_pos = 0;
            self.buf_len = 0;
            super::pool::give(super::pool::Kind::Head, std::mem::take(&mut self.head));
            self.head_pos = 0;
        }
    }

    pub fn is_idle(&self) -> bool {
        self.head_pos >= self.head.len() && self.bodies.is_empty() && self.buf_pos >= self.buf_len
    }

    /// Writes until done or the transport would block.
    pub fn write(&mut self, io: &mut impl Transport) -> io::Result<WriteState> {
        loop {
            if self.buf_pos < self.buf_len || self.head_pos < self.head.len() {
                self.fill_small_file()?;
                let head = &self.head[self.head_pos..];
                let body: &[u8] = match self.bodies.front() {
                    _ if self.buf_pos < self.buf_len => &self.buf[self.buf_pos..self.buf_len],
                    Some(Body::Bytes(b)) => &b[self.body_pos as usize..],
                    Some(Body::Shared(b)) => &b[self.body_pos as usize..],
                    _ => &[],
                };
                let n = match io.write_vectored(&[IoSlice::new(head), IoSlice::new(body)]) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(WriteState::Blocked),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                let from_head = n.min(head.len());
                self.head_pos += from_head;
                self.advance_body(n - from_head);
                continue;
            }
            let Some(front) = self.bodies.front() else { return Ok(WriteState::Done) };
            match front {
                Body::Bytes(_) | Body::Shared(_) => {
                    // Handled above with an empty head slice.
                    self.head_pos = self.head.len();
                    if self.front_len() == self.body_pos {
                        self.next_body();
                        continue;
                    }
                    let body: &[u8] = match front {
                        Body::Bytes(b) => &b[self.body_pos as usize..],
                        Body::Shared(b) => &b[self.body_pos as usize..],
                        _ => unreachable!(),
                    };
                    let n = match io.write_vectored(&[IoSlice::new(body)]) {
                        Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(WriteState::Blocked),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    };
                    self.advance_body(n);
                }
                Body::File { file, offset, len } => {
                    let left = len - self.body_pos;
                    if left == 0 {
                        self.next_body();
                        continue;
                    }
                    let at = offset + self.body_pos;
                    let want = left.min(CHUNK as u64) as usize;
                    if self.sendfile {
                        match io.send_file(file, at, want) {
                            Ok(Some(0)) => return Err(io::ErrorKind::UnexpectedEof.into()),
                            Ok(Some(n)) => {
                                self.body_pos += n as u64;
                                self.body_sent += n as u64;
                                continue;
                            }
                            Ok(None) => self.sendfile = false,
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                return Ok(WriteState::Blocked);
                            }
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(e) => return Err(e),
                        }
                    }
                    self.buf.resize(want.max(self.buf.len()), 0);
                    let n = file.read_at(&mut self.buf[..want], at)?;
                    if n == 0 {
                        // The file shrank since it was measured.
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    self.buf_pos = 0;
                    self.buf_len = n;
                    self.body_pos += n as u64;
                }
                Body::Empty | Body::Parts(_) => {
                    self.next_body();
                }
            }
        }
    }

    /// A small file behind the head is read now, so both leave in one writev.
    fn fill_small_file(&mut self) -> io::Result<()> {
        if self.buf_pos < self.buf_len || self.sendfile {
            return Ok(());
        }
        if let Some(Body::File { file, offset, len }) = self.bodies.front() {
            if *len <= SMALL_FILE && self.body_pos == 0 && *len > 0 {
                let want = *len as usize;
                self.buf.resize(want.max(self.buf.len()), 0);
                let mut got = 0;
                while got < want {
                    let n = file.read_at(&mut self.buf[got..want], offset + got as u64)?;
                    if n == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    got += n;
                }
                self.buf_pos = 0;
                self.buf_len = want;
                self.body_pos = *len;
            }
        }
        Ok(())
    }

    /// Accounts `n` written body bytes.
    fn advance_body(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        self.body_sent += n as u64;
        if self.buf_pos < self.buf_len {
            self.buf_pos += n;
            if self.buf_pos >= self.buf_len {
                self.buf_pos = 0;
                self.buf_len = 0;
                if self.front_len() == self.body_pos {
                    self.next_body();
                }
            }
        } else {
            self.body_pos += n as u64;
            if self.front_len() == self.body_pos {
                self.next_body();
            }
        }
    }

    fn front_len(&self) -> u64 {
        self.bodies.front().map_or(0, Body::len)
    }

    fn next_body(&mut self) {
        self.bodies.pop_front();
        self.body_pos = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A transport that takes at most `chunk` bytes a call and blocks every
    /// other call, to exercise partial writes.
    struct Trickle {
        out: Vec<u8>,
        chunk: usize,
        calls: usize,
    }

    impl Transport for Trickle {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Ok(0)
        }
        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls % 2 == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let mut n = 0;
            for b in bufs {
                let take = (self.chunk - n).min(b.len());
                self.out.extend_from_slice(&b[..take]);
                n += take;
                if n == self.chunk {
                    break;
                }
            }
            Ok(n)
        }
        fn shutdown_write(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn temp_file(content: &[u8]) -> File {
        let path =
            std::env::temp_dir().join(format!("httpd-core-output-{}-{}", std::process::id(), content.len()));
        std::fs::write(&path, content).unwrap();
        let f = File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        f
    }

    #[test]
    fn every_kind_of_body_arrives_whole_through_partial_writes() {
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for chunk in [1, 7, 4096, 1 << 20] {
            let mut w = Writer::default();
            w.start(false).extend_from_slice(b"HEAD\r\n\r\n");
            w.push_body(Body::Bytes(b"abc".to_vec()));
            w.push_body(Body::Parts(vec![
                Body::Shared(Arc::from(&b"--b\r\n"[..])),
                Body::File { file: temp_file(&big), offset: 10, len: 200_000 },
                Body::Empty,
                Body::File { file: temp_file(b"0123456789"), offset: 2, len: 3 },
            ]));
            let mut t = Trickle { out: Vec::new(), chunk, calls: 0 };
            let mut rounds = 0;
            while w.write(&mut t).unwrap() == WriteState::Blocked {
                rounds += 1;
                assert!(rounds < 10_000_000);
            }
            let mut expected = b"HEAD\r\n\r\nabc--b\r\n".to_vec();
            expected.extend_from_slice(&big[10..200_010]);
            expected.extend_from_slice(b"234");
            assert_eq!(t.out.len(), expected.len(), "chunk {chunk}");
            assert!(t.out == expected, "chunk {chunk}");
            assert_eq!(w.body_sent, expected.len() as u64 - 8);
            assert!(w.is_idle());
        }
    }

    #[test]
    fn head_and_small_file_leave_in_one_call() {
        let mut w = Writer::default();
        w.start(false).extend_from_slice(b"HEAD\r\n\r\n");
        w.push_body(Body::File { file: temp_file(&[b'x'; 1024]), offset: 0, len: 1024 });
        let mut t = Trickle { out: Vec::new(), chunk: 1 << 20, calls: 0 };
        assert_eq!(w.write(&mut t).unwrap(), WriteState::Done);
        assert_eq!(t.calls, 1);
        assert_eq!(t.out.len(), 8 + 1024);
    }
}
