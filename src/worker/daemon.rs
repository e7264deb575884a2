//! Running several kassas in one process: each kassa's loop is its own
//! task with its own device thread, so a stuck printer or a failing token
//! never holds up another kassa. Serves the control socket, tells systemd
//! READY / WATCHDOG / STATUS, and stops cleanly on SIGTERM or SIGINT (a
//! print in progress finishes and is journaled first).

use super::kassa::{Kassa, KassaHandle};
use super::source::ReceiptSource;
use super::store::Store;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The running kassas of the daemon.
pub struct Daemon {
    handles: Vec<KassaHandle>,
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
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
            handles: Vec::new(),
            tasks: Vec::new(),
            stop,
        }
    }

    /// Starts one kassa's loop.
    pub fn start<S: ReceiptSource, J: Store>(&mut self, kassa: Kassa<S, J>, handle: KassaHandle) {
        let rx = self.stop.subscribe();
        self.tasks.push(tokio::spawn(kassa.run(rx)));
        self.handles.push(handle);
    }

    /// Runs a background task of the daemon (the catalogue sync) until the
    /// daemon stops; the task is handed the stop signal.
    pub fn spawn_background<F, Fut>(&mut self, task: F)
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let rx = self.stop.subscribe();
        self.tasks.push(tokio::spawn(task(rx)));
    }

    pub fn handles(&self) -> &[KassaHandle] {
        &self.handles
    }

    /// One line for systemd's STATUS and the log.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for h in &self.handles {
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

    /// Serves the control socket (if any) and waits for SIGTERM/SIGINT or
    /// `until` to resolve, keeping systemd informed; then stops every kassa.
    pub async fn run_until(
        self,
        control_socket: Option<PathBuf>,
        until: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let control = match control_socket {
            Some(path) => {
                let (server, listener) =
                    crate::control::ControlServer::bind(&path, self.handles.clone())?;
                Some(tokio::spawn(server.serve(listener)))
            }
            None => None,
        };
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
        let watchdog = match sd_notify::watchdog_enabled() {
            Some(d) => (d / 2).max(Duration::from_millis(500)),
            None => Duration::from_secs(30),
        };
        let mut sigterm =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::pin!(until);
        let mut tick = tokio::time::interval(watchdog);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let status = self.summary();
                    let _ = sd_notify::notify(&[
                        sd_notify::NotifyState::Watchdog,
                        sd_notify::NotifyState::Status(&status),
                    ]);
                }
                _ = sigterm.recv() => break,
                _ = tokio::signal::ctrl_c() => break,
                _ = &mut until => break,
            }
        }
        tracing::info!("stopping");
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(60), t).await;
        }
        if let Some(c) = control {
            c.abort();
        }
        Ok(())
    }
}
