//! Test-side tools for the emulator tests: a raw serial client that speaks
//! the link protocol byte by byte, written from the protocol reference and
//! independent of the crate's `frame` and `link` modules, plus an emulator
//! started on a temporary link path.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sim_shtrih::{Emulator, EmulatorConfig, EmulatorHandle};

pub const STX: u8 = 0x02;
pub const ENQ: u8 = 0x05;
pub const ACK: u8 = 0x06;
pub const NAK: u8 = 0x15;

/// System administrator password 30, little-endian.
pub const SYSADMIN: [u8; 4] = [30, 0, 0, 0];
/// Cashier 1.
pub const CASHIER: [u8; 4] = [1, 0, 0, 0];

/// Generous for a loaded machine.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// An emulator on a fresh temp dir.
pub struct Bench {
    pub dir: tempfile::TempDir,
    pub emu: EmulatorHandle,
}

impl Bench {
    pub fn start() -> Bench {
        Self::start_with(|c| c)
    }

    pub fn start_with(f: impl FnOnce(EmulatorConfig) -> EmulatorConfig) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let cfg = EmulatorConfig::new(dir.path().join("kkt")).baud(0);
        let emu = Emulator::spawn(f(cfg)).unwrap();
        Bench { dir, emu }
    }

    pub fn link(&self) -> PathBuf {
        self.emu.link_path().to_path_buf()
    }

    pub fn port(&self) -> RawPort {
        RawPort::open(&self.link())
    }
}

/// `STX LEN body LRC` with the LRC computed here, by hand.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let len = body.len() as u8;
    let lrc = body.iter().fold(len, |a, b| a ^ b);
    let mut v = vec![STX, len];
    v.extend_from_slice(body);
    v.push(lrc);
    v
}

/// Request body: command code bytes, password, data.
pub fn body(code: &[u8], password: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = code.to_vec();
    v.extend_from_slice(password);
    v.extend_from_slice(data);
    v
}

/// A serial port opened on the emulator's link.
pub struct RawPort {
    port: Box<dyn serialport::SerialPort>,
}

impl RawPort {
    pub fn open(path: &Path) -> RawPort {
        Self::open_at(path, 115_200)
    }

    pub fn open_at(path: &Path, baud: u32) -> RawPort {
        let port = serialport::new(path.to_string_lossy(), baud)
            .timeout(Duration::from_millis(100))
            .open()
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        RawPort { port }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.port.write_all(bytes).unwrap();
        self.port.flush().unwrap();
    }

    /// Reads exactly `n` bytes or panics after `timeout`.
    pub fn read_n(&mut self, n: usize, timeout: Duration) -> Vec<u8> {
        self.try_read_n(n, timeout)
            .unwrap_or_else(|got| panic!("wanted {n} bytes, got {got:02X?}"))
    }

    /// Reads exactly `n` bytes, or returns what came before `timeout`.
    pub fn try_read_n(&mut self, n: usize, timeout: Duration) -> Result<Vec<u8>, Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::with_capacity(n);
        let mut buf = [0u8; 256];
        while out.len() < n {
            if Instant::now() > deadline {
                return Err(out);
            }
            let want = (n - out.len()).min(buf.len());
            match self.port.read(&mut buf[..want]) {
                Ok(k) => out.extend_from_slice(&buf[..k]),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => panic!("read: {e}"),
            }
        }
        Ok(out)
    }

    /// Reads one byte.
    pub fn byte(&mut self) -> u8 {
        self.read_n(1, TIMEOUT)[0]
    }

    /// Nothing arrives within `wait`.
    pub fn silent(&mut self, wait: Duration) -> Vec<u8> {
        match self.try_read_n(1, wait) {
            Ok(v) => v,
            Err(v) => v,
        }
    }

    /// Reads an answer frame; returns (raw bytes, body) and checks the LRC.
    pub fn read_frame(&mut self) -> (Vec<u8>, Vec<u8>) {
        let head = self.read_n(2, TIMEOUT);
        assert_eq!(head[0], STX, "answer must start with STX: {head:02X?}");
        let len = head[1] as usize;
        let rest = self.read_n(len + 1, TIMEOUT);
        let body = rest[..len].to_vec();
        let lrc = body.iter().fold(head[1], |a, b| a ^ b);
        assert_eq!(lrc, rest[len], "answer LRC");
        let mut raw = head;
        raw.extend_from_slice(&rest);
        (raw, body)
    }

    /// Full exchange: ENQ → NAK, frame → ACK, answer → ACK. Returns the
    /// answer body (`CMD ERR DATA`).
    pub fn exchange(&mut self, body: &[u8]) -> Vec<u8> {
        self.send(&[ENQ]);
        assert_eq!(self.byte(), NAK, "idle device answers ENQ with NAK");
        self.send(&frame(body));
        assert_eq!(self.byte(), ACK, "device acknowledges a good frame");
        let (_, answer) = self.read_frame();
        self.send(&[ACK]);
        answer
    }

    /// Exchange and strip the command code; returns `ERR DATA`.
    pub fn call(&mut self, code: &[u8], password: &[u8], data: &[u8]) -> Vec<u8> {
        let a = self.exchange(&body(code, password, data));
        assert_eq!(&a[..code.len()], code, "answer echoes the command");
        a[code.len()..].to_vec()
    }

    /// Like [`call`](Self::call) but asserts success and returns the data.
    pub fn ok(&mut self, code: &[u8], password: &[u8], data: &[u8]) -> Vec<u8> {
        let a = self.call(code, password, data);
        assert_eq!(a[0], 0, "command {code:02X?} failed with 0x{:02X}", a[0]);
        a[1..].to_vec()
    }
}

/// 5-byte little-endian money.
pub fn money(k: u64) -> [u8; 5] {
    let b = k.to_le_bytes();
    [b[0], b[1], b[2], b[3], b[4]]
}

pub fn le(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0u64, |a, b| (a << 8) | *b as u64)
}

/// CP1251 text zero-padded to `n` (ASCII and the few Cyrillic letters the
/// tests use).
pub fn text(s: &str, n: usize) -> Vec<u8> {
    let mut v: Vec<u8> = s
        .chars()
        .map(|c| match c {
            'А'..='я' => (c as u32 - 'А' as u32 + 0xC0) as u8,
            c if c.is_ascii() => c as u8,
            _ => b'?',
        })
        .collect();
    v.resize(n, 0);
    v
}
