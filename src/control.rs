//! The control socket: the daemon serves its status and accepts commands
//! (close a shift) on a Unix socket (mode 0660); `masterkassa status` and
//! `masterkassa shift close` are its clients.
//!
//! Protocol: one JSON request per connection, one JSON line back.
//! `{"cmd":"status"}` → [`DaemonStatus`];
//! `{"cmd":"close_shift","kassa":NAME|null}` → [`CommandReply`].
//! [`DaemonStatus`] is also the stable schema of `status --json`.

use crate::worker::kassa::{Command, KassaHandle};
use crate::worker::status::KassaStatus;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

/// A request on the socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    Status,
    CloseShift { kassa: Option<String> },
}

/// The whole daemon's status (`status --json` schema, version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonStatus {
    pub schema: u32,
    /// False when `status` read the journal because the daemon is down.
    pub daemon_running: bool,
    pub version: String,
    pub uptime_secs: Option<u64>,
    /// Set by `status` when the journal does not exist yet: the daemon has
    /// never run with it (the kassas are then the configured ones).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub never_ran: bool,
    pub kassas: Vec<KassaStatus>,
}

/// Outcome of a command, per kassa.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandReply {
    pub results: Vec<KassaReply>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KassaReply {
    pub kassa: String,
    pub ok: bool,
    /// Russian text for the person at the terminal.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control socket {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("control socket {path}: unreadable answer: {message}")]
    BadAnswer { path: PathBuf, message: String },
}

/// Why the daemon could not be asked, as far as the caller can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// No socket, or nobody listening on it: the daemon is not running.
    NotRunning,
    /// The socket exists but this user may not open it: the daemon may
    /// well be running; only its group may ask it.
    NoPermission,
    /// It accepted but did not answer in time, or answered garbage.
    NoAnswer,
}

impl ControlError {
    /// What this failure says about the daemon.
    pub fn unreachable(&self) -> Unreachable {
        use std::io::ErrorKind;
        match self {
            ControlError::Io { source, .. } => match source.kind() {
                ErrorKind::PermissionDenied => Unreachable::NoPermission,
                ErrorKind::NotFound | ErrorKind::ConnectionRefused => Unreachable::NotRunning,
                _ => Unreachable::NoAnswer,
            },
            ControlError::BadAnswer { .. } => Unreachable::NoAnswer,
        }
    }
}

/// The kassas the socket reports on; a kassa still waiting to start is a
/// placeholder that its real handle later replaces.
pub type Registry = Arc<std::sync::RwLock<Vec<KassaHandle>>>;

/// Serves the socket until the task is dropped.
pub struct ControlServer {
    path: PathBuf,
    kassas: Registry,
    started: Instant,
}

impl ControlServer {
    /// Binds `path` (replacing a stale socket) with mode 0660.
    pub fn bind(
        path: &Path,
        kassas: Registry,
    ) -> Result<(ControlServer, tokio::net::UnixListener), ControlError> {
        let io = |source| ControlError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let listener = tokio::net::UnixListener::bind(path).map_err(io)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
        Ok((
            ControlServer {
                path: path.to_path_buf(),
                kassas,
                started: Instant::now(),
            },
            listener,
        ))
    }

    pub async fn serve(self, listener: tokio::net::UnixListener) {
        let this = Arc::new(self);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let this = this.clone();
            tokio::spawn(async move {
                if let Err(e) = this.answer(stream).await {
                    tracing::debug!(path = %this.path.display(), error = %e, "control request failed");
                }
            });
        }
    }

    async fn answer(&self, stream: tokio::net::UnixStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut line = String::new();
        let mut reader = tokio::io::BufReader::new(read.take(64 * 1024));
        reader.read_line(&mut line).await?;
        let reply = match serde_json::from_str::<Request>(line.trim()) {
            Ok(Request::Status) => serde_json::to_string(&self.status()),
            Ok(Request::CloseShift { kassa }) => {
                serde_json::to_string(&self.close_shift(kassa.as_deref()).await)
            }
            Err(e) => Ok(serde_json::json!({ "error": e.to_string() }).to_string()),
        }
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
        write.write_all(reply.as_bytes()).await?;
        write.write_all(b"\n").await?;
        write.flush().await
    }

    fn status(&self) -> DaemonStatus {
        DaemonStatus {
            schema: 1,
            daemon_running: true,
            version: crate::state::VERSION.to_string(),
            uptime_secs: Some(self.started.elapsed().as_secs()),
            never_ran: false,
            kassas: self.handles().iter().map(|k| k.snapshot()).collect(),
        }
    }

    /// A copy of the handles, so no lock is held across an await.
    fn handles(&self) -> Vec<KassaHandle> {
        self.kassas
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn close_shift(&self, only: Option<&str>) -> CommandReply {
        let mut results = Vec::new();
        for k in self.handles().iter() {
            if only.is_some_and(|n| n != k.name) {
                continue;
            }
            let (tx, rx) = tokio::sync::oneshot::channel();
            let outcome = if k.commands.send(Command::CloseShift(tx)).await.is_err() {
                Err("касса остановлена".to_string())
            } else {
                match tokio::time::timeout(Duration::from_secs(120), rx).await {
                    Ok(Ok(r)) => r,
                    Ok(Err(_)) => Err("касса остановлена".to_string()),
                    Err(_) => Err("ККТ не ответила за 2 минуты".to_string()),
                }
            };
            results.push(match outcome {
                Ok(message) => KassaReply {
                    kassa: k.name.clone(),
                    ok: true,
                    message,
                },
                Err(message) => KassaReply {
                    kassa: k.name.clone(),
                    ok: false,
                    message,
                },
            });
        }
        if results.is_empty()
            && let Some(name) = only
        {
            results.push(KassaReply {
                kassa: name.to_string(),
                ok: false,
                message: format!("касса «{name}» не настроена"),
            });
        }
        CommandReply { results }
    }
}

