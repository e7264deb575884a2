//! Fault switches of the emulated printer, flipped at run time from Rust
//! (through [`Faults`], a cheap clonable handle) or from the control socket.
//!
//! The serving loop and the command handlers read these switches on every
//! command, so a change takes effect from the next byte exchanged.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use shtrih::frame::Code;

/// When a power cut hits a command, relative to the FN committing its
/// document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutPoint {
    /// The device dies after acknowledging the frame but before executing
    /// it: nothing reaches the FN.
    BeforeCommit,
    /// The FN commits the document (and the state file is written), then
    /// the device dies before sending the answer.
    AfterCommit,
    /// As [`AfterCommit`](Self::AfterCommit), but the device dies half-way
    /// through sending the answer: the host gets a truncated frame.
    MidAnswer,
}

/// A power cut armed for the next command with this code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerCut {
    pub code: Code,
    pub point: CutPoint,
}

/// The current switch positions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultState {
    /// The receipt paper has run out.
    pub paper_out: bool,
    /// The printer cover is open.
    pub cover_open: bool,
    /// The next N answer transmissions get one byte corrupted (bad LRC).
    pub garble_next: u32,
    /// The next N answer transmissions lose their last byte.
    pub drop_next: u32,
    /// The next N request frames arrive corrupted (the device NAKs them).
    pub garble_in_next: u32,
    /// Every answer is held back this long (the device "thinks").
    pub slow: Option<Duration>,
    /// Armed power cut.
    pub power_cut: Option<PowerCut>,
    /// A power cut armed for a command by position, whatever its code:
    /// (commands to let through first, where it hits).
    pub power_cut_countdown: Option<(u32, CutPoint)>,
    /// The command the last power cut hit.
    pub last_power_cut: Option<Code>,
    /// The device is unplugged: it reads and ignores every byte.
    pub powered_off: bool,
    /// The paper runs out in the middle of the next printed document: the
    /// FN still signs it, printing stops until paper is back and 0xB0.
    pub paper_runs_out_next_print: bool,
    /// Each printed line takes this long; meanwhile printing commands
    /// answer 0x50 and the submode is 5 (printing).
    pub print_line_time: Option<Duration>,
    /// The FN refuses to sign anything with this FN error code (0x03 FN
    /// failure, 0x05 lifetime over, 0x06 archive full, 0x12/0x14 resource
    /// exhausted, 0x15 OFD wait exhausted, …).
    pub fn_failure: Option<u8>,
    /// FN warning flags reported by 0xFF01 (bit 0 urgent replacement, 1
    /// resource exhaustion, 2 memory 90 % full, 3 OFD timeout).
    pub fn_warnings: u8,
}

/// Shared handle to the fault switches.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<Mutex<FaultState>>,
}

impl Faults {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, FaultState> {
        // A panic while holding this lock cannot leave the plain-data state
        // inconsistent, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of the current switches.
    pub fn state(&self) -> FaultState {
        self.lock().clone()
    }

    pub fn set_paper_out(&self, out: bool) {
        self.lock().paper_out = out;
    }

    pub fn set_cover_open(&self, open: bool) {
        self.lock().cover_open = open;
    }

    /// Make the paper run out while the next document prints.
    pub fn paper_runs_out_during_next_print(&self) {
        self.lock().paper_runs_out_next_print = true;
    }

    /// Make every printed line take `t` (`None`: instant).
    pub fn set_print_line_time(&self, t: Option<Duration>) {
        self.lock().print_line_time = t.filter(|d| !d.is_zero());
    }

    /// Make the FN refuse every document with `code` (`None`: healthy).
    pub fn set_fn_failure(&self, code: Option<u8>) {
        self.lock().fn_failure = code;
    }

    /// Set the FN warning flags.
    pub fn set_fn_warnings(&self, bits: u8) {
        self.lock().fn_warnings = bits;
    }

    /// Corrupt one byte in each of the next `n` answer transmissions.
    pub fn garble_next(&self, n: u32) {
        self.lock().garble_next = n;
    }

    /// Corrupt the next `n` request frames on their way in.
    pub fn garble_in_next(&self, n: u32) {
        self.lock().garble_in_next = n;
    }

    /// Drop the last byte of each of the next `n` answer transmissions.
    pub fn drop_next(&self, n: u32) {
        self.lock().drop_next = n;
    }

    /// Delay every answer by `delay` (`None` or zero: answer at once).
    pub fn set_slow(&self, delay: Option<Duration>) {
        self.lock().slow = delay.filter(|d| !d.is_zero());
    }

