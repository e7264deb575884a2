//! Four kassas of one account polling flat out never exceed the account's
//! limits, counted at the server by arrival time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use masterkassa::cloud::{ClientConfig, Limits, PosApi, PosClient, RateLimiter, Secret};
use test_support::scripted::{Reply, ScriptedServer, max_in_window};

/// Runs four kassas (four tokens, one shared limiter) polling in a tight
/// loop for `run_for`; returns the server's arrival times.
async fn four_kassas_poll(
    limits: Limits,
    run_for: Duration,
    server_delay: Duration,
) -> (ScriptedServer, Vec<Instant>) {
    let server = ScriptedServer::start(move |_, _| Reply::new(204, "").delayed(server_delay)).await;
    let limiter = RateLimiter::new(limits);
    let config = ClientConfig::with_base_url(server.base_url());
    let deadline = Instant::now() + run_for;
    let mut tasks = Vec::new();
    for k in 0..4 {
        let client = PosClient::new(
            &config,
            Secret::new(format!("token-{k}")),
            format!("kassa{k}@shop"),
            limiter.clone(),
        )
        .expect("client");
        let client: Arc<dyn PosApi> = Arc::new(client);
        tasks.push(tokio::spawn(async move {
            let mut polls = 0u32;
            while Instant::now() < deadline {
                client.poll("org").await.expect("poll");
                polls += 1;
            }
            polls
        }));
    }
    let mut per_kassa = Vec::new();
    for t in tasks {
        per_kassa.push(t.await.expect("task"));
    }
    // Every kassa got its share: the limiter is fair enough that nobody
    // starves.
    assert!(per_kassa.iter().all(|&p| p > 0), "{per_kassa:?}");
    let times = server.requests().iter().map(|r| r.at).collect();
    (server, times)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_window_is_never_exceeded_and_in_flight_stays_at_five() {
    // 20 per 500 ms (plus the same 5 % margin as the real limits).
    let limits = Limits {
        requests: 20,
        window: Duration::from_millis(525),
        in_flight: 5,
    };
    let (server, times) = four_kassas_poll(
        limits,
        Duration::from_millis(2_600),
        Duration::from_millis(30),
    )
    .await;
    let worst = max_in_window(&times, Duration::from_millis(500));
    assert!(worst <= 20, "{worst} requests arrived within 500 ms");
    assert!(server.max_open() <= 5, "{} open at once", server.max_open());
    // And the limiter is not simply idle: the budget is used.
    assert!(times.len() >= 40, "only {} requests in 2.6 s", times.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_limits_100_per_5_seconds_hold_with_four_kassas() {
    let (server, times) = four_kassas_poll(
        Limits::moysklad(),
        Duration::from_millis(10_600),
        Duration::ZERO,
    )
    .await;
    let worst = max_in_window(&times, Duration::from_secs(5));
    println!(
        "{} requests in 10.6 s, at most {worst} in any 5 s, at most {} open at once",
        times.len(),
        server.max_open()
    );
    assert!(worst <= 100, "{worst} requests arrived within 5 s");
    assert!(server.max_open() <= 5);
    // Three windows' worth were allowed (t = 0, 5.25, 10.5 s).
    assert!(times.len() >= 180, "only {} requests", times.len());
}
