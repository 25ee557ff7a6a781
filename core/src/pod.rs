//! The pipe of death: how the parent asks children to exit without signals
//! (httpd's `mpm_unix.c` pod). One byte, `!`, retires one child gracefully;
//! whichever child reads it first goes.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::fcntl::OFlag;

/// Made by the parent before the first fork; children inherit both ends.
#[derive(Debug)]
pub struct PipeOfDeath {
    read: OwnedFd,
    write: OwnedFd,
}

impl PipeOfDeath {
    pub fn new() -> nix::Result<PipeOfDeath> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)?;
        Ok(PipeOfDeath { read, write })
    }

    /// Parent: asks one child to exit after its current work.
    pub fn retire_one(&self) -> nix::Result<()> {
        nix::unistd::write(&self.write, b"!").map(|_| ())
    }

    /// Child: takes a byte if one is there (non-blocking).
    pub fn check(&self) -> bool {
        let mut byte = [0u8; 1];
        matches!(nix::unistd::read(&self.read, &mut byte), Ok(1))
    }

    /// The read end, for a child's poll.
    pub fn read_fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// Parent: drops what no child took (after a restart).
    pub fn drain(&self) {
        while self.check() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_byte_retires_one() {
        let pod = PipeOfDeath::new().unwrap();
        assert!(!pod.check());
        pod.retire_one().unwrap();
        pod.retire_one().unwrap();
        assert!(pod.check());
        assert!(pod.check());
        assert!(!pod.check());
    }
}
