//! Host side of the Shtrih-M link layer: the ENQ/ACK/NAK handshake, byte and
//! answer timeouts, retries and resynchronisation, over any [`Port`].
//!
//! Sits on [`crate::frame`] (bytes ↔ frames) and under [`crate::commands`]
//! (typed requests). One call, [`Link::transact`], sends one request frame and
//! returns the device's answer frame:
//!
//! 1. **Sync.** Send ENQ. NAK → the device is idle. ACK → it still holds an
//!    answer we never acknowledged (e.g. after a crash or a lost ACK): read it,
//!    ACK it, keep it in [`Link::take_stale_answers`], and ENQ again. Silence
//!    or garbage → drain the line and ENQ again, up to `max_enq` times.
//! 2. **Send.** Write the frame; the device ACKs it, or NAKs a bad LRC (resend,
//!    up to `max_nak_command`). If neither arrives we do *not* blindly resend
//!    (the command could run twice): we send ENQ, and ACK means "I got it and
//!    have (or am preparing) the answer", NAK means "nothing received".
//! 3. **Answer.** Wait up to the command's answer timeout for STX, then read
//!    the frame with the byte timeout. Good LRC → ACK and return it. Bad LRC
//!    → NAK, then ENQ; the device answers ACK and sends the answer again (up
//!    to `max_nak_answer`). A half-read frame (byte timeout) → drain, ENQ, and
//!    re-read the same way.
//!
//! Defaults follow the vendor's JavaPOS driver (`shtrih-m/javapos_shtrih`,
//! `PrinterProtocol_1.java` and `FptrParameters.java`): byte timeout 100 ms,
//! maxEnqNumber 10, maxNakCommandNumber 3, maxNakAnswerNumber 3,
//! maxAckNumber 3. pyshtrih (`protocol.py`) retries up to 10 times and also
//! answers a bad answer LRC with NAK followed by ENQ.
//!
//! Errors say whether the command may have run on the device
//! ([`LinkError::may_have_executed`]): the driver must never repeat a
//! fiscal command that may already be in the FN.

use crate::frame::{ACK, Code, Decoder, ENQ, Frame, FrameError, NAK, STX, Token};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// A byte pipe to the device with a settable read timeout.
///
/// `read` must return `ErrorKind::TimedOut` (or `WouldBlock`) when nothing
/// arrives within the timeout last set.
pub trait Port: Read + Write + Send {
    /// Timeout for the next `read` calls.
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()>;
    /// Changes the line speed (baud-rate detection). Ports without a speed
    /// (PTYs, in-memory) may ignore it.
    fn set_baud_rate(&mut self, baud: u32) -> io::Result<()>;
    /// Drops bytes received but not yet read.
    fn clear_input(&mut self) -> io::Result<()>;
}

impl Port for Box<dyn serialport::SerialPort> {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.set_timeout(timeout).map_err(io::Error::from)
    }
    fn set_baud_rate(&mut self, baud: u32) -> io::Result<()> {
        serialport::SerialPort::set_baud_rate(self.as_mut(), baud).map_err(io::Error::from)
    }
    fn clear_input(&mut self) -> io::Result<()> {
        self.clear(serialport::ClearBuffer::Input)
            .map_err(io::Error::from)
    }
}

#[cfg(unix)]
impl Port for serialport::TTYPort {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        serialport::SerialPort::set_timeout(self, timeout).map_err(io::Error::from)
    }
    fn set_baud_rate(&mut self, baud: u32) -> io::Result<()> {
        serialport::SerialPort::set_baud_rate(self, baud).map_err(io::Error::from)
    }
    fn clear_input(&mut self) -> io::Result<()> {
        serialport::SerialPort::clear(self, serialport::ClearBuffer::Input).map_err(io::Error::from)
    }
}

/// Timeouts and retry limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// Longest gap between two bytes of one frame, and the wait for the
    /// control byte answering an ENQ.
    pub byte_timeout: Duration,
    /// ENQ attempts before declaring the device absent.
    pub max_enq: u32,
    /// Resends of a request the device NAKed (bad LRC on its side).
    pub max_nak_command: u32,
    /// NAKs we send for a corrupt answer before giving up.
    pub max_nak_answer: u32,
    /// Stale answers drained during one sync before giving up.
    pub max_ack: u32,
    /// Line speed, used only to stretch timeouts by the frame's wire time.
    pub baud: u32,
    /// How long to wait for a stale answer the device announced with ACK.
    pub stale_answer_timeout: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            byte_timeout: Duration::from_millis(100),
            max_enq: 10,
            max_nak_command: 3,
            max_nak_answer: 3,
            max_ack: 3,
            baud: 115_200,
            stale_answer_timeout: Duration::from_secs(2),
        }
    }
}

