//! A fake Kassatka 1C API on loopback, for tests, the demo and trying the
//! `kassatka` commands without an account: real HTTP (axum), the `api-token`
//! check, asynchronous processes that take a while, a receipts store seeded
//! with the seed document's example export, and switchable faults (failed
//! processes, 5xx, malformed XML).
//!
//! [`FakeKassatka::start`] binds, serves on a background task and returns a
//! handle to inspect and steer it; `masterkassa fake-kassatka` wraps it.

pub mod routes;
pub mod state;

pub use state::{Faults, NomenclatureUpload, ProcessPace, RecordedRequest};

use kassatka_format::documents::{DocumentsError, KassatkaReceipt, parse_documents};
use routes::{API_PREFIX, Shared};
use state::FakeState;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use thiserror::Error;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The seed document's example receipts export (four receipts of cash box
/// 189), served by default.
pub const SEED_DOCUMENTS_XML: &str = include_str!("../../../tests/fixtures/kassatka/documents.xml");

/// The seed's example receipts, parsed.
pub fn seed_receipts() -> Result<Vec<KassatkaReceipt>, DocumentsError> {
    parse_documents(SEED_DOCUMENTS_XML.as_bytes())
}

/// How to start a fake.
#[derive(Clone)]
pub struct FakeKassatkaConfig {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// The only token accepted (kept out of `Debug`).
    pub token: String,
    pub pace: ProcessPace,
    pub faults: Faults,
    /// The receipts store; `None` means the seed's example receipts.
    pub receipts: Option<Vec<KassatkaReceipt>>,
}

impl FakeKassatkaConfig {
    /// Loopback on a free port, the seed's receipts, default pace, no faults.
    pub fn new(token: impl Into<String>) -> Self {
        FakeKassatkaConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: token.into(),
            pace: ProcessPace::default(),
            faults: Faults::default(),
            receipts: None,
        }
    }
}

impl std::fmt::Debug for FakeKassatkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeKassatkaConfig")
            .field("listen", &self.listen)
            .field("token", &"<redacted>")
            .field("pace", &self.pace)
            .field("faults", &self.faults)
            .field("receipts", &self.receipts.as_ref().map(Vec::len))
            .finish()
    }
}

/// Why the fake could not start.
#[derive(Debug, Error)]
pub enum FakeKassatkaError {
    #[error("fake Kassatka: cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("fake Kassatka: the embedded seed receipts do not parse: {0}")]
    Seed(#[from] DocumentsError),
}

/// A running fake; dropping it stops the server.
pub struct FakeKassatka {
    addr: SocketAddr,
    state: Arc<Mutex<FakeState>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl FakeKassatka {
    /// Binds and starts serving in the background (needs a tokio runtime).
    pub async fn start(config: FakeKassatkaConfig) -> Result<Self, FakeKassatkaError> {
        let receipts = match config.receipts {
            Some(receipts) => receipts,
            None => seed_receipts()?,
        };
        let state = Arc::new(Mutex::new(FakeState::new(
            config.pace,
            config.faults,
            receipts,
        )));
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| FakeKassatkaError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| FakeKassatkaError::Bind {
                addr: config.listen,
                source,
            })?;
        let app = routes::router(Shared {
            state: state.clone(),
            token: Arc::from(config.token.as_str()),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "fake Kassatka server stopped");
            }
        });
        tracing::info!(%addr, "fake Kassatka listening");
        Ok(FakeKassatka {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL for the client, e.g. `http://127.0.0.1:41234/1c-api/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}{API_PREFIX}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Switches faults on or off (affects requests and processes from now on).
    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// The faults in force (a 5xx count goes down as it is used).
    pub fn faults(&self) -> Faults {
        self.lock().faults.clone()
    }

    /// Changes how long processes take.
    pub fn set_pace(&self, pace: ProcessPace) {
        self.lock().pace = pace;
    }

    /// Replaces the receipts store.
    pub fn set_receipts(&self, receipts: Vec<KassatkaReceipt>) {
        self.lock().set_receipts(receipts);
    }

    /// Adds receipts to the store (e.g. new sales arriving).
    pub fn add_receipts(&self, receipts: impl IntoIterator<Item = KassatkaReceipt>) {
        self.lock().add_receipts(receipts);
    }

    /// The receipts store.
    pub fn receipts(&self) -> Vec<KassatkaReceipt> {
        self.lock().receipts().to_vec()
    }

    /// Every nomenclature file received, in order.
    pub fn nomenclature_uploads(&self) -> Vec<NomenclatureUpload> {
        self.lock().uploads().to_vec()
    }

    /// Every request answered, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests().to_vec()
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Serves until the server task ends (for the CLI, which runs until
    /// interrupted).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeKassatka {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl std::fmt::Debug for FakeKassatka {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeKassatka")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}
