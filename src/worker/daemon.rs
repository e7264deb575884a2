//! Running several kassas in one process: each kassa's loop is its own
//! task with its own device thread, so a stuck printer or a failing token
//! never holds up another kassa (one still waiting for the cloud to name
//! its organisation starts later, on its own). Serves the control socket, tells systemd
//! READY / WATCHDOG / STATUS, and stops cleanly on SIGTERM or SIGINT (a
//! print in progress finishes and is journaled first).
//!
//! The socket and systemd are served from [`Daemon::serve`], before any
//! kassa has started: a kassa still waiting for the cloud shows up in
//! `status` as such instead of the daemon looking dead.

use super::kassa::{Command, CountsReader, Kassa, KassaHandle};
use super::source::ReceiptSource;
use super::status::StatusCell;
use super::store::Store;
use crate::control::Registry;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// The running kassas of the daemon.
pub struct Daemon {
    handles: Registry,
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    /// The control socket, metrics and the systemd ticker, once served.
    served: Vec<JoinHandle<()>>,
    /// Background work that stops with the daemon (the catalogue sync);
    /// not a kassa, so it does not count for [`Daemon::has_started`].
    background: Vec<JoinHandle<()>>,
    /// READY was sent and the socket is served.
    ready: bool,
}

impl Default for Daemon {
    fn default() -> Self {
        Self::new()
    }
}

impl Daemon {
    pub fn new() -> Self {
        let (stop, _) = watch::channel(false);
        Daemon {
            handles: Registry::default(),
            tasks: Vec::new(),
            stop,
            served: Vec::new(),
            background: Vec::new(),
            ready: false,
        }
    }

    /// Starts one kassa's loop (in place of its placeholder, if any).
    pub fn start<S: ReceiptSource, J: Store>(&mut self, kassa: Kassa<S, J>, handle: KassaHandle) {
        let rx = self.stop.subscribe();
        self.tasks.push(tokio::spawn(kassa.run(rx)));
        let mut handles = self.handles.write().unwrap_or_else(|p| p.into_inner());
        match handles.iter_mut().find(|h| h.name == handle.name) {
            Some(slot) => *slot = handle,
            None => handles.push(handle),
        }
    }

    /// Starts a kassa once `ready` yields it (e.g. after the cloud named the
    /// kassa's organisation); until then its placeholder stays in `status`.
    /// `ready` yielding `None` leaves the kassa parked with whatever its
    /// placeholder says. Stopping the daemon cancels the wait.
    pub fn start_when_ready<S, J, F>(&mut self, ready: F)
    where
        S: ReceiptSource,
        J: Store,
        F: std::future::Future<Output = Option<(Kassa<S, J>, KassaHandle)>> + Send + 'static,
    {
        let mut rx = self.stop.subscribe();
        let handles = self.handles.clone();
        self.tasks.push(tokio::spawn(async move {
            let started = tokio::select! {
                started = ready => started,
                _ = rx.wait_for(|stop| *stop) => None,
            };
            let Some((kassa, handle)) = started else {
                return;
            };
            {
                let mut handles = handles.write().unwrap_or_else(|p| p.into_inner());
                match handles.iter_mut().find(|h| h.name == handle.name) {
                    Some(slot) => *slot = handle,
                    None => handles.push(handle),
                }
            }
            kassa.run(rx).await;
        }));
    }

    /// Lists a kassa that cannot start yet (e.g. waiting for the cloud):
    /// `status` shows it with what the returned cell says; commands to it
    /// are answered "kassa stopped".
    pub fn placeholder(&mut self, name: &str, counts: CountsReader) -> StatusCell {
        let status = StatusCell::new(name);
        // The receiver is dropped: a command finds the kassa stopped.
        let (commands, _) = mpsc::channel::<Command>(1);
        self.handles
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(KassaHandle {
                name: name.to_string(),
                status: status.clone(),
                commands,
                counts,
            });
        status
    }

    /// True when at least one kassa's loop runs or waits to start.
    pub fn has_started(&self) -> bool {
        !self.tasks.is_empty()
    }

    /// Serves Prometheus metrics on `listener` until the daemon stops.
    pub fn serve_metrics(&mut self, listener: tokio::net::TcpListener) {
        let kassas = self.handles.clone();
        self.served
            .push(tokio::spawn(crate::metrics::serve(listener, kassas)));
    }

    /// Runs a background task of the daemon (the catalogue sync) until the
    /// daemon stops; the task is handed the stop signal.
    pub fn spawn_background<F, Fut>(&mut self, task: F)
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let rx = self.stop.subscribe();
        self.background.push(tokio::spawn(task(rx)));
    }

    /// One line for systemd's STATUS and the log.
    pub fn summary(&self) -> String {
        summary(&self.handles)
    }

    /// Serves the control socket (if any) and tells systemd READY, then
    /// keeps the watchdog fed and STATUS current until the daemon stops.
    /// Idempotent.
    pub fn serve(&mut self, control_socket: Option<PathBuf>) -> anyhow::Result<()> {
        if self.ready {
            return Ok(());
        }
        self.ready = true;
        if let Some(path) = control_socket {
            let (server, listener) =
                crate::control::ControlServer::bind(&path, self.handles.clone())?;
            self.served.push(tokio::spawn(server.serve(listener)));
        }
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
        let watchdog = match sd_notify::watchdog_enabled() {
            Some(d) => (d / 2).max(Duration::from_millis(500)),
            None => Duration::from_secs(30),
        };
        let handles = self.handles.clone();
        self.served.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(watchdog);
            loop {
                tick.tick().await;
                let status = summary(&handles);
                let _ = sd_notify::notify(&[
                    sd_notify::NotifyState::Watchdog,
                    sd_notify::NotifyState::Status(&status),
                ]);
            }
        }));
        Ok(())
    }

    /// Serves (if not yet) and waits for SIGTERM/SIGINT or `until` to
    /// resolve; then stops every kassa.
    pub async fn run_until(
        mut self,
        control_socket: Option<PathBuf>,
        until: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        self.serve(control_socket)?;
        let mut sigterm =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::pin!(until);
        tokio::select! {
            _ = sigterm.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
            _ = &mut until => {}
        }
        tracing::info!("stopping");
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
        let _ = self.stop.send(true);
        for t in self.tasks.into_iter().chain(self.background) {
            let _ = tokio::time::timeout(Duration::from_secs(60), t).await;
        }
        for t in self.served {
            t.abort();
        }
        Ok(())
    }
}

/// The systemd STATUS line of these kassas.
fn summary(handles: &Registry) -> String {
    let handles = handles.read().unwrap_or_else(|p| p.into_inner());
    let mut parts = Vec::new();
    for h in handles.iter() {
        let s = h.snapshot();
        let state = if let Some(h) = &s.halted {
            format!("ОСТАНОВЛЕНА: {h}")
        } else if let Some(e) = &s.last_error {
            e.message.clone()
        } else {
            "работает".to_string()
        };
        parts.push(format!(
            "{}: {} (подтверждено сегодня {}, ждут {})",
            s.name,
            state,
            s.counts.approved_today,
            s.counts.waiting + s.counts.printing + s.counts.awaiting_approve
        ));
    }
    parts.join("; ")
}
