//! What the cloud client logs, on success, retries, 429s and errors,
//! never includes the token.

use std::sync::Arc;
use std::time::Duration;

use masterkassa::cloud::{
    ClientConfig, Limits, PosApi, PosClient, RateLimiter, RetryPolicy, Secret,
};
use test_support::scripted::{Reply, ScriptedServer};

const TOKEN: &str = "6ab89be1ae6ff147755625ee8da948e42612233b";
const ORG: &str = "5d0f5e3e-7b1d-11e6-8a84-bae500000051";

fn client(server: &ScriptedServer) -> PosClient {
    let config = ClientConfig {
        retry: RetryPolicy {
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            ..RetryPolicy::default()
        },
        ..ClientConfig::with_base_url(server.base_url())
    };
    PosClient::new(
        &config,
        Secret::new(TOKEN),
        "kassir@321",
        RateLimiter::new(Limits::moysklad()),
    )
    .expect("client")
}

#[test]
fn logs_never_contain_the_token() {
    use std::io::Write;
    #[derive(Clone, Default)]
    struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // Global, and alone in this test binary: tracing caches per-callsite
    // interest, so a scoped subscriber would miss events first hit by
    // other tests' threads.
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = ScriptedServer::start(|n, _| match n {
            0 => Reply::new(503, ""),
            1 => Reply::new(429, "").header("X-Lognex-Retry-After", "10"),
            2 => Reply::new(204, ""),
            _ => Reply::new(401, r#"{"errors":[{"error":"bad token"}]}"#),
        })
        .await;
        let c = client(&server);
        assert!(c.poll(ORG).await.unwrap().is_none());
        let err = c.poll(ORG).await.unwrap_err();
        tracing::error!(error = %err, debug = ?err, client = ?c, "as the worker would log it");
    });
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "{logs}");
    assert!(logs.contains("429"), "{logs}");
    assert!(!logs.contains(TOKEN), "{logs}");
}
