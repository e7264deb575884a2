//! The serial port (or PTY) under the link: 8N1, no flow control, and
//! writes that do not wait for the line first.
//!
//! `serialport::TTYPort` waits for writability with `ppoll` before every
//! write. The link writes three times per command (ENQ, the frame, the ACK
//! of the answer), each a few bytes that always fit the tty's buffer, so
//! that wait was a third of the device thread's system calls per receipt.
//! [`SerialLine`] opens the descriptor non-blocking and writes directly;
//! only when the kernel buffer is full (`EAGAIN`) does it fall back to the
//! waiting write, so a stalled adapter still ends in the port's timeout
//! instead of hanging the thread.

use crate::link::{LinkError, Port};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// A serial port opened for the link. See the module doc.
pub struct SerialLine {
    port: serialport::TTYPort,
}

impl SerialLine {
    /// Opens `path` at `baud`, 8N1, no flow control, non-blocking.
    pub fn open(path: &str, baud: u32) -> Result<Self, LinkError> {
        let port = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open_native()
            .map_err(|e| LinkError::Io(format!("cannot open {path}: {e}")))?;
        set_nonblocking(port.as_raw_fd())
            .map_err(|e| LinkError::Io(format!("cannot set {path} non-blocking: {e}")))?;
        Ok(SerialLine { port })
    }
}

fn set_nonblocking(fd: i32) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor the caller owns and keeps open; F_GETFL
    // and F_SETFL read and set flags only, no memory is passed.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Read for SerialLine {
    /// Waits up to the read timeout (`ppoll`), then reads what arrived.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.port.read(buf)
    }
}

impl Write for SerialLine {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: the descriptor is owned by `self.port`, open for as long
        // as `self` is borrowed; the pointer and length come from a live
        // slice, which `write` only reads during the call. The descriptor
        // is non-blocking (`open`), so the call cannot hang.
        let n = unsafe { libc::write(self.port.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::WouldBlock {
            // The tty's buffer is full: wait for room, up to the timeout.
            return self.port.write(buf);
        }
        Err(e)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.port.flush()
    }
}

impl Port for SerialLine {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        serialport::SerialPort::set_timeout(&mut self.port, timeout).map_err(io::Error::from)
    }
    fn set_baud_rate(&mut self, baud: u32) -> io::Result<()> {
        serialport::SerialPort::set_baud_rate(&mut self.port, baud).map_err(io::Error::from)
    }
    fn clear_input(&mut self) -> io::Result<()> {
        serialport::SerialPort::clear(&self.port, serialport::ClearBuffer::Input)
            .map_err(io::Error::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_reach_the_other_end_and_reads_time_out() {
        let (mut master, slave) = serialport::TTYPort::pair().expect("pty pair");
        let path = serialport::SerialPort::name(&slave).expect("slave name");
        let mut line = SerialLine::open(&path, 115_200).expect("open");
        line.write_all(&[0x05, 0x02, 0x01]).expect("write");
        let mut got = [0u8; 3];
        serialport::SerialPort::set_timeout(&mut master, Duration::from_secs(1)).expect("timeout");
        master.read_exact(&mut got).expect("read");
        assert_eq!(got, [0x05, 0x02, 0x01]);
        line.set_read_timeout(Duration::from_millis(20))
            .expect("timeout");
        let mut buf = [0u8; 8];
        let e = line.read(&mut buf).expect_err("nothing to read");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn a_full_buffer_ends_in_the_timeout_not_a_hang() {
        // Nobody reads the other end: the pty fills, and the write falls
        // back to the waiting one, which gives up after the timeout.
        let (_master, slave) = serialport::TTYPort::pair().expect("pty pair");
        let path = serialport::SerialPort::name(&slave).expect("slave name");
        let mut line = SerialLine::open(&path, 115_200).expect("open");
        line.set_read_timeout(Duration::from_millis(50))
            .expect("timeout");
        let chunk = [0x55u8; 4096];
        let started = std::time::Instant::now();
        let mut failed = None;
        for _ in 0..1024 {
            if let Err(e) = line.write_all(&chunk) {
                failed = Some(e);
                break;
            }
        }
        assert!(failed.is_some(), "4 MiB into an unread pty never blocked");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
