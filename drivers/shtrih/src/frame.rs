//! Frames of the Shtrih-M serial protocol, shared by the driver and the emulator.
//!
//! On the wire a frame is `STX LEN CMD DATA LRC`: LEN counts the command code
//! bytes plus DATA, the command is one byte or two for the extended set
//! (`0xFF nn`), and LRC is the XOR of LEN and every byte after it. Outside a
//! frame the line carries single control bytes (ENQ, ACK, NAK).
//!
//! The [`Decoder`] is incremental and total: it accepts any byte sequence,
//! never panics, and reports garbage it skipped so the link layer can
//! resynchronise.

/// Start of a frame.
pub const STX: u8 = 0x02;
/// Host asks "anything for me / are you ready".
pub const ENQ: u8 = 0x05;
/// Positive acknowledgement.
pub const ACK: u8 = 0x06;
/// Negative acknowledgement.
pub const NAK: u8 = 0x15;

/// Prefix of two-byte (extended) command codes.
pub const EXTENDED_PREFIX: u8 = 0xFF;

/// Largest LEN a frame can declare.
pub const MAX_LEN: usize = 255;

/// A command code: `0x10` or extended `0xFF46`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(pub u16);

impl Code {
    /// True for the two-byte `0xFFnn` commands.
    pub fn is_extended(self) -> bool {
        self.0 > 0xFF
    }

    /// Number of bytes the code takes on the wire.
    pub fn wire_len(self) -> usize {
        if self.is_extended() { 2 } else { 1 }
    }

    fn write(self, out: &mut Vec<u8>) {
        if self.is_extended() {
            out.push(EXTENDED_PREFIX);
            out.push((self.0 & 0xFF) as u8);
        } else {
            out.push(self.0 as u8);
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_extended() {
            write!(f, "0x{:04X}", self.0)
        } else {
            write!(f, "0x{:02X}", self.0)
        }
    }
}

/// A decoded frame: command code and the bytes after it.
///
/// For a request the payload starts with the password (if the command has
/// one); for an answer it starts with the error byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub code: Code,
    pub payload: Vec<u8>,
}

/// Why a frame could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame body of {0} bytes exceeds the protocol maximum of 255")]
    TooLong(usize),
    #[error("frame LRC mismatch: computed 0x{computed:02X}, received 0x{received:02X}")]
    BadLrc { computed: u8, received: u8 },
    #[error("frame declares length 0")]
    EmptyLength,
    #[error("frame declares length {len} but an extended command needs at least 2")]
    TruncatedExtended { len: u8 },
}

/// XOR checksum over LEN and body.
pub fn lrc(len: u8, body: &[u8]) -> u8 {
    body.iter().fold(len, |acc, b| acc ^ b)
}

impl Frame {
    pub fn new(code: Code, payload: Vec<u8>) -> Self {
        Frame { code, payload }
    }

    /// Encodes to `STX LEN CMD DATA LRC`.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let body_len = self.code.wire_len() + self.payload.len();
        if body_len > MAX_LEN {
            return Err(FrameError::TooLong(body_len));
        }
        let mut out = Vec::with_capacity(body_len + 3);
        out.push(STX);
        out.push(body_len as u8);
        self.code.write(&mut out);
        out.extend_from_slice(&self.payload);
        let sum = lrc(body_len as u8, &out[2..]);
        out.push(sum);
        Ok(out)
    }

    /// Parses a body (`CMD DATA`, without STX, LEN and LRC).
    pub fn from_body(body: &[u8]) -> Result<Frame, FrameError> {
        match body {
            [] => Err(FrameError::EmptyLength),
            [EXTENDED_PREFIX] => Err(FrameError::TruncatedExtended { len: 1 }),
            [EXTENDED_PREFIX, sub, rest @ ..] => Ok(Frame {
                code: Code(0xFF00 | *sub as u16),
                payload: rest.to_vec(),
            }),
            [cmd, rest @ ..] => Ok(Frame {
                code: Code(*cmd as u16),
                payload: rest.to_vec(),
            }),
        }
    }
}

/// One unit read off the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A lone ENQ, ACK or NAK outside a frame.
    Control(u8),
    /// A complete frame with a correct checksum.
    Frame(Frame),
    /// A complete frame whose checksum (or structure) is wrong; answer NAK.
    Corrupt(FrameError),
    /// A byte that is neither a control byte nor the start of a frame.
    Garbage(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Len,
    Body { len: u8 },
    Lrc { len: u8 },
}