impl LinkConfig {
    /// Time `bytes` take on the wire at the configured speed (10 bits/byte).
    pub fn wire_time(&self, bytes: usize) -> Duration {
        let baud = u64::from(self.baud.max(300));
        Duration::from_micros(bytes as u64 * 10 * 1_000_000 / baud)
    }
}

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("port I/O error: {0}")]
    Io(String),
    #[error("no answer to ENQ after {attempts} attempts")]
    NoAnswer { attempts: u32 },
    #[error("device kept announcing stale answers ({0} drained)")]
    StaleAnswers(u32),
    #[error("device rejected the {code} frame {naks} times (NAK)")]
    CommandRejected { code: Code, naks: u32 },
    #[error("no answer to {code} within {timeout:?}")]
    AnswerTimeout { code: Code, timeout: Duration },
    #[error("answer to {code} corrupt {attempts} times: {last}")]
    AnswerCorrupt {
        code: Code,
        attempts: u32,
        /// What was wrong with the last copy.
        last: String,
    },
    #[error("answer to {code} lost: the device no longer holds it")]
    AnswerLost { code: Code },
    #[error("answer is for {got}, expected {expected}")]
    WrongAnswer { expected: Code, got: Code },
    #[error("cannot frame request: {0}")]
    Frame(FrameError),
}

impl LinkError {
    /// True if the device may have received and executed the request: the
    /// caller must find out (e.g. from the FN) before repeating it.
    pub fn may_have_executed(&self) -> bool {
        matches!(
            self,
            LinkError::AnswerTimeout { .. }
                | LinkError::AnswerCorrupt { .. }
                | LinkError::AnswerLost { .. }
                | LinkError::WrongAnswer { .. }
                | LinkError::Io(_)
        )
    }
}

impl From<io::Error> for LinkError {
    fn from(e: io::Error) -> Self {
        LinkError::Io(e.to_string())
    }
}

/// Bytes moved, for diagnostics and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub frames_sent: u64,
    pub retries: u64,
}

/// Outcome of waiting for one frame.
enum FrameRead {
    Frame(Frame),
    Corrupt(FrameError),
    /// STX and some bytes came, then the line went quiet.
    HalfRead,
    /// Nothing frame-like before the timeout.
    Timeout,
}

/// Host end of the link.
pub struct Link<P: Port> {
    port: P,
    cfg: LinkConfig,
    rx: VecDeque<u8>,
    stats: LinkStats,
    stale: Vec<Frame>,
}

impl<P: Port> Link<P> {
    pub fn new(port: P, cfg: LinkConfig) -> Self {
        Link {
            port,
            cfg,
            rx: VecDeque::with_capacity(512),
            stats: LinkStats::default(),
            stale: Vec::new(),
        }
    }

    pub fn config(&self) -> &LinkConfig {
        &self.cfg
    }

    pub fn config_mut(&mut self) -> &mut LinkConfig {
        &mut self.cfg
    }

    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    pub fn port_mut(&mut self) -> &mut P {
        &mut self.port
    }

    pub fn into_port(self) -> P {
        self.port
    }

    /// Answers the device sent before we asked (drained during sync), oldest
    /// first. A lost close-receipt answer shows up here with its FD number.
    pub fn take_stale_answers(&mut self) -> Vec<Frame> {
        std::mem::take(&mut self.stale)
    }

    /// Checks the device is there and idle (ENQ → NAK), draining any pending
    /// answer.
    pub fn probe(&mut self) -> Result<(), LinkError> {
        self.sync()
    }

    /// Sends `request` and returns the device's answer frame.
    pub fn transact(
        &mut self,
        request: &Frame,
        answer_timeout: Duration,
    ) -> Result<Frame, LinkError> {
        let bytes = request.encode().map_err(LinkError::Frame)?;
        self.sync()?;
        self.send_request(request.code, &bytes)?;
        self.read_answer(request.code, answer_timeout + self.cfg.wire_time(260))
    }

    /// Step 1: get the device idle.
    fn sync(&mut self) -> Result<(), LinkError> {
        let mut acks = 0;
        for _ in 0..self.cfg.max_enq {
            self.write(&[ENQ])?;
            match self.read_byte(self.cfg.byte_timeout)? {
                Some(NAK) => return Ok(()),
                Some(ACK) => {
                    acks += 1;
                    if acks > self.cfg.max_ack {
                        return Err(LinkError::StaleAnswers(acks - 1));
                    }
                    match self.read_frame(self.cfg.stale_answer_timeout)? {
                        FrameRead::Frame(f) => {
                            self.write(&[ACK])?;
                            tracing::warn!(code = %f.code, "drained a stale answer");
                            self.stale.push(f);
                        }
                        FrameRead::Corrupt(_) => self.write(&[NAK])?,
                        FrameRead::HalfRead | FrameRead::Timeout => self.drain()?,
                    }
                }
                Some(_) => {
                    self.stats.retries += 1;
                    self.drain()?;
                }
                None => self.stats.retries += 1,
            }
        }
        Err(LinkError::NoAnswer {
            attempts: self.cfg.max_enq,
        })
    }

