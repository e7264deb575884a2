//! The Shtrih-M emulator: the device side of the protocol, an emulated
//! Shtrih-M-01F on the simulated FN of `sim-fn`, serving a PTY exactly as the printer serves its serial
//! port, so drivers (ours and independent ones) can be tested without
//! hardware.
//!
//! [`Emulator::spawn`] opens a PTY, links it at the configured path and
//! serves it on its own thread; the returned [`EmulatorHandle`] (which
//! derefs to the clonable [`EmulatorControl`]) flips faults, moves the
//! clock, reads the paper tape and the FN archive, and shuts it down.
//!
//! Layers: [`serve`] (link timing and transmission faults) → `device`
//! (passwords, modes, dispatch) → `handlers` (one module per command
//! family) → `sim_fn::storage` (the FN), [`receipt`], [`tape`], [`tables`] (pure state)
//! → [`persist`] (atomic state file). [`control`] is the line protocol of
//! the control socket.
//!
//! The emulator decodes requests itself from the protocol reference and
//! never uses `shtrih::commands`, so a misreading in the driver and one in
//! the emulator cannot cancel out.

pub mod control;
mod device;
pub mod faults;
mod handlers;
pub mod persist;
pub mod pty;
pub mod receipt;
pub mod serve;
pub mod tables;
pub mod tape;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

pub use device::Identity;
pub use faults::{CutPoint, FaultState, Faults, PowerCut};
pub use handlers::marking::{MarkingVerdict, verdict as marking_verdict};
pub use persist::{PersistError, PersistedState};
pub use sim_fn::clock::{self, Clock};
pub use sim_fn::storage::{self as fn_storage, ArchivedPosition, Document, Shift, doc_type};
pub use tape::{Tape, TapeEntry};

use device::Device;

/// Default line speed of the emulated port.
pub const DEFAULT_BAUD: u32 = 115_200;

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Where to put the symlink to the PTY (what a driver opens).
    pub link: PathBuf,
    /// State file, loaded at start and rewritten atomically after every
    /// change; `None` keeps the state in memory only.
    pub state_file: Option<PathBuf>,
    /// Line speed the answers are paced at; 0 disables pacing.
    pub baud: u32,
    /// Device clock (share one with the test to move time). A state file's
    /// saved clock offset replaces this clock's offset at start, so a
    /// restarted device keeps its time.
    pub clock: Clock,
    /// Fault switches (share one to flip faults from outside).
    pub faults: Faults,
    pub identity: Identity,
    /// Only understand a driver whose port is set to `baud` (bytes at
    /// another speed are noise), so baud autodetection can be tested.
    pub strict_baud: bool,
}

impl EmulatorConfig {
    /// Defaults: no state file, [`DEFAULT_BAUD`], real time, no faults.
    pub fn new(link: impl Into<PathBuf>) -> Self {
        EmulatorConfig {
            link: link.into(),
            state_file: None,
            baud: DEFAULT_BAUD,
            clock: Clock::default(),
            faults: Faults::new(),
            identity: Identity::default(),
            strict_baud: false,
        }
    }

    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    pub fn baud(mut self, baud: u32) -> Self {
        self.baud = baud;
        self
    }

    pub fn strict_baud(mut self, strict: bool) -> Self {
        self.strict_baud = strict;
        self
    }

    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }
}

/// Why the emulator could not start or act.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot create a pseudo-terminal: {0}")]
    Pty(#[source] std::io::Error),
    #[error("cannot link {link} to the emulator's terminal: {source}")]
    Link {
        link: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] PersistError),
    #[error("cannot start the emulator thread: {0}")]
    Thread(#[source] std::io::Error),
    #[error("the emulator thread panicked")]
    Panicked,
}

/// Starts emulators.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Opens the PTY, links it, loads the state and starts serving.
    pub fn spawn(cfg: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
        let state = Device::load_state(&cfg.identity, &cfg.clock, cfg.state_file.as_deref())?;
        if let Some(path) = &cfg.state_file {
            // Write the state at once: a restart then finds the same FN, and
            // an unwritable path fails here rather than after a receipt.
            persist::save(path, &state)?;
        }
        let pty = pty::open().map_err(EmulatorError::Pty)?;
        pty::link(&pty.slave_path, &cfg.link).map_err(|source| EmulatorError::Link {
            link: cfg.link.clone(),
            source,
        })?;
        let dev = Device::new(
            state,
            cfg.identity.clone(),
            cfg.clock.clone(),
            cfg.faults.clone(),
            cfg.state_file.clone(),
        );
        let device = Arc::new(Mutex::new(dev));
        let stop = Arc::new(AtomicBool::new(false));
        let slave_path = pty.slave_path.clone();
        let server = serve::Server {
            port: pty.master,
            slave: pty.slave,
            strict_baud: cfg.strict_baud,
            device: device.clone(),
            faults: cfg.faults.clone(),
            stop: stop.clone(),
            baud: cfg.baud,
        };
        let thread = std::thread::Builder::new()
            .name("shtrih-emulator".into())
            .spawn(move || server.run())
            .map_err(EmulatorError::Thread)?;
        Ok(EmulatorHandle {
            control: EmulatorControl {
                device,
                faults: cfg.faults,
                clock: cfg.clock,
            },
            link: cfg.link,
            pty_path: slave_path,
            stop,
            thread: Some(thread),
        })
    }
}

