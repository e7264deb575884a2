//! Typed requests and answers of the Shtrih-M protocol.
//!
//! Sits between [`crate::link`] (which moves frames) and [`crate::driver`]
//! (which speaks `kkt::Kkt`). Every command is a struct implementing
//! [`Command`]: its body encodes and decodes (the driver encodes requests and
//! decodes answers; tests and an emulator can do the reverse), and its
//! associated [`Answer`] type does the same for the answer data after the
//! error byte.
//!
//! Envelope: a request payload is `password(4 LE)` (unless the command has
//! none, like 0xFC) followed by the body; an answer payload is `ERR` followed
//! by the answer data when ERR is 0. Decoders are total: short or malformed
//! input gives a [`WireError`] naming the field, never a panic, and trailing
//! bytes a newer firmware may append are ignored.
//!
//! Layouts were checked against the vendor's JavaPOS driver
//! (`shtrih-m/javapos_shtrih`, `Source/Core/src/com/shtrih/fiscalprinter/command/*.java`),
//! pyshtrih and `afilippov1985/kkt-shtrih`; each module notes what it found.

pub mod fiscal_storage;
pub mod marking;
pub mod receipt;
pub mod service;
pub mod shift;
pub mod status;

pub use fiscal_storage::*;
pub use marking::*;
pub use receipt::*;
pub use service::*;
pub use shift::*;
pub use status::*;

use crate::frame::{Code, Frame};
use crate::wire::{Reader, WireError, Writer};
use jiff::civil::DateTime;
use std::time::Duration;

/// A request the host sends.
pub trait Command: Sized {
    /// Command code on the wire.
    const CODE: Code;
    /// Short English name for logs and errors, e.g. "close receipt V2".
    const NAME: &'static str;
    /// False for the few commands sent without a password (0xFC).
    const HAS_PASSWORD: bool = true;
    /// The answer data after a zero error byte.
    type Answer: Answer;

    /// Writes the body (everything after the password).
    fn write_body(&self, w: Writer) -> Writer;
    /// Reads the body (everything after the password).
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError>;

    /// How long the device may take to answer. Values follow the vendor
    /// driver's `PrinterCommand.getDefaultTimeout` (status 3 s, X-report 30 s,
    /// Z-report 65 s, open shift 120 s, marking check 40 s, others 30 s) —
    /// generous on purpose: giving up early on a fiscal command leaves its
    /// outcome unknown.
    fn timeout(&self) -> Duration {
        default_timeout(Self::CODE)
    }
}

/// Answer data of a command.
pub trait Answer: Sized {
    fn write(&self, w: Writer) -> Writer;
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError>;
}

/// Vendor default answer timeout for a command code.
pub fn default_timeout(code: Code) -> Duration {
    let ms = match code.0 {
        0x10 | 0x11 | 0xFC => 3_000,
        0x40 => 30_000,
        0x41 => 65_000,
        0xE0 => 120_000,
        0xFF61 | 0xFF67 => 40_000,
        _ => 30_000,
    };
    Duration::from_millis(ms)
}

/// Builds the request frame for `cmd`.
pub fn request_frame<C: Command>(password: u32, cmd: &C) -> Frame {
    let w = if C::HAS_PASSWORD {
        Writer::new().u32(password)
    } else {
        Writer::new()
    };
    Frame::new(C::CODE, cmd.write_body(w).into_bytes())
}

/// Why a frame does not hold the expected command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame is {got}, expected {expected}")]
    WrongCode { expected: Code, got: Code },
    #[error(transparent)]
    Wire(#[from] WireError),
}

/// Parses a request frame (device side, tests): password (if any) and body.
pub fn parse_request<C: Command>(frame: &Frame) -> Result<(Option<u32>, C), DecodeError> {
    check_code::<C>(frame)?;
    let mut r = Reader::new(&frame.payload);
    let password = if C::HAS_PASSWORD {
        Some(r.u32("password")?)
    } else {
        None
    };
    Ok((password, C::read_body(&mut r)?))
}

/// Builds a successful answer frame (error byte 0).
pub fn answer_frame<C: Command>(answer: &C::Answer) -> Frame {
    Frame::new(C::CODE, answer.write(Writer::new().u8(0)).into_bytes())
}

/// Builds an error answer frame: just the command and the error byte.
pub fn error_frame(code: Code, err: u8) -> Frame {
    Frame::new(code, vec![err])
}

/// A device error code from an answer's ERR byte (never 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceErrorCode(pub u8);

/// Parses an answer frame: `Ok(Ok(answer))`, `Ok(Err(device error code))`,
/// or `Err` if the frame is not a well-formed answer to `C`.
pub fn parse_answer<C: Command>(
    frame: &Frame,
) -> Result<Result<C::Answer, DeviceErrorCode>, DecodeError> {
    check_code::<C>(frame)?;
    let mut r = Reader::new(&frame.payload);
    let err = r.u8("error code")?;
    if err != 0 {
        return Ok(Err(DeviceErrorCode(err)));
    }
    Ok(Ok(C::Answer::read(&mut r)?))
}