    /// Step 2: deliver the request frame.
    fn send_request(&mut self, code: Code, bytes: &[u8]) -> Result<(), LinkError> {
        let mut naks = 0;
        let ack_timeout = self.cfg.byte_timeout + self.cfg.wire_time(bytes.len());
        loop {
            self.write(bytes)?;
            self.stats.frames_sent += 1;
            match self.read_byte(ack_timeout)? {
                Some(ACK) => return Ok(()),
                Some(NAK) => naks += 1,
                other => {
                    // Lost or garbled acknowledgement: ask instead of resending,
                    // so the command cannot run twice.
                    if other.is_some() {
                        self.drain()?;
                    }
                    match self.enquire()? {
                        Some(ACK) => return Ok(()),
                        Some(NAK) => naks += 1,
                        _ => {
                            return Err(LinkError::NoAnswer {
                                attempts: self.cfg.max_enq,
                            });
                        }
                    }
                }
            }
            if naks >= self.cfg.max_nak_command {
                return Err(LinkError::CommandRejected { code, naks });
            }
            self.stats.retries += 1;
        }
    }

    /// Step 3: read, check and acknowledge the answer.
    fn read_answer(&mut self, code: Code, timeout: Duration) -> Result<Frame, LinkError> {
        let mut bad = 0;
        loop {
            let last;
            match self.read_frame(timeout)? {
                FrameRead::Frame(f) => {
                    self.write(&[ACK])?;
                    if f.code != code {
                        return Err(LinkError::WrongAnswer {
                            expected: code,
                            got: f.code,
                        });
                    }
                    return Ok(f);
                }
                FrameRead::Timeout => return Err(LinkError::AnswerTimeout { code, timeout }),
                FrameRead::Corrupt(e) => {
                    last = e.to_string();
                    self.write(&[NAK])?;
                }
                FrameRead::HalfRead => {
                    last = "frame cut short (byte timeout)".to_string();
                    self.drain()?;
                }
            }
            bad += 1;
            if bad > self.cfg.max_nak_answer {
                return Err(LinkError::AnswerCorrupt {
                    code,
                    attempts: bad,
                    last,
                });
            }
            self.stats.retries += 1;
            // Ask the device to send the answer again.
            match self.enquire()? {
                Some(ACK) => continue,
                _ => return Err(LinkError::AnswerLost { code }),
            }
        }
    }

    /// Sends ENQ and returns the first control byte (ACK/NAK) answering it,
    /// retrying on silence; `None` if the device never answers.
    fn enquire(&mut self) -> Result<Option<u8>, LinkError> {
        for _ in 0..self.cfg.max_enq {
            self.write(&[ENQ])?;
            match self.read_byte(self.cfg.byte_timeout)? {
                Some(b @ (ACK | NAK)) => return Ok(Some(b)),
                Some(_) => self.drain()?,
                None => {}
            }
        }
        Ok(None)
    }

    /// Waits up to `first_byte` for STX, skipping anything else, then reads
    /// the frame with the byte timeout.
    fn read_frame(&mut self, first_byte: Duration) -> Result<FrameRead, LinkError> {
        let deadline = Instant::now() + first_byte;
        let mut decoder = Decoder::new();
        loop {
            let timeout = if decoder.in_frame() {
                self.cfg.byte_timeout
            } else {
                deadline.saturating_duration_since(Instant::now())
            };
            let Some(b) = self.read_byte(timeout)? else {
                return Ok(if decoder.in_frame() {
                    FrameRead::HalfRead
                } else {
                    FrameRead::Timeout
                });
            };
            if !decoder.in_frame() && b != STX {
                // Noise or stray control bytes before the frame.
                if Instant::now() >= deadline {
                    return Ok(FrameRead::Timeout);
                }
                continue;
            }
            match decoder.push(b) {
                None => {}
                Some(Token::Frame(f)) => return Ok(FrameRead::Frame(f)),
                Some(Token::Corrupt(e)) => return Ok(FrameRead::Corrupt(e)),
                Some(Token::Control(_) | Token::Garbage(_)) => {}
            }
        }
    }

    /// Discards whatever is on the line until it stays quiet for one byte
    /// timeout (bounded, so a babbling line cannot hang us).
    fn drain(&mut self) -> Result<(), LinkError> {
        self.rx.clear();
        let _ = self.port.clear_input();
        for _ in 0..4096 {
            if self.read_byte(self.cfg.byte_timeout)?.is_none() {
                break;
            }
        }
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.port.write_all(bytes)?;
        self.port.flush()?;
        self.stats.bytes_sent += bytes.len() as u64;
        Ok(())
    }