/// Clonable access to a running emulator: faults, clock, tape, archive.
#[derive(Debug, Clone)]
pub struct EmulatorControl {
    device: Arc<Mutex<Device>>,
    faults: Faults,
    clock: Clock,
}

impl EmulatorControl {
    fn dev(&self) -> MutexGuard<'_, Device> {
        // The device's state is consistent between commands even if a
        // handler panicked mid-way (nothing is half-written to disk).
        self.device.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Everything printed so far, one entry per document.
    pub fn tape(&self) -> Tape {
        self.dev().state.tape.clone()
    }

    /// The tape as text.
    pub fn tape_text(&self) -> String {
        self.dev().state.tape.text()
    }

    /// The printed copy of fiscal document `fd`.
    pub fn printed_document(&self, fd: u32) -> Option<TapeEntry> {
        self.dev()
            .state
            .tape
            .entries
            .iter()
            .find(|e| e.fd == Some(fd))
            .cloned()
    }

    /// The FN archive, oldest first.
    pub fn archive(&self) -> Vec<Document> {
        self.dev().state.fn_storage.archive.clone()
    }

    /// One archived document.
    pub fn document(&self, fd: u32) -> Option<Document> {
        self.dev().state.fn_storage.find(fd).ok().cloned()
    }

    /// Number of the last signed document.
    pub fn last_fd(&self) -> u32 {
        self.dev().state.fn_storage.last_fd()
    }

    /// FN shift counters.
    pub fn shift(&self) -> Shift {
        self.dev().state.fn_storage.shift.clone()
    }

    /// Cash in the drawer, kopecks.
    pub fn cash(&self) -> u64 {
        self.dev().state.cash
    }

    /// True while a receipt is open.
    pub fn receipt_open(&self) -> bool {
        self.dev().receipt.is_some()
    }

    /// FN serial number.
    pub fn fn_serial(&self) -> String {
        self.dev().state.fn_storage.serial.clone()
    }

    /// Documents not yet confirmed by the OFD.
    pub fn ofd_unsent(&self) -> u32 {
        self.dev().state.fn_storage.unsent_count()
    }

    /// Pretends the OFD confirmed every document.
    pub fn ofd_confirm_all(&self) {
        let mut d = self.dev();
        d.state.fn_storage.confirm_all_by_ofd();
        d.touch();
        d.persist_if_dirty();
    }

    /// A copy of the persisted state.
    pub fn state(&self) -> PersistedState {
        let d = self.dev();
        let mut s = d.state.clone();
        s.clock_offset_secs = d.clock.offset_secs();
        s
    }

    /// The last failure to write the state file, if the last write failed.
    pub fn last_save_error(&self) -> Option<String> {
        self.dev().last_save_error.clone()
    }

    /// Cuts the power now: RAM (open receipt, unsent answer) is lost, the
    /// device ignores the line until [`power_on`](Self::power_on).
    pub fn power_cut(&self) {
        self.faults.set_powered_off(true);
        self.dev().lose_ram();
    }

    /// Restores power: the device re-reads its state file and serves again.
    pub fn power_on(&self) -> Result<(), EmulatorError> {
        let mut d = self.dev();
        d.lose_ram();
        d.reload()?;
        self.faults.set_powered_off(false);
        Ok(())
    }

    /// True while powered.
    pub fn is_powered(&self) -> bool {
        !self.faults.is_powered_off()
    }

    /// Moves the device clock by `secs` and saves it.
    pub fn advance_clock(&self, secs: i64) {
        self.clock.advance(secs);
        let mut d = self.dev();
        d.touch();
        d.persist_if_dirty();
    }
}

/// A running emulator. Dropping it stops the thread and removes the link.
#[derive(Debug)]
pub struct EmulatorHandle {
    control: EmulatorControl,
    link: PathBuf,
    pty_path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Deref for EmulatorHandle {
    type Target = EmulatorControl;
    fn deref(&self) -> &EmulatorControl {
        &self.control
    }
}

impl EmulatorHandle {
    /// The symlink a driver opens.
    pub fn link_path(&self) -> &Path {
        &self.link
    }

    /// The PTY slave (`/dev/pts/N`) the link points to.
    pub fn pty_path(&self) -> &Path {
        &self.pty_path
    }

    /// A clonable control for other threads (e.g. the control socket).
    pub fn control(&self) -> EmulatorControl {
        self.control.clone()
    }

    /// Stops serving, waits for the thread and removes the link.
    pub fn shutdown(mut self) -> Result<(), EmulatorError> {
        self.stop_thread()
    }

    fn stop_thread(&mut self) -> Result<(), EmulatorError> {
        self.stop.store(true, Ordering::Relaxed);
        let res = match self.thread.take() {
            Some(t) => t.join().map_err(|_| EmulatorError::Panicked),
            None => Ok(()),
        };
        pty::unlink(&self.pty_path, &self.link);
        res
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        let _ = self.stop_thread();
    }
}