fn check_code<C: Command>(frame: &Frame) -> Result<(), DecodeError> {
    if frame.code != C::CODE {
        return Err(DecodeError::WrongCode {
            expected: C::CODE,
            got: frame.code,
        });
    }
    Ok(())
}

// ---- answers shared by many commands ----

/// Answer with no data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Empty;

impl Answer for Empty {
    fn write(&self, w: Writer) -> Writer {
        w
    }
    fn read(_: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Empty)
    }
}

/// Answer carrying only the operator number (most classic commands).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Operator {
    pub operator: u8,
}

impl Answer for Operator {
    fn write(&self, w: Writer) -> Writer {
        w.u8(self.operator)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Operator {
            operator: r.u8("operator")?,
        })
    }
}

/// Commands whose request has no body beyond the password.
macro_rules! bodyless_command {
    ($(#[$m:meta])* $name:ident, $code:expr, $text:expr, $answer:ty) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        impl $crate::commands::Command for $name {
            const CODE: $crate::frame::Code = $crate::frame::Code($code);
            const NAME: &'static str = $text;
            type Answer = $answer;
            fn write_body(&self, w: $crate::wire::Writer) -> $crate::wire::Writer {
                w
            }
            fn read_body(_: &mut $crate::wire::Reader<'_>) -> Result<Self, $crate::wire::WireError> {
                Ok($name)
            }
        }
    };
}
pub(crate) use bodyless_command;

// ---- field helpers ----

/// Money and other unsigned sums travel as 5 bytes LE.
pub const MONEY_MAX: u64 = 0xFF_FFFF_FFFF;

/// 5-byte sum, or all-FF for "let the device compute it".
pub(crate) fn write_opt_money(w: Writer, v: Option<u64>) -> Writer {
    match v {
        Some(v) => w.uint(v, 5),
        None => w.all_ff(5),
    }
}

pub(crate) fn read_opt_money(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<Option<u64>, WireError> {
    let v = r.uint(5, field)?;
    Ok((v != MONEY_MAX).then_some(v))
}

/// FN date-time `YY MM DD HH MM`; all zeros (no document) reads as `None`.
pub(crate) fn read_opt_fn_datetime(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<Option<DateTime>, WireError> {
    let b = r.take(5, field)?;
    if b.iter().all(|x| *x == 0) {
        return Ok(None);
    }
    Reader::new(b).fn_datetime(field).map(Some)
}

pub(crate) fn write_opt_fn_datetime(w: Writer, dt: Option<DateTime>) -> Writer {
    match dt {
        Some(dt) => w.fn_datetime(dt),
        None => w.bytes(&[0; 5]),
    }
}

/// ASCII text of exactly `n` bytes, zero/space padding removed.
pub(crate) fn read_ascii(
    r: &mut Reader<'_>,
    n: usize,
    field: &'static str,
) -> Result<String, WireError> {
    Ok(r.text_fixed(n, field)?.trim_end().to_string())
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies shared by the command modules' tests.
    use jiff::civil::{DateTime, date};
    use proptest::prelude::*;

    pub fn money() -> impl Strategy<Value = u64> {
        0u64..super::MONEY_MAX
    }

    /// Minute-precision date-times 2000–2099 (what FN fields hold).
    pub fn fn_datetime() -> impl Strategy<Value = DateTime> {
        (2000i16..2100, 1i8..=12, 1i8..=28, 0i8..24, 0i8..60)
            .prop_map(|(y, m, d, h, mi)| date(y, m, d).at(h, mi, 0, 0))
    }

    pub fn ascii(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[A-Z0-9]{{0,{max}}}")).expect("valid regex")
    }

    pub fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[а-яА-Яa-z0-9 ]{{0,{max}}}")).expect("valid regex")
    }
}

#[cfg(test)]
pub(crate) mod roundtrip {
    //! Round-trip checks every command module uses.
    use super::*;

    /// Request encodes to a frame and decodes back equal.
    pub fn request<C: Command + PartialEq + std::fmt::Debug>(password: u32, cmd: &C) {
        let frame = request_frame(password, cmd);
        let bytes = frame.encode().expect("request fits a frame");
        let back = crate::frame::Decoder::new().push_all(&bytes);
        assert_eq!(back, vec![crate::frame::Token::Frame(frame.clone())]);
        let (pw, decoded) = parse_request::<C>(&frame).expect("request decodes");
        assert_eq!(pw, C::HAS_PASSWORD.then_some(password));
        assert_eq!(&decoded, cmd);
    }

    /// Answer encodes to a frame and decodes back equal.
    pub fn answer<C: Command>(a: &C::Answer)
    where
        C::Answer: PartialEq + std::fmt::Debug,
    {
        let frame = answer_frame::<C>(a);
        let decoded = parse_answer::<C>(&frame).expect("answer decodes");
        assert_eq!(decoded.as_ref(), Ok(a));
    }

    /// Random bytes never panic a decoder.
    pub fn fuzz<C: Command>(bytes: &[u8]) {
        let f = Frame::new(C::CODE, bytes.to_vec());
        let _ = parse_request::<C>(&f);
        let _ = parse_answer::<C>(&f);
        let mut with_ok = vec![0];
        with_ok.extend_from_slice(bytes);
        let _ = parse_answer::<C>(&Frame::new(C::CODE, with_ok));
    }
}
