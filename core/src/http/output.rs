//! Writing a response: the transport the engine writes through, and a writer
//! that sends a head and its body in as few system calls as it can: the head
//! and a small body (or the first part of a file) leave in one `writev`.
//! Large files go by `sendfile` when the transport is a plain socket and
//! EnableSendfile is on; else, with EnableMMAP on (the default), mapped and
//! written from the mapping, head and all, in one copy as httpd does; else
//! by `pread` into a buffer the connection reuses (two copies).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::FileExt;

use super::file_map::FileMap;
use super::message::{Body, TlsInfo};

/// What the engine reads from and writes to: plain TCP, or TLS
/// (`crate::tls::Socket`), with no change to the engine or to any MPM.
pub trait Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// As `write_vectored` of one buffer, saying that more follows at once
    /// (a head before its sendfile body): the transport may hold a partial
    /// segment back, so that head and body leave in one train of segments
    /// rather than a small one for the head alone.
    fn write_more(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }
    /// Sends up to `len` bytes of `file` from `offset` without copying
    /// through user space; `Ok(None)` when the transport cannot.
    fn send_file(&mut self, _file: &File, _offset: u64, _len: usize) -> io::Result<Option<usize>> {
        Ok(None)
    }
    /// Writes `head`, then `map`'s bytes from `from`, in one call, letting
    /// the kernel read the mapping; `Ok(None)` when the transport cannot (one
    /// that must read the bytes itself, as TLS would, risks SIGBUS on a
    /// truncated file: see `file_map`).
    fn write_mapped(&mut self, _head: &[u8], _map: &FileMap, _from: usize) -> io::Result<Option<usize>> {
        Ok(None)
    }
    /// Sends what the transport still holds of bytes it said it wrote (TLS
    /// records encrypted but not yet taken by the socket); `Blocked` while
    /// some remain. Plain TCP holds nothing.
    #[inline]
    fn flush_pending(&mut self) -> io::Result<WriteState> {
        Ok(WriteState::Done)
    }
    /// Sends FIN (the first step of a lingering close).
    fn shutdown_write(&mut self) -> io::Result<()>;
    /// The TLS session, once its handshake is done.
    #[inline]
    fn tls(&self) -> Option<TlsInfo> {
        None
    }
}

impl Transport for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(self, buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        Write::write_vectored(self, bufs)
    }

    fn write_more(&mut self, buf: &[u8]) -> io::Result<usize> {
        use nix::sys::socket::{MsgFlags, send};
        // MSG_MORE corks this one send (as TCP_CORK would, without the two
        // setsockopt calls httpd makes around its sendfile); the sendfile
        // that follows pushes head and body out together.
        let more = MsgFlags::from_bits_retain(nix::libc::MSG_MORE) | MsgFlags::MSG_NOSIGNAL;
        send(self.as_raw_fd(), buf, more).map_err(io::Error::from)
    }

    fn send_file(&mut self, file: &File, offset: u64, len: usize) -> io::Result<Option<usize>> {
        let mut off = i64::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        match nix::sys::sendfile::sendfile(&*self, file, Some(&mut off), len) {
            Ok(n) => Ok(Some(n)),
            Err(e) => Err(io::Error::from(e)),
        }
    }

    fn write_mapped(&mut self, head: &[u8], map: &FileMap, from: usize) -> io::Result<Option<usize>> {
        map.write_to(self.as_fd(), head, from, usize::MAX).map(Some)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// How file bodies leave: EnableSendfile and EnableMMAP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileIo {
    pub sendfile: bool,
    pub mmap: bool,
}

/// Files up to this size are read whole into the connection's buffer and
/// leave with their head in one `writev` (when not sent by sendfile): for
/// them a mapping's set-up and tear-down cost more than the copy it saves.
const SMALL_FILE: u64 = 64 * 1024;
/// The most one `pread` moves at a time (EnableMMAP and EnableSendfile off,
/// or a transport that reads what it sends): no more than the thread's
/// buffer pool keeps (`pool::MAX_BYTES`), so the buffer is reused instead of
/// allocated and zeroed per response and left in malloc's arenas. 256 KiB
/// took about 5% less CPU per MiB, but event-server's RSS was 60 MiB
/// rather than 34 (10 connections fetching 1 MiB).
const CHUNK: usize = 64 * 1024;
/// The most one mapping covers (APR's APR_MMAP_LIMIT): a larger file is
/// mapped a piece at a time, so a connection holds a bounded address range.
const MAP_PIECE: u64 = 4 * 1024 * 1024;
/// The most one `sendfile` call is asked for (Linux moves at most this much
/// per call anyway): the whole rest of the file at once, since a
/// non-blocking socket takes what fits and says how much; smaller pieces
/// would only add calls.
const SENDFILE_MAX: u64 = 0x7fff_f000;

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
    files: FileIo,
    /// The front file's current piece, mapped (EnableMMAP), and the body
    /// position where the piece starts.
    map: Option<FileMap>,
    map_at: u64,
    /// Body bytes written so far (for `%b`).
    pub body_sent: u64,
}

