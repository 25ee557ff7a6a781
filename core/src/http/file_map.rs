//! A file mapped into memory for writing to a socket with one copy
//! (EnableMMAP), as httpd's APR maps file buckets. All the `unsafe` that
//! mapping needs lives in this module.
//!
//! A mapped file can shrink under us (another process truncates it while a
//! response is on its way out): touching a mapped page past the new end of
//! file raises SIGBUS, which would kill a whole child with every connection
//! it holds. httpd has that risk wherever its filters read a mapped bucket.
//! Here this process never reads the mapping: the bytes are only ever named
//! to the kernel, as the source of a `writev(2)`, and a fault taken while the
//! kernel copies from user memory is not a signal but a failed copy: the
//! write stops short, and the next one fails with EFAULT, which ends the
//! response as a short read of the file would (the connection is aborted).
//! For the same reason no Rust reference (`&[u8]`) to the mapping is ever
//! made: its contents may change or vanish under it, which a reference
//! promises cannot happen.

use std::ffi::c_void;
use std::fs::File;
use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

use nix::libc;
use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap};

/// `len` bytes of a file, mapped read-only from a page boundary at or before
/// the first of them. Unmapped on drop.
#[derive(Debug)]
pub struct FileMap {
    base: NonNull<c_void>,
    /// What was mapped: `skip + len` bytes from `base`.
    mapped: usize,
    /// From the page boundary to the first byte wanted.
    skip: usize,
    len: usize,
}

// SAFETY: a FileMap owns its address range alone (nothing else unmaps it)
// and no code in this process reads through it, so handing it to another
// thread (event-server moves connections between workers) shares nothing.
unsafe impl Send for FileMap {}

impl FileMap {
    /// Maps `len` (> 0) bytes of `file` from `offset`.
    pub fn new(file: &File, offset: u64, len: usize) -> io::Result<FileMap> {
        let page = page_size();
        let skip = (offset % page as u64) as usize;
        let start = libc::off_t::try_from(offset - skip as u64).map_err(|_| invalid())?;
        let mapped = len.checked_add(skip).and_then(NonZeroUsize::new).ok_or_else(invalid)?;
        // SAFETY: a new shared read-only mapping at an address of the
        // kernel's choosing aliases no memory of ours. Pages past the end
        // of the file are never read here (see the module's comment).
        let base = unsafe { mmap(None, mapped, ProtFlags::PROT_READ, MapFlags::MAP_SHARED, file, start) }?;
        Ok(FileMap { base, mapped: mapped.get(), skip, len })
    }

    /// The bytes wanted (not counting the part of a page before them).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Writes `head`, then the mapped bytes from `from`, at most `limit`
    /// bytes in all, with one `writev(2)` on `fd`.
    pub fn write_to(&self, fd: BorrowedFd<'_>, head: &[u8], from: usize, limit: usize) -> io::Result<usize> {
        let from = from.min(self.len);
        let head_len = head.len().min(limit);
        let body_len = (self.len - from).min(limit - head_len);
        let iov = [
            libc::iovec { iov_base: head.as_ptr().cast_mut().cast(), iov_len: head_len },
            libc::iovec {
                // Within the mapping: `skip + from <= mapped`. Only an
                // address is formed here; the kernel does the reading.
                iov_base: self.base.as_ptr().cast::<u8>().wrapping_add(self.skip + from).cast(),
                iov_len: body_len,
            },
        ];
        let (iov, count) = if head_len == 0 { (&iov[1..], 1) } else { (&iov[..], 2) };
        // writev only reads both ranges, and a fault on a truncated file's
        // page comes back as EFAULT (or a short count), not as a signal.
        // SAFETY: both ranges are mapped for the whole call: the head borrowed, the mapping owned.
        let n = unsafe { libc::writev(fd.as_raw_fd(), iov.as_ptr(), count) };
        if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
    }
}

impl Drop for FileMap {
    fn drop(&mut self) {
        // SAFETY: `base` and `mapped` are what mmap returned and was given;
        // nothing refers into the range once its owner drops.
        let _ = unsafe { munmap(self.base, self.mapped) };
    }
}

fn invalid() -> io::Error {
    io::ErrorKind::InvalidInput.into()
}

fn page_size() -> usize {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().map_or(4096, |p| p as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    fn file_of(content: &[u8], tag: &str) -> (std::path::PathBuf, File) {
        let path = std::env::temp_dir().join(format!("httpd-core-file-map-{}-{tag}", std::process::id()));
        std::fs::File::create(&path).unwrap().write_all(content).unwrap();
        let f = File::open(&path).unwrap();
        (path, f)
    }

    #[test]
    fn writes_head_and_any_range_of_the_file() {
        let content: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let (path, file) = file_of(&content, "range");
        std::fs::remove_file(&path).unwrap();
        let (a, mut b) = UnixStream::pair().unwrap();
        // Offsets on and off a page boundary, limits cutting the head and the body.
        for (offset, len, from, limit) in [(0, 20_000, 0, usize::MAX), (4097, 9000, 5, 3), (123, 1, 0, 100)] {
            let map = FileMap::new(&file, offset, len).unwrap();
            assert_eq!(map.len(), len);
            let n = map.write_to(a.as_fd(), b"HD", from, limit).unwrap();
            let mut expected = b"HD".to_vec();
            expected.extend_from_slice(&content[offset as usize + from..offset as usize + len]);
            expected.truncate(limit);
            assert_eq!(n, expected.len());
            let mut got = vec![0; n];
            b.read_exact(&mut got).unwrap();
            assert!(got == expected, "offset {offset} len {len} from {from} limit {limit}");
        }
    }

    /// The SIGBUS risk of a mapping: the file shrinks while it is mapped.
    /// The write must fail (or stop short), and this test process live.
    #[test]
    fn a_file_truncated_while_mapped_fails_the_write_without_a_signal() {
        let (path, file) = file_of(&vec![7u8; 64 * 1024], "truncated");
        let map = FileMap::new(&file, 0, 64 * 1024).unwrap();
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
        std::fs::remove_file(&path).unwrap();
        let (a, _b) = UnixStream::pair().unwrap();
        match map.write_to(a.as_fd(), b"", 0, usize::MAX) {
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EFAULT), "{e}"),
            Ok(n) => assert!(n < 64 * 1024, "{n} bytes of a truncated file"),
        }
    }
}
