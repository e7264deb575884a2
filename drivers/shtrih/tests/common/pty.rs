//! A device on a real PTY pair, for driver tests and the bench: the slave
//! end is the "serial port" the driver opens by path; a thread on the master
//! end runs a [`Responder`] device and, if given a baud rate, paces both
//! directions at 10 bits per byte like a real line.

#![allow(dead_code)]

use shtrih::frame::Frame;
use shtrih::link::responder::Responder;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

pub struct PtyDevice {
    pub path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Bytes the host wrote / the device sent.
    pub from_host: Arc<AtomicU64>,
    pub to_host: Arc<AtomicU64>,
    _slave: OwnedFd,
}

fn wire_time(bytes: usize, baud: u32) -> Duration {
    Duration::from_micros(bytes as u64 * 10 * 1_000_000 / u64::from(baud))
}

impl PtyDevice {
    pub fn spawn<F>(handler: F, baud: Option<u32>) -> io::Result<PtyDevice>
    where
        F: FnMut(&Frame) -> Frame + Send + 'static,
    {
        let sim_shtrih::pty::Pty {
            master: mut master_file,
            slave,
            slave_path: path,
        } = sim_shtrih::pty::open()?;
        let stop = Arc::new(AtomicBool::new(false));
        let from_host = Arc::new(AtomicU64::new(0));
        let to_host = Arc::new(AtomicU64::new(0));
        let (stop2, fh, th) = (stop.clone(), from_host.clone(), to_host.clone());
        let raw = std::os::fd::AsRawFd::as_raw_fd(&master_file);
        let thread = std::thread::spawn(move || {
            let mut dev = Responder::new(handler);
            let mut buf = [0u8; 512];
            while !stop2.load(Ordering::Relaxed) {
                let mut pfd = libc::pollfd {
                    fd: raw,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: pfd is a valid pollfd for the duration of the call.
                let n = unsafe { libc::poll(&mut pfd, 1, 20) };
                if n <= 0 || pfd.revents & libc::POLLIN == 0 {
                    continue;
                }
                let n = match master_file.read(&mut buf) {
                    Ok(n) if n > 0 => n,
                    _ => continue,
                };
                fh.fetch_add(n as u64, Ordering::Relaxed);
                if let Some(b) = baud {
                    std::thread::sleep(wire_time(n, b));
                }
                let _ = dev.write(&buf[..n]);
                let mut out = Vec::new();
                while let Ok(k) = dev.read(&mut buf) {
                    out.extend_from_slice(&buf[..k]);
                }
                if out.is_empty() {
                    continue;
                }
                if let Some(b) = baud {
                    std::thread::sleep(wire_time(out.len(), b));
                }
                th.fetch_add(out.len() as u64, Ordering::Relaxed);
                let _ = master_file.write_all(&out);
            }
        });
        Ok(PtyDevice {
            path,
            stop,
            thread: Some(thread),
            from_host,
            to_host,
            _slave: slave,
        })
    }

    pub fn path_str(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

impl Drop for PtyDevice {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
