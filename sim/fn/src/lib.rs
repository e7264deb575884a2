//! The simulated fiscal storage (ФН) shared by every printer emulator: the
//! document archive and counters, deterministic fiscal signs, shifts with
//! their 24-hour limit, the OFD backlog ([`storage`]), and the injectable
//! clock the emulators run on ([`clock`]), and the verdicts on marking
//! codes ([`marking`]).
//!
//! Pure state, no protocol: each emulator (today `sim-shtrih`) decodes its
//! own wire format and asks this crate what a real FN would do.

pub mod clock;
pub mod marking;
pub mod storage;
