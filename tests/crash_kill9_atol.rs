//! The SIGKILL soak of tests/crash_kill9.rs on an ATOL printer: the agent
//! prints through the ATOL Web-server stand-in (FN and requests kept in a
//! state file) and is killed at random moments, so kills land before the
//! POST, between the POST and its result, and while the approve is
//! queued. Every 10th kill the Web-server itself restarts with whatever
//! requests were in flight. Exactly one receipt per valid operation.

mod crash_support;

use crash_support::{CrashPrinter, config, replace_device, soak};
use sim_atol::{AtolServer, ServerOptions};
use sim_shtrih::Document;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The stand-in, restartable on the same address and state file.
struct Atol {
    server: Mutex<Option<AtolServer>>,
    opts: ServerOptions,
}

impl Atol {
    fn with<T>(&self, f: impl FnOnce(&AtolServer) -> T) -> T {
        let server = self.server.lock().unwrap();
        f(server.as_ref().expect("server running"))
    }
}

impl CrashPrinter for Atol {
    fn config(&self, dir: &Path, api_url: &str) -> PathBuf {
        let path = config(dir, api_url, Path::new("/dev/unused"));
        let url = self.with(|s| s.url());
        replace_device(&path, &format!("driver = \"atol\"\nurl = \"{url}\"\n"));
        path
    }
    fn archive(&self) -> Vec<Document> {
        self.with(|s| s.with_device(|d| d.fn_storage.archive.clone()))
    }
    fn disturb(&self) {
        let mut server = self.server.lock().unwrap();
        if let Some(running) = server.take() {
            running.stop();
        }
        *server = Some(AtolServer::start(self.opts.clone()).expect("stand-in restarts"));
    }
    fn receipt_open(&self) -> bool {
        // The Web-server's receipts are one task: signed whole or not at
        // all; one signed but not printed out waits for continuePrint.
        self.with(|s| s.with_device(|d| d.unprinted))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_on_atol_never_loses_or_duplicates_a_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ServerOptions::loopback();
    opts.state_file = Some(dir.path().join("atol.json"));
    let server = AtolServer::start(opts.clone()).unwrap();
    // Restarts come back on the same address.
    opts.listen = server.addr();
    let atol = Atol {
        server: Mutex::new(Some(server)),
        opts,
    };
    soak(&atol, dir, 100).await;
}