/// Sends one request and reads the answer (blocking; for the CLI).
pub fn request<T: for<'de> Deserialize<'de>>(
    path: &Path,
    req: &Request,
    timeout: Duration,
) -> Result<T, ControlError> {
    let io = |source| ControlError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut stream = std::os::unix::net::UnixStream::connect(path).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let mut line = serde_json::to_string(req).map_err(|e| ControlError::BadAnswer {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    line.push('\n');
    stream.write_all(line.as_bytes()).map_err(io)?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).map_err(io)?;
    serde_json::from_str(answer.trim()).map_err(|e| ControlError::BadAnswer {
        path: path.to_path_buf(),
        message: format!("{e}: {}", answer.chars().take(200).collect::<String>()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::status::StatusCell;

    fn handle(name: &str) -> (KassaHandle, tokio::sync::mpsc::Receiver<Command>) {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let h = KassaHandle {
            name: name.into(),
            status: StatusCell::new(name),
            commands: tx,
            counts: Arc::new(|| {
                Some(crate::worker::store::Counts {
                    waiting: 2,
                    ..Default::default()
                })
            }),
        };
        (h, rx)
    }

    #[test]
    fn a_socket_this_user_may_not_open_is_no_permission_not_a_stopped_daemon() {
        use std::io::{Error, ErrorKind};
        let io = |kind| ControlError::Io {
            path: "/run/masterkassa/control.sock".into(),
            source: Error::from(kind),
        };
        assert_eq!(
            io(ErrorKind::PermissionDenied).unreachable(),
            Unreachable::NoPermission
        );
        assert_eq!(
            ControlError::Io {
                path: "/s".into(),
                source: Error::from_raw_os_error(libc::EACCES),
            }
            .unreachable(),
            Unreachable::NoPermission
        );
        assert_eq!(
            io(ErrorKind::NotFound).unreachable(),
            Unreachable::NotRunning
        );
        assert_eq!(
            io(ErrorKind::ConnectionRefused).unreachable(),
            Unreachable::NotRunning
        );
        assert_eq!(
            io(ErrorKind::WouldBlock).unreachable(),
            Unreachable::NoAnswer
        );
    }

    #[tokio::test]
    async fn status_and_close_shift_over_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/control.sock");
        let (a, mut a_rx) = handle("магазин");
        let (b, _b_rx) = handle("склад");
        let (server, listener) =
            ControlServer::bind(&path, Arc::new(std::sync::RwLock::new(vec![a, b]))).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o660);
        tokio::spawn(server.serve(listener));
        tokio::spawn(async move {
            if let Some(Command::CloseShift(reply)) = a_rx.recv().await {
                let _ = reply.send(Ok("смена №7 закрыта".into()));
            }
        });
        let p = path.clone();
        let status: DaemonStatus = tokio::task::spawn_blocking(move || {
            request(&p, &Request::Status, Duration::from_secs(5))
        })
        .await
        .unwrap()
        .unwrap();
        assert!(status.daemon_running);
        assert_eq!(status.kassas.len(), 2);
        assert_eq!(status.kassas[0].name, "магазин");
        assert_eq!(status.kassas[0].counts.waiting, 2);
        let p = path.clone();
        let reply: CommandReply = tokio::task::spawn_blocking(move || {
            request(
                &p,
                &Request::CloseShift {
                    kassa: Some("магазин".into()),
                },
                Duration::from_secs(5),
            )
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            reply.results,
            vec![KassaReply {
                kassa: "магазин".into(),
                ok: true,
                message: "смена №7 закрыта".into()
            }]
        );
        let p = path.clone();
        let reply: CommandReply = tokio::task::spawn_blocking(move || {
            request(
                &p,
                &Request::CloseShift {
                    kassa: Some("нет".into()),
                },
                Duration::from_secs(5),
            )
        })
        .await
        .unwrap()
        .unwrap();
        assert!(!reply.results[0].ok);
    }
}