    /// Arm a power cut for the next command `code`.
    pub fn power_cut_at(&self, code: Code, point: CutPoint) {
        self.lock().power_cut = Some(PowerCut { code, point });
    }

    /// Power cut at `point` of the command after the next `skip` ones,
    /// whatever it is: crash tests walk a receipt command by command.
    pub fn power_cut_after_commands(&self, skip: u32, point: CutPoint) {
        self.lock().power_cut_countdown = Some((skip, point));
    }

    /// The command the last power cut hit.
    pub fn last_power_cut(&self) -> Option<Code> {
        self.lock().last_power_cut
    }

    /// Disarm a pending power cut.
    pub fn clear_power_cut(&self) {
        let mut s = self.lock();
        s.power_cut = None;
        s.power_cut_countdown = None;
    }

    /// True while the device is "unplugged".
    pub fn is_powered_off(&self) -> bool {
        self.lock().powered_off
    }

    pub(crate) fn set_powered_off(&self, off: bool) {
        self.lock().powered_off = off;
    }

    /// Takes the armed cut if it matches `code` (it fires once).
    pub(crate) fn take_power_cut(&self, code: Code) -> Option<CutPoint> {
        let mut s = self.lock();
        if let Some(cut) = s.power_cut
            && cut.code == code
        {
            s.power_cut = None;
            s.last_power_cut = Some(code);
            return Some(cut.point);
        }
        match s.power_cut_countdown {
            Some((0, point)) => {
                s.power_cut_countdown = None;
                s.last_power_cut = Some(code);
                Some(point)
            }
            Some((n, point)) => {
                s.power_cut_countdown = Some((n - 1, point));
                None
            }
            None => None,
        }
    }

    /// Consumes one garble and one drop credit for an answer about to be
    /// sent; returns (garble, drop).
    pub(crate) fn take_transmission_faults(&self) -> (bool, bool) {
        let mut s = self.lock();
        let garble = s.garble_next > 0;
        if garble {
            s.garble_next -= 1;
        }
        let drop = s.drop_next > 0;
        if drop {
            s.drop_next -= 1;
        }
        (garble, drop)
    }

    /// Takes the "paper runs out" switch (it fires once).
    pub(crate) fn take_paper_runs_out(&self) -> bool {
        std::mem::take(&mut self.lock().paper_runs_out_next_print)
    }

    pub(crate) fn print_line_time(&self) -> Option<Duration> {
        self.lock().print_line_time
    }

    pub(crate) fn fn_failure(&self) -> Option<u8> {
        self.lock().fn_failure
    }

    pub(crate) fn fn_warnings(&self) -> u8 {
        self.lock().fn_warnings
    }

    /// Consumes one inbound-garble credit.
    pub(crate) fn take_garble_in(&self) -> bool {
        let mut s = self.lock();
        let hit = s.garble_in_next > 0;
        if hit {
            s.garble_in_next -= 1;
        }
        hit
    }

    pub(crate) fn slow(&self) -> Option<Duration> {
        self.lock().slow
    }

    /// (paper present, cover open) as the printer's sensors see them.
    pub(crate) fn sensors(&self) -> (bool, bool) {
        let s = self.lock();
        (!s.paper_out, s.cover_open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_cut_fires_once_and_only_for_its_command() {
        let f = Faults::new();
        f.power_cut_at(Code(0xFF45), CutPoint::AfterCommit);
        assert_eq!(f.take_power_cut(Code(0xFF46)), None);
        assert_eq!(f.take_power_cut(Code(0xFF45)), Some(CutPoint::AfterCommit));
        assert_eq!(f.last_power_cut(), Some(Code(0xFF45)));
        f.power_cut_after_commands(2, CutPoint::BeforeCommit);
        assert_eq!(f.take_power_cut(Code(0x10)), None);
        assert_eq!(f.take_power_cut(Code(0x8D)), None);
        assert_eq!(f.take_power_cut(Code(0xFF46)), Some(CutPoint::BeforeCommit));
        assert_eq!(f.take_power_cut(Code(0xFF46)), None, "fires once");
        assert_eq!(f.last_power_cut(), Some(Code(0xFF46)));
        assert_eq!(f.take_power_cut(Code(0xFF45)), None);
    }

    #[test]
    fn transmission_faults_count_down() {
        let f = Faults::new();
        f.garble_next(2);
        f.drop_next(1);
        assert_eq!(f.take_transmission_faults(), (true, true));
        assert_eq!(f.take_transmission_faults(), (true, false));
        assert_eq!(f.take_transmission_faults(), (false, false));
    }
}
