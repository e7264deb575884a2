//! The pseudo-terminal the emulator serves: a master side the emulator
//! reads and writes, a slave side (`/dev/pts/N`) a driver opens as if it
//! were a serial port, and a symlink at a stable path pointing to it.
//!
//! The emulator keeps its own descriptor of the slave open, so a driver
//! closing and reopening the port never makes the master see a hang-up.

use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// An open PTY pair.
#[derive(Debug)]
pub struct Pty {
    pub master: File,
    /// Held open so the line never hangs up; never read.
    pub slave: OwnedFd,
    pub slave_path: PathBuf,
}

/// Opens a PTY pair and puts the slave in raw mode (no echo, no line
/// editing, 8 data bits) as a serial line would be.
pub fn open() -> io::Result<Pty> {
    let mut master: libc::c_int = -1;
    let mut slave: libc::c_int = -1;
    // SAFETY: `openpty` writes one descriptor into each of the two
    // out-pointers, which point to live local integers; the name, termios
    // and winsize arguments may be null (documented in openpty(3)), and we
    // pass null for all three so it writes nothing else.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: on success both descriptors were just opened by `openpty`
    // for us and nothing else owns them, so each gets exactly one owner.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    set_cloexec(&master)?;
    set_cloexec(&slave)?;
    make_raw(&slave)?;
    let slave_path = tty_name(&slave)?;
    Ok(Pty {
        master: File::from(master),
        slave,
        slave_path,
    })
}

fn set_cloexec(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    let rc = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn make_raw(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: `termios` is a plain C struct for which all-zero bytes are a
    // valid value; tcgetattr fully overwrites it before we read it.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is an open terminal descriptor we own and `t` is a
    // valid, exclusively borrowed termios.
    if unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: cfmakeraw only edits the struct it is given.
    unsafe { libc::cfmakeraw(&mut t) };
    // SAFETY: as for tcgetattr; `t` is a fully initialised termios.
    if unsafe { libc::tcsetattr(fd.as_raw_fd(), libc::TCSANOW, &t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn tty_name(fd: &OwnedFd) -> io::Result<PathBuf> {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: `buf` is a live, writable buffer of the length we pass;
    // ttyname_r writes a NUL-terminated name into it or returns an error.
    let rc = unsafe { libc::ttyname_r(fd.as_raw_fd(), buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    // SAFETY: on success ttyname_r stored a NUL-terminated string in `buf`.
    let name = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Ok(PathBuf::from(name.to_string_lossy().into_owned()))
}

/// Points `link` at `target`, replacing an older symlink but never a
/// regular file or directory.
pub(crate) fn link(target: &Path, link: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(link) {
        Ok(m) if m.file_type().is_symlink() => std::fs::remove_file(link)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a symlink", link.display()),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::os::unix::fs::symlink(target, link)
}

/// Removes `link` if it still points at `target`.
pub(crate) fn unlink(target: &Path, link: &Path) {
    if std::fs::read_link(link).ok().as_deref() == Some(target) {
        let _ = std::fs::remove_file(link);
    }
}

/// Waits up to `timeout_ms` for `file` to become readable.
pub(crate) fn wait_readable(file: &File, timeout_ms: i32) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: file.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, count 1, on a descriptor `file` owns.
    let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(e);
    }
    Ok(rc > 0 && pfd.revents & libc::POLLIN != 0)
}

/// The line speed the other end configured on the terminal (a PTY carries
/// the termios the driver set), or `None` if it cannot be read.
///
/// Drivers may set any rate through `termios2` (`BOTHER`, as the
/// `serialport` crate does), so the rate is read with `TCGETS2` first and
/// from the classic `B*` constants only if that ioctl is refused.
pub(crate) fn line_speed(fd: &OwnedFd) -> Option<u32> {
    // SAFETY: `termios2` is a plain C struct; all-zero bytes are valid and
    // TCGETS2 overwrites it.
    let mut t2: libc::termios2 = unsafe { std::mem::zeroed() };
    // SAFETY: TCGETS2 writes one `termios2` through the pointer, which
    // points to a live, exclusively borrowed `termios2` of the right size.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TCGETS2, &mut t2) } == 0 {
        return Some(t2.c_ospeed);
    }
    // SAFETY: all-zero bytes are a valid `termios`; tcgetattr overwrites it.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is an open terminal descriptor we own; `t` is valid.
    if unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) } != 0 {
        return None;
    }
    // SAFETY: cfgetospeed only reads the struct it is given.
    let speed = unsafe { libc::cfgetospeed(&t) };
    Some(match speed {
        libc::B1200 => 1200,
        libc::B2400 => 2400,
        libc::B4800 => 4800,
        libc::B9600 => 9600,
        libc::B19200 => 19_200,
        libc::B38400 => 38_400,
        libc::B57600 => 57_600,
        libc::B115200 => 115_200,
        libc::B230400 => 230_400,
        _ => return None,
    })
}
