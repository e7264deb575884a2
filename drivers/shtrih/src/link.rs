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

/// Standard line speeds of Shtrih-M devices (codes 0–6 of the exchange
/// parameters, commands 0x14/0x15), most likely first: factory defaults are
/// 115200 (current models) and 4800/9600 (older ones).
pub const STANDARD_BAUD_RATES: [u32; 7] = [115_200, 9_600, 4_800, 57_600, 38_400, 19_200, 2_400];

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
    #[error("device did not answer at any of {tried:?} baud (last: {last})")]
    BaudNotFound { tried: Vec<u32>, last: String },
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
    /// ENQs sent while a request's ACK was late: the device still owes a
    /// reply to each (NAK, or ACK plus its answer again).
    owed_enq_replies: u32,
}

impl<P: Port> Link<P> {
    pub fn new(port: P, cfg: LinkConfig) -> Self {
        Link {
            port,
            cfg,
            rx: VecDeque::with_capacity(512),
            stats: LinkStats::default(),
            stale: Vec::new(),
            owed_enq_replies: 0,
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

    pub fn port(&self) -> &P {
        &self.port
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

    /// Finds the device's line speed: at each rate in `rates`, sends `probe`
    /// (a short command such as short status) with a small retry budget and
    /// keeps the first rate that gets a well-formed answer to it. Leaves the
    /// port at that rate and returns it.
    ///
    /// A bare ENQ is not enough: at a wrong speed a device can still emit a
    /// byte that happens to decode as NAK; a whole frame with a good LRC
    /// echoing the command code cannot happen by accident.
    pub fn detect_baud(&mut self, rates: &[u32], probe: &Frame) -> Result<u32, LinkError> {
        let saved = self.cfg;
        let mut last = LinkError::NoAnswer { attempts: 0 };
        for &baud in rates {
            self.port.set_baud_rate(baud)?;
            self.cfg = LinkConfig {
                baud,
                max_enq: 2,
                max_nak_command: 1,
                max_nak_answer: 1,
                max_ack: 1,
                stale_answer_timeout: saved.byte_timeout * 5,
                ..saved
            };
            self.rx.clear();
            let _ = self.port.clear_input();
            let answer_timeout = saved.byte_timeout * 10;
            let outcome = self.transact(probe, answer_timeout);
            match outcome {
                Ok(_) => {
                    tracing::info!(baud, "device answered");
                    self.cfg = LinkConfig { baud, ..saved };
                    return Ok(baud);
                }
                Err(e) => {
                    tracing::debug!(baud, error = %e, "no answer at this speed");
                    last = e;
                }
            }
        }
        self.cfg = saved;
        Err(LinkError::BaudNotFound {
            tried: rates.to_vec(),
            last: last.to_string(),
        })
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
        let answer = self.read_answer(request.code, answer_timeout + self.cfg.wire_time(260))?;
        self.settle_owed_replies()?;
        Ok(answer)
    }

    /// Consumes the device's replies to ENQs sent while an ACK was late.
    /// Left in the input, a stale NAK would later read as a NAK of the next
    /// request, which would then be sent again and run twice.
    fn settle_owed_replies(&mut self) -> Result<(), LinkError> {
        while self.owed_enq_replies > 0 {
            self.owed_enq_replies -= 1;
            match self.read_byte(self.cfg.byte_timeout)? {
                Some(ACK) => {
                    if let FrameRead::Frame(f) = self.read_frame(self.cfg.stale_answer_timeout)? {
                        // The answer we already have, sent again.
                        self.write(&[ACK])?;
                        tracing::debug!(code = %f.code, "discarded a repeated answer");
                    }
                }
                Some(NAK) | None => {}
                Some(_) => self.drain()?,
            }
        }
        Ok(())
    }

    /// Step 1: get the device idle.
    fn sync(&mut self) -> Result<(), LinkError> {
        // Whatever is already waiting answers something sent before this
        // exchange: a stale NAK or ACK would be taken for the reply to our
        // ENQ or request. An unacknowledged answer is not lost by dropping
        // it: the device repeats it after our ENQ.
        self.owed_enq_replies = 0;
        self.rx.clear();
        let _ = self.port.clear_input();
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
                    let reply = self.enquire()?;
                    if reply.is_some() {
                        self.owed_enq_replies += 1;
                    }
                    match reply {
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

    /// No flush: on a serial port that is `tcdrain`, a wait for the bytes
    /// to leave the UART on every write; the answer's timeout already
    /// counts their time on the wire ([`LinkConfig::wire_time`]).
    fn write(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.port.write_all(bytes)?;
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

pub mod responder {
    //! An in-memory [`Port`](super::Port) that plays a well-behaved device
    //! through a closure: it follows the device side of the handshake (NAK
    //! to ENQ when idle, ACK to a good frame, NAK to a bad LRC, answer held
    //! until the host ACKs it) and asks `handler` for each answer. Driver
    //! tests script whole receipts with it without writing bytes by hand.

    use crate::frame::{ACK, Decoder, ENQ, Frame, NAK, Token};
    use std::collections::VecDeque;
    use std::io::{self, Read, Write};
    use std::time::Duration;

    /// The closure-driven device.
    pub struct Responder<F: FnMut(&Frame) -> Frame + Send> {
        handler: F,
        decoder: Decoder,
        rx: VecDeque<u8>,
        pending: Option<Vec<u8>>,
        /// Every request frame the host sent, in order.
        pub requests: Vec<Frame>,
    }

    impl<F: FnMut(&Frame) -> Frame + Send> Responder<F> {
        pub fn new(handler: F) -> Self {
            Responder {
                handler,
                decoder: Decoder::new(),
                rx: VecDeque::new(),
                pending: None,
                requests: Vec::new(),
            }
        }
    }

    impl<F: FnMut(&Frame) -> Frame + Send> Read for Responder<F> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.rx.is_empty() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            let n = buf.len().min(self.rx.len());
            for (slot, b) in buf.iter_mut().zip(self.rx.drain(..n)) {
                *slot = b;
            }
            Ok(n)
        }
    }

    impl<F: FnMut(&Frame) -> Frame + Send> Write for Responder<F> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            for &b in buf {
                match self.decoder.push(b) {
                    None => {}
                    Some(Token::Control(ENQ)) => match &self.pending {
                        Some(answer) => {
                            self.rx.push_back(ACK);
                            self.rx.extend(answer.iter().copied());
                        }
                        None => self.rx.push_back(NAK),
                    },
                    Some(Token::Control(ACK)) => self.pending = None,
                    Some(Token::Control(_)) | Some(Token::Garbage(_)) => {}
                    Some(Token::Corrupt(_)) => self.rx.push_back(NAK),
                    Some(Token::Frame(f)) => {
                        self.rx.push_back(ACK);
                        let answer = (self.handler)(&f);
                        self.requests.push(f);
                        let bytes = answer
                            .encode()
                            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                        self.rx.extend(bytes.iter().copied());
                        self.pending = Some(bytes);
                    }
                }
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<F: FnMut(&Frame) -> Frame + Send> super::Port for Responder<F> {
        fn set_read_timeout(&mut self, _: Duration) -> io::Result<()> {
            Ok(())
        }
        fn set_baud_rate(&mut self, _: u32) -> io::Result<()> {
            Ok(())
        }
        fn clear_input(&mut self) -> io::Result<()> {
            self.rx.clear();
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::scripted::{ScriptedPort, Step};
    use super::*;
    use Step::{Expect, Reply, Silence};

    fn request() -> Frame {
        Frame::new(Code(0x10), vec![30, 0, 0, 0])
    }

    fn answer() -> Frame {
        Frame::new(
            Code(0x10),
            vec![0, 30, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        )
    }

    fn bytes(f: &Frame) -> Vec<u8> {
        f.encode().expect("frame fits")
    }

    fn link(steps: Vec<Step>) -> Link<ScriptedPort> {
        let cfg = LinkConfig {
            byte_timeout: Duration::from_millis(5),
            stale_answer_timeout: Duration::from_millis(20),
            ..LinkConfig::default()
        };
        Link::new(ScriptedPort::new(steps), cfg)
    }

    fn assert_done(l: &Link<ScriptedPort>) {
        let p = &l.port;
        assert!(
            p.finished(),
            "mismatch {:?}, left {:?}",
            p.mismatch,
            p.remaining()
        );
    }

    const T: Duration = Duration::from_millis(50);

    #[test]
    fn plain_exchange_is_enq_nak_frame_ack_answer_ack() {
        let mut l = link(vec![
            Expect(vec![ENQ]),
            Reply(vec![NAK]),
            Expect(bytes(&request())),
            Reply(vec![ACK]),
            Reply(bytes(&answer())),
            Expect(vec![ACK]),
        ]);
        assert_eq!(l.transact(&request(), T), Ok(answer()));
        assert_done(&l);
        assert_eq!(l.stats().frames_sent, 1);
    }

    /// An ACK later than the byte timeout: the host asks with ENQ, gets
    /// the late ACK and the answer, and the device's reply to that ENQ (a
    /// NAK) comes after. It must be consumed, not read as a NAK of the next
    /// request (which would send that request again: it would run twice).
    #[test]
    fn late_ack_leaves_no_stale_nak_for_the_next_request() {
        let mut l = link(vec![
            Expect(vec![ENQ]),
            Reply(vec![NAK]),
            Expect(bytes(&request())),
            Silence,
            Expect(vec![ENQ]),
            Reply(vec![ACK]),
            Reply(bytes(&answer())),
            Expect(vec![ACK]),
            Reply(vec![NAK]),
            // The next exchange sends its frame exactly once.
            Expect(vec![ENQ]),
            Reply(vec![NAK]),
            Expect(bytes(&request())),
            Reply(vec![ACK]),
            Reply(bytes(&answer())),
            Expect(vec![ACK]),
        ]);
        assert_eq!(l.transact(&request(), T), Ok(answer()));
        assert_eq!(l.transact(&request(), T), Ok(answer()));
        assert_done(&l);
        assert_eq!(l.stats().frames_sent, 2);
    }

    #[test]
    fn stale_answer_is_read_acknowledged_and_kept() {
        let stale = Frame::new(Code(0xFF45), vec![0, 1, 2, 3]);
        let mut l = link(vec![
            Expect(vec![ENQ]),
            Reply(vec![ACK]),
            Reply(bytes(&stale)),
            Expect(vec![ACK]),
            Expect(vec![ENQ]),
            Reply(vec![NAK]),
            Expect(bytes(&request())),
            Reply(vec![ACK]),
            Reply(bytes(&answer())),
            Expect(vec![ACK]),
        ]);
        assert_eq!(l.transact(&request(), T), Ok(answer()));
        assert_done(&l);
        assert_eq!(l.take_stale_answers(), vec![stale]);
    }

    #[test]
    fn garbage_and_silence_before_nak_are_survived() {
        let mut l = link(vec![
            Expect(vec![ENQ]),
            Silence,
            Expect(vec![ENQ]),
            Reply(vec![0x33, 0x99]),
            Expect(vec![ENQ]),
            Reply(vec![NAK]),
            Expect(bytes(&request())),
            Reply(vec![ACK]),
            Reply(bytes(&answer())),
            Expect(vec![ACK]),
        ]);
        assert_eq!(l.transact(&request(), T), Ok(answer()));
        assert_done(&l);
    }

    #[test]
    fn nak_on_the_request_makes_the_host_resend_it() {
        let mut l = link(vec![
            Expect(vec![ENQ]),
            Reply(vec![NAK]),
            Expect(bytes(&request())),
            Reply(vec![NAK]),
            Expect(bytes(&request())),
            Reply(vec![ACK]),
            Reply(bytes(&answer())),
            Expect(vec![ACK]),
        ]);
        assert_eq!(l.transact(&request(), T), Ok(answer()));
        assert_done(&l);
        assert_eq!(l.stats().frames_sent, 2);
    }

    #[test]
    fn lost_ack_is_asked_about_not_resent() {
        // The device got the frame but its ACK was lost: the host must ask
        // with ENQ (device: ACK, "I have it") and never send the frame twice.
        let mut l = link(vec![
            Expect(vec![ENQ]),
            Reply(vec![NAK]),
            Expect(bytes(&request())),
            Silence,
            Expect(vec![ENQ]),
            Reply(vec![ACK]),
            Reply(bytes(&answer())),
            Expect(vec![ACK]),
        ]);
        assert_eq!(l.transact(&request(), T), Ok(answer()));
        assert_done(&l);
        assert_eq!(l.stats().frames_sent, 1);
    }

    #[test]
    fn bad_lrc_in_the_answer_gets_nak_then_enq_and_the_answer_again() {
        let mut bad = bytes(&answer());
        *bad.last_mut().unwrap() ^= 0xFF;
        let mut l = link(vec![
            Expect(vec![ENQ]),
            Reply(vec![NAK]),
            Expect(bytes(&request())),
            Reply(vec![ACK]),
            Reply(bad),
            Expect(vec![NAK]),
            Expect(vec![ENQ]),
            Reply(vec![ACK]),
            Reply(bytes(&answer())),
            Expect(vec![ACK]),
        ]);
        assert_eq!(l.transact(&request(), T), Ok(answer()));
        assert_done(&l);
    }

    #[test]
    fn half_read_answer_is_drained_and_reread() {
        let full = bytes(&answer());
        let mut l = link(vec![
            Expect(vec![ENQ]),
            Reply(vec![NAK]),
            Expect(bytes(&request())),
            Reply(vec![ACK]),
            Reply(full[..6].to_vec()),
            Silence,
            Expect(vec![ENQ]),
            Reply(vec![ACK]),
            Reply(full),
            Expect(vec![ACK]),
        ]);
        assert_eq!(l.transact(&request(), T), Ok(answer()));
        assert_done(&l);
    }

    #[test]
    fn silent_device_is_no_answer_and_says_nothing_ran() {
        let mut steps = Vec::new();
        for _ in 0..10 {
            steps.push(Expect(vec![ENQ]));
            steps.push(Silence);
        }
        let mut l = link(steps);
        let err = l.transact(&request(), T).unwrap_err();
        assert_eq!(err, LinkError::NoAnswer { attempts: 10 });
        assert!(!err.may_have_executed());
    }

    #[test]
    fn answer_timeout_after_ack_may_have_executed() {
        let mut l = link(vec![
            Expect(vec![ENQ]),
            Reply(vec![NAK]),
            Expect(bytes(&request())),
            Reply(vec![ACK]),
        ]);
        let err = l.transact(&request(), T).unwrap_err();
        assert!(matches!(err, LinkError::AnswerTimeout { .. }), "{err}");
        assert!(err.may_have_executed());
    }

    #[test]
    fn answer_to_another_command_is_refused() {
        let other = Frame::new(Code(0x11), vec![0]);
        let mut l = link(vec![
            Expect(vec![ENQ]),
            Reply(vec![NAK]),
            Expect(bytes(&request())),
            Reply(vec![ACK]),
            Reply(bytes(&other)),
            Expect(vec![ACK]),
        ]);
        assert!(matches!(
            l.transact(&request(), T),
            Err(LinkError::WrongAnswer { .. })
        ));
    }

    #[test]
    fn baud_detection_finds_the_device_speed() {
        let mut port = ScriptedPort::new(vec![
            Expect(vec![ENQ]),
            Reply(vec![NAK]),
            Expect(bytes(&request())),
            Reply(vec![ACK]),
            Reply(bytes(&answer())),
            Expect(vec![ACK]),
        ]);
        port.device_baud = Some(19_200);
        let cfg = LinkConfig {
            byte_timeout: Duration::from_millis(2),
            ..LinkConfig::default()
        };
        let mut l = Link::new(port, cfg);
        let baud = l.detect_baud(&STANDARD_BAUD_RATES, &request()).unwrap();
        assert_eq!(baud, 19_200);
        assert_eq!(l.port.baud(), 19_200);
        assert_eq!(l.config().baud, 19_200);
        assert_eq!(l.config().max_enq, LinkConfig::default().max_enq);
        assert_done(&l);
    }

    #[test]
    fn baud_detection_fails_cleanly_when_nothing_answers() {
        let mut port = ScriptedPort::new(vec![]);
        port.device_baud = Some(1_200);
        let cfg = LinkConfig {
            byte_timeout: Duration::from_millis(1),
            ..LinkConfig::default()
        };
        let mut l = Link::new(port, cfg);
        let err = l.detect_baud(&STANDARD_BAUD_RATES, &request()).unwrap_err();
        assert!(matches!(err, LinkError::BaudNotFound { .. }), "{err}");
    }

    /// A device that ignores the host and babbles `noise`, then goes quiet.
    struct Babbler {
        noise: std::collections::VecDeque<u8>,
    }

    impl Read for Babbler {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.noise.len()).min(7);
            if n == 0 {
                return Err(io::ErrorKind::TimedOut.into());
            }
            for (slot, b) in buf.iter_mut().zip(self.noise.drain(..n)) {
                *slot = b;
            }
            Ok(n)
        }
    }

    impl Write for Babbler {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Port for Babbler {
        fn set_read_timeout(&mut self, _: Duration) -> io::Result<()> {
            Ok(())
        }
        fn set_baud_rate(&mut self, _: u32) -> io::Result<()> {
            Ok(())
        }
        fn clear_input(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    proptest::proptest! {
        #[test]
        fn any_line_noise_ends_in_an_answer_or_an_error(
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)
        ) {
            let cfg = LinkConfig {
                byte_timeout: Duration::from_millis(1),
                stale_answer_timeout: Duration::from_millis(2),
                ..LinkConfig::default()
            };
            let mut l = Link::new(Babbler { noise: noise.into() }, cfg);
            // Must return (never hang or panic) whatever the line carries.
            let _ = l.transact(&request(), Duration::from_millis(2));
        }
    }
}