    /// One byte, or `None` on timeout.
    fn read_byte(&mut self, timeout: Duration) -> Result<Option<u8>, LinkError> {
        if let Some(b) = self.rx.pop_front() {
            return Ok(Some(b));
        }
        if timeout.is_zero() {
            return Ok(None);
        }
        self.port.set_read_timeout(timeout)?;
        let mut buf = [0u8; 256];
        loop {
            match self.port.read(&mut buf) {
                Ok(0) => return Ok(None),
                Ok(n) => {
                    self.stats.bytes_received += n as u64;
                    self.rx.extend(&buf[..n]);
                    return Ok(self.rx.pop_front());
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

pub mod scripted {
    //! An in-memory [`Port`](super::Port) that plays a device from a script:
    //! the host's writes must match `Expect` steps byte for byte, and `Reply`
    //! bytes become readable once every earlier step is done. A read with
    //! nothing to deliver times out at once, so tests never sleep.

    use std::collections::VecDeque;
    use std::io::{self, Read, Write};
    use std::time::Duration;

    /// One step of the device's script.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Step {
        /// The host must write exactly these bytes next.
        Expect(Vec<u8>),
        /// The device sends these bytes.
        Reply(Vec<u8>),
        /// The next read times out (the device stays silent).
        Silence,
    }

    /// The scripted device.
    #[derive(Debug, Default)]
    pub struct ScriptedPort {
        steps: VecDeque<Step>,
        rx: VecDeque<u8>,
        /// Every byte the host wrote.
        pub written: Vec<u8>,
        /// First mismatch between a write and the script.
        pub mismatch: Option<String>,
        baud: u32,
        /// If set, the device only understands this speed: at any other the
        /// host's bytes are ignored and reads time out.
        pub device_baud: Option<u32>,
        pub timeouts_seen: Vec<Duration>,
        timeout: Duration,
    }

    impl ScriptedPort {
        pub fn new(steps: impl IntoIterator<Item = Step>) -> Self {
            ScriptedPort {
                steps: steps.into_iter().collect(),
                baud: 9600,
                ..Default::default()
            }
        }

        /// True when the whole script ran and every write matched.
        pub fn finished(&self) -> bool {
            self.mismatch.is_none() && self.steps.is_empty() && self.rx.is_empty()
        }

        /// Steps not yet played (for failure messages).
        pub fn remaining(&self) -> Vec<Step> {
            self.steps.iter().cloned().collect()
        }

        pub fn baud(&self) -> u32 {
            self.baud
        }

        fn deaf(&self) -> bool {
            self.device_baud.is_some_and(|b| b != self.baud)
        }
    }

    impl Read for ScriptedPort {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.deaf() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            if self.rx.is_empty() {
                match self.steps.front() {
                    Some(Step::Reply(_)) => {
                        if let Some(Step::Reply(bytes)) = self.steps.pop_front() {
                            self.rx.extend(bytes);
                        }
                    }
                    Some(Step::Silence) => {
                        self.steps.pop_front();
                        return Err(io::ErrorKind::TimedOut.into());
                    }
                    _ => return Err(io::ErrorKind::TimedOut.into()),
                }
            }
            let n = buf.len().min(self.rx.len());
            for (slot, b) in buf.iter_mut().zip(self.rx.drain(..n)) {
                *slot = b;
            }
            Ok(n)
        }
    }

    impl Write for ScriptedPort {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            if self.deaf() {
                return Ok(buf.len());
            }
            for &b in buf {
                let Some(Step::Expect(exp)) = self.steps.front_mut() else {
                    let msg = format!(
                        "host wrote 0x{b:02X} but the script's next step is {:?}",
                        self.steps.front()
                    );
                    self.mismatch.get_or_insert(msg.clone());
                    return Err(io::Error::new(io::ErrorKind::InvalidData, msg));
                };
                if exp.first() != Some(&b) {
                    let msg = format!("host wrote 0x{b:02X}, script expected {exp:02X?}");
                    self.mismatch.get_or_insert(msg.clone());
                    return Err(io::Error::new(io::ErrorKind::InvalidData, msg));
                }
                exp.remove(0);
                if exp.is_empty() {
                    self.steps.pop_front();
                }
            }
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl super::Port for ScriptedPort {
        fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
            self.timeout = timeout;
            self.timeouts_seen.push(timeout);
            Ok(())
        }
        fn set_baud_rate(&mut self, baud: u32) -> io::Result<()> {
            self.baud = baud;
            Ok(())
        }
        fn clear_input(&mut self) -> io::Result<()> {
            self.rx.clear();
            Ok(())
        }
    }
}
