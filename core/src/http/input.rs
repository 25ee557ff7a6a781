//! A connection's input buffer: read into without zeroing on every read,
//! compacted rather than grown when it can be, and allocated only once the
//! connection has something to read (an idle connection waiting in the
//! event MPM holds none, see [`InputBuffer::release`]).

use std::io;

use super::output::Transport;
use super::pool::{self, Kind};

/// The buffer's first size; it doubles when a head or a burst of pipelined
/// requests needs more. Small, so that many connections in flight at once
/// cost little.
pub const READ_SIZE: usize = 4 * 1024;

#[derive(Debug, Default)]
pub struct InputBuffer {
    /// Fully initialized; `buf[start..end]` is unconsumed input.
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl InputBuffer {
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.end - self.start);
        self.start += n;
    }

    /// Reads once from `io` after what is buffered; `Ok(0)` at end of stream.
    pub fn read_from(&mut self, io: &mut impl Transport) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.buf.capacity() == 0 {
            self.buf = pool::take(Kind::Input);
        }
        if self.buf.len() - self.end < READ_SIZE / 2 {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < READ_SIZE / 2 {
                // Growth is bounded: the head parser refuses a head past the
                // configured limits, and bodies are consumed as they come.
                let len = (self.buf.len() * 2).max(READ_SIZE);
                self.buf.resize(len, 0);
            }
        }
        loop {
            match io.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Gives the buffer to this thread's pool when nothing is buffered (a
    /// connection going idle); the next read takes one from there.
    pub fn release(&mut self) {
        if self.is_empty() {
            pool::give(Kind::Input, std::mem::take(&mut self.buf));
            self.start = 0;
            self.end = 0;
        }
    }

    /// Bytes held, for measuring an idle connection's footprint.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::IoSlice;

    struct Feed(Vec<Vec<u8>>);

    impl Transport for Feed {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let mut chunk = self.0.remove(0);
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            if n < chunk.len() {
                self.0.insert(0, chunk.split_off(n));
            }
            Ok(n)
        }
        fn write_vectored(&mut self, _: &[IoSlice<'_>]) -> io::Result<usize> {
            Ok(0)
        }
        fn shutdown_write(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn keeps_unconsumed_bytes_across_compaction_and_growth() {
        let big = vec![7u8; 3 * READ_SIZE];
        let mut feed = Feed(vec![b"abc".to_vec(), big.clone(), b"xyz".to_vec()]);
        let mut input = InputBuffer::default();
        assert_eq!(input.capacity(), 0);
        input.read_from(&mut feed).unwrap();
        input.consume(1);
        while input.data().len() < 2 + big.len() + 3 {
            assert!(input.read_from(&mut feed).unwrap() > 0);
        }
        let data = input.data();
        assert_eq!(&data[..2], b"bc");
        assert_eq!(&data[data.len() - 3..], b"xyz");
        input.consume(data.len());
        input.release();
        assert_eq!(input.capacity(), 0);
        assert_eq!(input.read_from(&mut feed).unwrap(), 0);
    }
}