/// Incremental decoder: push bytes in, take tokens out.
#[derive(Debug, Clone)]
pub struct Decoder {
    state: State,
    body: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    pub fn new() -> Self {
        Decoder {
            state: State::Idle,
            body: Vec::with_capacity(MAX_LEN),
        }
    }

    /// True when a frame has started but is not complete (the link layer
    /// uses this to apply the byte-to-byte timeout).
    pub fn in_frame(&self) -> bool {
        self.state != State::Idle
    }

    /// Forgets a half-read frame (after a byte timeout).
    pub fn reset(&mut self) {
        self.state = State::Idle;
        self.body.clear();
    }

    /// Feeds one byte; returns a token when one is complete.
    pub fn push(&mut self, byte: u8) -> Option<Token> {
        match self.state {
            State::Idle => match byte {
                STX => {
                    self.state = State::Len;
                    None
                }
                ENQ | ACK | NAK => Some(Token::Control(byte)),
                other => Some(Token::Garbage(other)),
            },
            State::Len => {
                if byte == 0 {
                    self.state = State::Idle;
                    return Some(Token::Corrupt(FrameError::EmptyLength));
                }
                self.body.clear();
                self.state = State::Body { len: byte };
                None
            }
            State::Body { len } => {
                self.body.push(byte);
                if self.body.len() == len as usize {
                    self.state = State::Lrc { len };
                }
                None
            }
            State::Lrc { len } => {
                self.state = State::Idle;
                let computed = lrc(len, &self.body);
                let token = if computed != byte {
                    Token::Corrupt(FrameError::BadLrc {
                        computed,
                        received: byte,
                    })
                } else {
                    match Frame::from_body(&self.body) {
                        Ok(f) => Token::Frame(f),
                        Err(e) => Token::Corrupt(e),
                    }
                };
                self.body.clear();
                Some(token)
            }
        }
    }

    /// Feeds many bytes, collecting every completed token.
    pub fn push_all(&mut self, bytes: &[u8]) -> Vec<Token> {
        bytes.iter().filter_map(|b| self.push(*b)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_status_request_matches_the_reference_bytes() {
        // 0x10 with password 30: STX 05 10 1E 00 00 00 LRC
        let f = Frame::new(Code(0x10), vec![0x1E, 0, 0, 0]);
        let bytes = f.encode().unwrap();
        assert_eq!(
            bytes,
            vec![0x02, 0x05, 0x10, 0x1E, 0x00, 0x00, 0x00, 0x05 ^ 0x10 ^ 0x1E]
        );
    }

    #[test]
    fn extended_code_goes_on_the_wire_as_two_bytes() {
        let f = Frame::new(Code(0xFF46), vec![1, 2]);
        let bytes = f.encode().unwrap();
        assert_eq!(&bytes[..4], &[0x02, 0x04, 0xFF, 0x46]);
        let toks = Decoder::new().push_all(&bytes);
        assert_eq!(toks, vec![Token::Frame(f)]);
    }

    #[test]
    fn bad_lrc_is_reported_not_dropped() {
        let mut bytes = Frame::new(Code(0x11), vec![1, 0, 0, 0]).encode().unwrap();
        *bytes.last_mut().unwrap() ^= 0x55;
        let toks = Decoder::new().push_all(&bytes);
        assert!(matches!(
            toks.as_slice(),
            [Token::Corrupt(FrameError::BadLrc { .. })]
        ));
    }

    #[test]
    fn too_long_payload_is_refused() {
        assert_eq!(
            Frame::new(Code(0xFF46), vec![0; 254]).encode(),
            Err(FrameError::TooLong(256))
        );
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut d = Decoder::new();
            let _ = d.push_all(&bytes);
        }

        #[test]
        fn frames_round_trip(code in prop_oneof![0u16..0xFF, 0xFF00u16..=0xFFFF],
                             payload in proptest::collection::vec(any::<u8>(), 0..200)) {
            let f = Frame::new(Code(code), payload);
            let bytes = f.encode().unwrap();
            prop_assert_eq!(Decoder::new().push_all(&bytes), vec![Token::Frame(f)]);
        }

        #[test]
        fn decoder_resyncs_after_garbage(garbage in proptest::collection::vec(any::<u8>().prop_filter("not STX", |b| *b != STX), 0..50),
                                          payload in proptest::collection::vec(any::<u8>(), 0..50)) {
            let f = Frame::new(Code(0x10), payload);
            let mut d = Decoder::new();
            let _ = d.push_all(&garbage);
            d.reset();
            let toks = d.push_all(&f.encode().unwrap());
            prop_assert_eq!(toks.last(), Some(&Token::Frame(f)));
        }
    }
}
