//! The one thread that owns a printer's port.
//!
//! ARCHITECTURE.md: "A serial port is owned by exactly one thread; async code
//! talks to it through a handle (channel + reply)." [`DeviceHandle`] is that
//! handle. The thread opens the device lazily through an [`Opener`], drops it
//! after a link failure (the printer was unplugged, the cable is loose) and
//! reopens it on the next call. Each successful open bumps a *generation*
//! counter so the worker can tell that a reconnect happened and run recovery
//! before printing anything else.

use kkt::{Kkt, KktError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use tokio::sync::oneshot;

/// Opens (or reopens) the device. Called on the device thread only.
pub type Opener = Box<dyn FnMut() -> Result<Box<dyn Kkt>, KktError> + Send>;

type Job = Box<dyn FnOnce(&mut dyn Kkt) -> bool + Send>;

/// Cheap to clone; every clone talks to the same device thread.
#[derive(Clone)]
pub struct DeviceHandle {
    tx: mpsc::Sender<Job>,
    generation: Arc<AtomicU64>,
    name: Arc<str>,
}

impl std::fmt::Debug for DeviceHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceHandle")
            .field("name", &self.name)
            .field("generation", &self.generation())
            .finish()
    }
}

impl DeviceHandle {
    /// Starts the device thread. The device is opened on first use.
    pub fn spawn(name: &str, mut opener: Opener) -> std::io::Result<DeviceHandle> {
        let (tx, rx) = mpsc::channel::<Job>();
        let generation = Arc::new(AtomicU64::new(0));
        let gen_thread = generation.clone();
        // Jobs carry their own reply channel; the thread only learns from a
        // job whether the link was lost and the device must be dropped.
        thread::Builder::new()
            .name(format!("kkt-{name}"))
            .spawn(move || {
                let mut device: Option<Box<dyn Kkt>> = None;
                while let Ok(job) = rx.recv() {
                    if device.is_none() {
                        match opener() {
                            Ok(d) => {
                                gen_thread.fetch_add(1, Ordering::SeqCst);
                                device = Some(d);
                            }
                            Err(e) => {
                                // Run the job against a stand-in that
                                // answers with the open error, so the caller
                                // gets it through the normal reply path.
                                let mut failed = FailedOpen(e);
                                job(&mut failed);
                                continue;
                            }
                        }
                    }
                    if let Some(d) = device.as_mut() {
                        let link_lost = job(d.as_mut());
                        if link_lost {
                            device = None;
                        }
                    }
                }
            })?;
        Ok(DeviceHandle {
            tx,
            generation,
            name: name.into(),
        })
    }

    /// Kassa name this device belongs to (for logs).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many times the device has been (re)opened. Changes after a
    /// reconnect; the worker runs recovery when it sees a new value.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Runs `f` on the device thread and returns its result. A link-class
    /// error drops the device so the next call reopens it.
    pub async fn call<R, F>(&self, f: F) -> Result<R, KktError>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn Kkt) -> Result<R, KktError> + Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel();
        let job: Job = Box::new(move |kkt: &mut dyn Kkt| {
            let result = f(kkt);
            let link_lost = matches!(&result, Err(e) if e.class() == kkt::ErrorClass::Link);
            let _ = reply_tx.send(result);
            link_lost
        });
        self.tx
            .send(job)
            .map_err(|_| KktError::Link("device thread has stopped".into()))?;
        reply_rx
            .await
            .map_err(|_| KktError::Link("device thread dropped the request".into()))?
    }
}

/// Stands in for the device when it cannot be opened: every method returns
/// the open error, so the caller's job reports it like any link failure.
struct FailedOpen(KktError);

macro_rules! failed_open_methods {
    ($($name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty;)*) => {
        $(fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, KktError> {
            $(let _ = $arg;)*
            Err(self.0.clone())
        })*
    };
}

impl Kkt for FailedOpen {
    failed_open_methods! {
        device_info() -> kkt::DeviceInfo;
        status() -> kkt::DeviceStatus;
        fn_info() -> kkt::FnInfo;
        shift_state() -> kkt::ShiftState;
        open_shift(cashier: &str) -> kkt::ShiftOpened;
        close_shift(cashier: &str) -> kkt::ShiftClosed;
        print_receipt(receipt: &kkt::Receipt) -> kkt::ReceiptPrinted;
        cancel_receipt() -> ();
        continue_print() -> ();
        read_document(number: u32) -> kkt::ArchivedDocument;
        x_report() -> ();
        cash_in(sum: kkt::Money) -> ();
        cash_out(sum: kkt::Money) -> ();
    }
}

/// Opens a Shtrih-M printer, first draining bytes left in the port by a
/// previous owner (a killed agent's unread NAK or answer would otherwise be
/// taken as the answer to the next command and make the link resend it).
pub fn shtrih_opener(
    port: String,
    baud: shtrih::driver::Baud,
    cfg: shtrih::driver::DriverConfig,
) -> Opener {
    Box::new(move || {
        drain_stale_input(&port);
        shtrih::driver::ShtrihDriver::open(&port, baud, cfg).map(|d| Box::new(d) as Box<dyn Kkt>)
    })
}

/// Opens an ATOL printer behind the ATOL Web-server. Building the driver
/// does not touch the network; the first task does, so a Web-server that is
/// down shows up as a link error of that task, like an unplugged cable.
pub fn atol_opener(cfg: atol::transport::WebServerConfig) -> Opener {
    Box::new(move || {
        atol::driver::AtolDriver::new(cfg.clone()).map(|d| Box::new(d) as Box<dyn Kkt>)
    })
}

/// Reads and discards whatever is pending on the port (for up to ~0.5 s of
/// continuous noise); errors are ignored: the real open reports them.
fn drain_stale_input(path: &str) {
    use shtrih::link::Port;
    use std::io::Read;
    let Ok(mut port) = shtrih::serial::SerialLine::open(path, 115_200) else {
        return;
    };
    if port
        .set_read_timeout(std::time::Duration::from_millis(30))
        .is_err()
    {
        return;
    }
    let mut buf = [0u8; 256];
    for _ in 0..16 {
        match port.read(&mut buf) {
            Ok(n) if n > 0 => tracing::debug!(bytes = n, "discarded stale bytes from the port"),
            _ => break,
        }
    }
}
