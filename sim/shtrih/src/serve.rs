//! The serving loop: the device side of the ENQ/ACK/NAK link on the PTY
//! master, with the line's timing and the transmission faults.
//!
//! Link behaviour (as the vendor's JavaPOS `PrinterProtocol_1` and pyshtrih
//! `Protocol` expect it): ENQ → NAK when idle, or ACK followed by the
//! unacknowledged answer; a frame with a good LRC → ACK, then the answer,
//! kept until the host ACKs it; a bad LRC → NAK; the host's NAK on an
//! answer → wait for its ENQ and send the answer again. A frame whose bytes
//! stop coming for [`BYTE_TIMEOUT`] is dropped.
//!
//! Timing: a byte takes 10 bit times (8N1). Bytes the host writes arrive
//! through the PTY at once, so the loop charges their line time before it
//! reacts, and it writes its own bytes in small chunks at the line rate.

use std::fs::File;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::device::{Device, Outcome};
use super::faults::Faults;
use super::pty;
use shtrih::frame::{ACK, Decoder, ENQ, NAK, Token};

/// A started frame is abandoned when no byte arrives for this long.
pub const BYTE_TIMEOUT: Duration = Duration::from_millis(150);

/// Time one byte takes on the line at `baud` (0 = no pacing).
pub fn byte_time(baud: u32) -> Duration {
    if baud == 0 {
        Duration::ZERO
    } else {
        Duration::from_nanos(10_000_000_000 / baud as u64)
    }
}

/// Corrupts a copy of an encoded frame so its LRC no longer matches: one
/// body byte flipped (or the LRC itself for an empty body).
pub fn garble(frame: &[u8]) -> Vec<u8> {
    let mut out = frame.to_vec();
    let idx = if out.len() > 4 {
        out.len() / 2
    } else {
        out.len().saturating_sub(1)
    };
    if let Some(b) = out.get_mut(idx) {
        *b ^= 0x5A;
    }
    out
}

pub(crate) struct Server {
    pub port: File,
    /// Our descriptor of the PTY slave: keeps the line up and shows the
    /// speed the driver set.
    pub slave: std::os::fd::OwnedFd,
    /// Ignore bytes sent at another speed than `baud`, as a real device
    /// sees only noise then.
    pub strict_baud: bool,
    pub device: Arc<Mutex<Device>>,
    pub faults: Faults,
    pub stop: Arc<AtomicBool>,
    pub baud: u32,
}

struct LinkState {
    decoder: Decoder,
    /// Encoded answer not yet acknowledged by the host.
    pending: Option<Vec<u8>>,
    last_byte: Instant,
    /// When the last byte received so far has fully "arrived" on the line.
    line_free_at: Instant,
}