impl Writer {
    /// The head buffer, cleared, for the engine to fill.
    pub fn start(&mut self, files: FileIo) -> &mut Vec<u8> {
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
        self.files = files;
        self.map = None;
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
            let buffered = self.buf_pos < self.buf_len;
            if !buffered && self.bodies.front().is_some_and(|b| b.len() == self.body_pos) {
                self.next_body();
                continue;
            }
            self.prepare_front()?;
            let buffered = self.buf_pos < self.buf_len;
            let head = &self.head[self.head_pos..];
            let head_len = head.len();
            let front = self.bodies.front();
            let result = if let Some(map) = &self.map {
                match io.write_mapped(head, map, (self.body_pos - self.map_at) as usize) {
                    Ok(Some(n)) => Ok(n),
                    Ok(None) => {
                        // This transport reads what it sends: pread instead.
                        self.map = None;
                        self.files.mmap = false;
                        continue;
                    }
                    Err(e) => Err(e),
                }
            } else if buffered || !head.is_empty() {
                let body: &[u8] = match front {
                    _ if buffered => &self.buf[self.buf_pos..self.buf_len],
                    Some(Body::Bytes(b)) => &b[self.body_pos as usize..],
                    Some(Body::Shared(b)) => &b[self.body_pos as usize..],
                    _ => &[],
                };
                if body.is_empty() && self.files.sendfile && matches!(front, Some(Body::File { .. })) {
                    io.write_more(head)
                } else {
                    io.write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
                }
            } else {
                match front {
                    // Written: done once the transport holds nothing back.
                    None => return io.flush_pending(),
                    Some(Body::Bytes(b)) => io.write_vectored(&[IoSlice::new(&b[self.body_pos as usize..])]),
                    Some(Body::Shared(b)) => io.write_vectored(&[IoSlice::new(&b[self.body_pos as usize..])]),
                    Some(Body::File { file, offset, len }) => {
                        // Only sendfile is left: prepare_front reads or maps otherwise.
                        let want = (len - self.body_pos).min(SENDFILE_MAX) as usize;
                        match io.send_file(file, offset + self.body_pos, want) {
                            Ok(Some(0)) => return Err(io::ErrorKind::UnexpectedEof.into()),
                            Ok(Some(n)) => Ok(n),
                            Ok(None) => {
                                self.files.sendfile = false;
                                continue;
                            }
                            Err(e) => Err(e),
                        }
                    }
                    Some(Body::Empty | Body::Parts(_)) => {
                        self.next_body();
                        continue;
                    }
                }
            };
            match result {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    let from_head = n.min(head_len);
                    self.head_pos += from_head;
                    self.advance_body(n - from_head);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(WriteState::Blocked),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Makes the front file ready to write, unless it goes by sendfile:
    /// its next piece mapped (a large file, EnableMMAP), or its next bytes
    /// read into the buffer (the whole of a small file), so that a pending
    /// head leaves with them in one call.
    fn prepare_front(&mut self) -> io::Result<()> {
        if self.buf_pos < self.buf_len || self.map.is_some() || self.files.sendfile {
            return Ok(());
        }
        let Some(Body::File { file, offset, len }) = self.bodies.front() else { return Ok(()) };
        let left = len - self.body_pos;
        let at = offset + self.body_pos;
        if self.files.mmap && *len > SMALL_FILE {
            match FileMap::new(file, at, left.min(MAP_PIECE) as usize) {
                Ok(map) => {
                    self.map = Some(map);
                    self.map_at = self.body_pos;
                    return Ok(());
                }
                // A file that cannot be mapped (a special file, no address
                // space left) is read instead, as APR falls back.
                Err(_) => self.files.mmap = false,
            }
        }
        let want = left.min(CHUNK as u64) as usize;
        self.buf.resize(want.max(self.buf.len()), 0);
        let mut got = 0;
        // A small file is read whole, to leave with its head.
        while got < want && (got == 0 || *len <= SMALL_FILE) {
            let n = file.read_at(&mut self.buf[got..want], at + got as u64)?;
            if n == 0 {
                // The file shrank since it was measured.
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            got += n;
        }
        self.buf_pos = 0;
        self.buf_len = got;
        self.body_pos += got as u64;
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
            }
        } else {
            self.body_pos += n as u64;
            if self.map.as_ref().is_some_and(|m| self.body_pos == self.map_at + m.len() as u64) {
                // The piece is out; the next is mapped when needed.
                self.map = None;
            }
        }
    }

    fn next_body(&mut self) {
        self.bodies.pop_front();
        self.body_pos = 0;
        self.map = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A transport that takes at most `chunk` bytes a call and blocks every
    /// other call, to exercise partial writes. With `kernel`, it also sends
    /// files and mappings, for real, through a socket pair it drains.
    struct Trickle {
        out: Vec<u8>,
        chunk: usize,
        calls: usize,
        kernel: Option<(UnixStream, UnixStream)>,
        /// (write_more, send_file, write_mapped) calls that wrote.
        kinds: [usize; 3],
    }

    impl Trickle {
        fn new(chunk: usize, kernel: bool) -> Trickle {
            let kernel = kernel.then(|| {
                let (a, b) = UnixStream::pair().unwrap();
                a.set_nonblocking(true).unwrap();
                b.set_nonblocking(true).unwrap();
                (a, b)
            });
            Trickle { out: Vec::new(), chunk, calls: 0, kernel, kinds: [0; 3] }
        }

        fn blocks(&mut self) -> bool {
            self.calls += 1;
            self.calls % 2 == 0
        }

        fn drain(&mut self) {
            let (_, b) = self.kernel.as_mut().unwrap();
            let mut buf = [0; 16384];
            loop {
                match Read::read(b, &mut buf) {
                    Ok(n) if n > 0 => self.out.extend_from_slice(&buf[..n]),
                    _ => break,
                }
            }
        }
    }

    impl Transport for Trickle {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Ok(0)
        }
        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            if self.blocks() {
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
        fn write_more(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = self.write_vectored(&[IoSlice::new(buf)])?;
            self.kinds[0] += 1;
            Ok(n)
        }
        fn send_file(&mut self, file: &File, offset: u64, len: usize) -> io::Result<Option<usize>> {
            if self.kernel.is_none() {
                return Ok(None);
            }
            if self.blocks() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let mut off = offset as i64;
            let to = &self.kernel.as_ref().unwrap().0;
            let n = nix::sys::sendfile::sendfile(to, file, Some(&mut off), len.min(self.chunk))?;
            self.drain();
            self.kinds[1] += 1;
            Ok(Some(n))
        }
        fn write_mapped(&mut self, head: &[u8], map: &FileMap, from: usize) -> io::Result<Option<usize>> {
            if self.kernel.is_none() {
                return Ok(None);
            }
            if self.blocks() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = map.write_to(self.kernel.as_ref().unwrap().0.as_fd(), head, from, self.chunk)?;
            self.drain();
            self.kinds[2] += 1;
            Ok(Some(n))
        }
        fn shutdown_write(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn temp_file(content: &[u8]) -> File {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("httpd-core-output-{}-{n}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        let f = File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        f
    }

    const MODES: [FileIo; 4] = [
        FileIo { sendfile: false, mmap: false },
        FileIo { sendfile: false, mmap: true },
        FileIo { sendfile: true, mmap: false },
        FileIo { sendfile: true, mmap: true },
    ];

    fn write_all(w: &mut Writer, t: &mut Trickle) {
        let mut rounds = 0;
        while w.write(t).unwrap() == WriteState::Blocked {
            rounds += 1;
            assert!(rounds < 10_000_000);
        }
    }

    #[test]
    fn every_kind_of_body_arrives_whole_through_partial_writes() {
        let big: Vec<u8> = (0..110_000u32).map(|i| (i % 251) as u8).collect();
        for files in MODES {
            for kernel in [false, true] {
                // One byte a call through the kernel would take a while.
                for chunk in [1, 7, 4096, 1 << 20].into_iter().filter(|&c| !kernel || c > 1) {
                    let mut w = Writer::default();
                    w.start(files).extend_from_slice(b"HEAD\r\n\r\n");
                    w.push_body(Body::Bytes(b"abc".to_vec()));
                    w.push_body(Body::Parts(vec![
                        Body::Shared(Arc::from(&b"--b\r\n"[..])),
                        Body::File { file: temp_file(&big), offset: 10, len: 100_000 },
                        Body::Empty,
                        Body::File { file: temp_file(b"0123456789"), offset: 2, len: 3 },
                        Body::File { file: temp_file(&big), offset: 4097, len: 70_000 },
                    ]));
                    let mut t = Trickle::new(chunk, kernel);
                    write_all(&mut w, &mut t);
                    let mut expected = b"HEAD\r\n\r\nabc--b\r\n".to_vec();
                    expected.extend_from_slice(&big[10..100_010]);
                    expected.extend_from_slice(b"234");
                    expected.extend_from_slice(&big[4097..74_097]);
                    let case = format!("{files:?} kernel {kernel} chunk {chunk}");
                    assert_eq!(t.out.len(), expected.len(), "{case}");
                    assert!(t.out == expected, "{case}");
                    assert_eq!(w.body_sent, expected.len() as u64 - 8, "{case}");
                    assert!(w.is_idle(), "{case}");
                    let sent_by_kernel = t.kinds[1] + t.kinds[2] > 0;
                    assert_eq!(sent_by_kernel, kernel && (files.sendfile || files.mmap), "{case}");
                }
            }
        }
    }

    #[test]
    fn a_file_larger_than_a_mapping_resumes_at_each_piece() {
        let len = MAP_PIECE as usize * 2 + 12_345;
        let big: Vec<u8> = (0..len as u32 + 3).map(|i| (i % 253) as u8).collect();
        let mut w = Writer::default();
        w.start(FileIo { sendfile: false, mmap: true });
        w.push_body(Body::File { file: temp_file(&big), offset: 3, len: len as u64 });
        let mut t = Trickle::new(1 << 20, true);
        write_all(&mut w, &mut t);
        assert!(t.out == big[3..], "{} bytes of {len}", t.out.len());
        assert_eq!(w.body_sent, len as u64);
    }

    #[test]
    fn head_and_small_file_leave_in_one_call() {
        for files in MODES.into_iter().filter(|f| !f.sendfile) {
            let mut w = Writer::default();
            w.start(files).extend_from_slice(b"HEAD\r\n\r\n");
            w.push_body(Body::File { file: temp_file(&[b'x'; 1024]), offset: 0, len: 1024 });
            let mut t = Trickle::new(1 << 20, true);
            assert_eq!(w.write(&mut t).unwrap(), WriteState::Done);
            assert_eq!((t.calls, t.kinds), (1, [0; 3]), "read whole, written with the head");
            assert_eq!(t.out.len(), 8 + 1024);
        }
    }

    #[test]
    fn head_and_large_mapped_file_leave_in_one_call() {
        let mut w = Writer::default();
        w.start(FileIo { sendfile: false, mmap: true }).extend_from_slice(b"HEAD\r\n\r\n");
        w.push_body(Body::File { file: temp_file(&[b'y'; 100_000]), offset: 0, len: 100_000 });
        let mut t = Trickle::new(1 << 20, true);
        assert_eq!(w.write(&mut t).unwrap(), WriteState::Done);
        assert_eq!((t.calls, t.kinds), (1, [0, 0, 1]));
        assert_eq!(t.out.len(), 8 + 100_000);
    }

    #[test]
    fn a_head_before_sendfile_says_more_follows() {
        let mut w = Writer::default();
        w.start(FileIo { sendfile: true, mmap: true }).extend_from_slice(b"HEAD\r\n\r\n");
        w.push_body(Body::File { file: temp_file(&[b'z'; 100_000]), offset: 0, len: 100_000 });
        let mut t = Trickle::new(1 << 20, true);
        write_all(&mut w, &mut t);
        assert_eq!(t.kinds, [1, 1, 0], "one write_more for the head, one sendfile for the file");
        assert_eq!(t.out.len(), 8 + 100_000);
    }

    #[test]
    fn a_file_truncated_under_its_mapping_ends_the_response_with_an_error() {
        let path = std::env::temp_dir().join(format!("httpd-core-output-{}-truncated", std::process::id()));
        std::fs::write(&path, vec![b'q'; 200_000]).unwrap();
        let file = File::open(&path).unwrap();
        let mut w = Writer::default();
        w.start(FileIo { sendfile: false, mmap: true }).extend_from_slice(b"HEAD\r\n\r\n");
        w.push_body(Body::File { file, offset: 0, len: 200_000 });
        let mut t = Trickle::new(100_000, true);
        assert_eq!(w.write(&mut t).unwrap(), WriteState::Blocked, "a first part went");
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(4096).unwrap();
        std::fs::remove_file(&path).unwrap();
        let mut rounds = 0;
        let err = loop {
            match w.write(&mut t) {
                Ok(WriteState::Blocked) => rounds += 1,
                Ok(WriteState::Done) => panic!("a truncated file sent whole"),
                Err(e) => break e,
            }
            assert!(rounds < 100);
        };
        assert_eq!(err.raw_os_error(), Some(nix::libc::EFAULT), "{err}");
        assert!(t.out.len() < 8 + 200_000);
    }
}