impl Server {
    pub(crate) fn run(mut self) {
        let mut st = LinkState {
            decoder: Decoder::new(),
            pending: None,
            last_byte: Instant::now(),
            line_free_at: Instant::now(),
        };
        let bt = byte_time(self.baud);
        let mut buf = [0u8; 512];
        while !self.stop.load(Ordering::Relaxed) {
            let readable = match pty::wait_readable(&self.port, 50) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "emulator port poll failed");
                    std::thread::sleep(Duration::from_millis(50));
                    false
                }
            };
            if self.faults.is_powered_off() {
                if readable {
                    let _ = self.port.read(&mut buf);
                }
                st.decoder.reset();
                st.pending = None;
                continue;
            }
            if !readable {
                if st.decoder.in_frame() && st.last_byte.elapsed() > BYTE_TIMEOUT {
                    st.decoder.reset();
                }
                continue;
            }
            let n = match self.port.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::error!(error = %e, "emulator port read failed");
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            if self.strict_baud && self.baud != 0 && pty::line_speed(&self.slave) != Some(self.baud)
            {
                // Framing errors at the wrong speed: nothing decodable.
                st.decoder.reset();
                continue;
            }
            let now = Instant::now();
            if st.decoder.in_frame() && now.duration_since(st.last_byte) > BYTE_TIMEOUT {
                st.decoder.reset();
            }
            st.last_byte = now;
            let start = st.line_free_at.max(now);
            for (i, b) in buf[..n].iter().enumerate() {
                let arrived = start + bt * (i as u32 + 1);
                st.line_free_at = arrived;
                if let Some(tok) = st.decoder.push(*b) {
                    sleep_until(arrived);
                    self.on_token(tok, &mut st);
                    if self.faults.is_powered_off() {
                        break;
                    }
                }
            }
        }
    }

    fn on_token(&mut self, tok: Token, st: &mut LinkState) {
        match tok {
            Token::Control(ENQ) => match st.pending.clone() {
                Some(answer) => {
                    self.write_paced(&[ACK]);
                    self.send_answer(&answer);
                }
                None => self.write_paced(&[NAK]),
            },
            Token::Control(ACK) => st.pending = None,
            Token::Control(NAK) => {} // the host asks again with ENQ
            Token::Control(_) | Token::Garbage(_) => {}
            Token::Corrupt(_) => self.write_paced(&[NAK]),
            Token::Frame(_) if self.faults.take_garble_in() => self.write_paced(&[NAK]),
            Token::Frame(frame) => {
                self.write_paced(&[ACK]);
                let outcome = {
                    let mut dev = self.device.lock().unwrap_or_else(|p| p.into_inner());
                    dev.handle(&frame)
                };
                match outcome {
                    Outcome::PowerCut => {
                        self.faults.set_powered_off(true);
                        st.pending = None;
                        st.decoder.reset();
                    }
                    Outcome::PowerCutMidAnswer(answer) => {
                        if let Ok(bytes) = answer.encode() {
                            self.write_paced(&bytes[..bytes.len() / 2]);
                        }
                        self.faults.set_powered_off(true);
                        st.pending = None;
                        st.decoder.reset();
                    }
                    Outcome::Answer(answer) => {
                        let bytes = match answer.encode() {
                            Ok(b) => b,
                            Err(e) => {
                                tracing::error!(error = %e, "emulator answer too long");
                                return;
                            }
                        };
                        if let Some(d) = self.faults.slow() {
                            std::thread::sleep(d);
                        }
                        st.pending = Some(bytes.clone());
                        self.send_answer(&bytes);
                    }
                }
            }
        }
    }

    fn send_answer(&mut self, bytes: &[u8]) {
        let (garbled, dropped) = self.faults.take_transmission_faults();
        let mut out = if garbled {
            garble(bytes)
        } else {
            bytes.to_vec()
        };
        if dropped {
            out.pop();
        }
        self.write_paced(&out);
    }

    fn write_paced(&mut self, bytes: &[u8]) {
        let bt = byte_time(self.baud);
        for chunk in bytes.chunks(16) {
            if !bt.is_zero() {
                std::thread::sleep(bt * chunk.len() as u32);
            }
            if let Err(e) = self.port.write_all(chunk) {
                tracing::warn!(error = %e, "emulator port write failed");
                return;
            }
        }
        let _ = self.port.flush();
    }
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shtrih::frame::{Code, Decoder, Frame, Token};

    #[test]
    fn byte_time_is_ten_bits() {
        assert_eq!(byte_time(9600), Duration::from_nanos(1_041_666));
        assert_eq!(byte_time(0), Duration::ZERO);
    }

    #[test]
    fn garbled_frames_fail_the_lrc() {
        for payload in [vec![], vec![0], vec![0, 1, 2, 3, 4, 5]] {
            let f = Frame::new(Code(0x10), payload).encode().unwrap();
            let toks = Decoder::new().push_all(&garble(&f));
            assert!(
                !toks.iter().any(|t| matches!(t, Token::Frame(_))),
                "{toks:?}"
            );
        }
    }
}
