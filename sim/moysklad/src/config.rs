//! How a fake cloud is set up: where it listens, which retail stores (each
//! with its organisation, cashier and optional token) and admin account it
//! knows, the poll lease, the empty-poll form and the rate limits.
//! `Debug` never shows the token or the password.

use std::net::SocketAddr;
use std::time::Duration;

use super::faults::EmptyPollForm;
use super::rate_limit::RateLimitConfig;

/// The seed's sample organisation id (used by `poll/{orgId}` examples).
pub const DEFAULT_ORG_ID: &str = "7944ef04-f831-11e5-7a69-971500188b19";
/// The seed's sample retail store id.
pub const DEFAULT_STORE_ID: &str = "5d4d2ca2-7b1d-11e6-8a84-bae500000060";
/// The seed's sample cashier uid.
pub const DEFAULT_CASHIER_UID: &str = "cashier@myorg";
/// Default admin login for `/admin/*` (Basic auth).
pub const DEFAULT_ADMIN_LOGIN: &str = "admin@myorg";
/// Default admin password for `/admin/*` (a test tool: not a secret).
pub const DEFAULT_ADMIN_PASSWORD: &str = "admin";

/// One retail store (точка продаж).
#[derive(Clone)]
pub struct FakeStore {
    pub id: String,
    pub name: String,
    pub org_id: String,
    pub cashier_uid: String,
    /// `None`: any caller (or none) is accepted as this store until an
    /// `/admin/attach` gives it a token.
    pub token: Option<String>,
}

impl std::fmt::Debug for FakeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeStore")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("org_id", &self.org_id)
            .field("cashier_uid", &self.cashier_uid)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Configuration of [`super::FakeCloud::start`].
#[derive(Clone)]
pub struct FakeCloudConfig {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Organisation of the main store (the one poll is asked about).
    pub org_id: String,
    /// Token of the main store; with it, every store resource demands it.
    pub token: Option<String>,
    /// Cashier uid of the main store.
    pub cashier_uid: String,
    pub admin_login: String,
    pub admin_password: String,
    /// More stores besides the main one (id, org, cashier, token each).
    pub extra_stores: Vec<FakeStore>,
    /// See the lease semantics in `store`: `None` hands out the same
    /// operation until it is answered.
    pub poll_lease: Option<Duration>,
    /// What poll answers when the queue is empty.
    pub empty_poll: EmptyPollForm,
    pub rate_limit: RateLimitConfig,
    /// Generated assortment items besides the seed's sample and the demo's
    /// two (`--catalogue N`).
    pub catalogue_size: usize,
}

impl Default for FakeCloudConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            org_id: DEFAULT_ORG_ID.to_string(),
            token: None,
            cashier_uid: DEFAULT_CASHIER_UID.to_string(),
            admin_login: DEFAULT_ADMIN_LOGIN.to_string(),
            admin_password: DEFAULT_ADMIN_PASSWORD.to_string(),
            extra_stores: Vec::new(),
            poll_lease: None,
            empty_poll: EmptyPollForm::default(),
            rate_limit: RateLimitConfig::default(),
            catalogue_size: 0,
        }
    }
}

impl FakeCloudConfig {
    /// The main store followed by the extra ones.
    pub fn stores(&self) -> Vec<FakeStore> {
        let mut v = vec![FakeStore {
            id: DEFAULT_STORE_ID.to_string(),
            name: "Точка продаж".to_string(),
            org_id: self.org_id.clone(),
            cashier_uid: self.cashier_uid.clone(),
            token: self.token.clone(),
        }];
        v.extend(self.extra_stores.iter().cloned());
        v
    }
}

impl std::fmt::Debug for FakeCloudConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCloudConfig")
            .field("listen", &self.listen)
            .field("org_id", &self.org_id)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("cashier_uid", &self.cashier_uid)
            .field("admin_login", &self.admin_login)
            .field("admin_password", &"<redacted>")
            .field("extra_stores", &self.extra_stores)
            .field("poll_lease", &self.poll_lease)
            .field("empty_poll", &self.empty_poll)
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let c = FakeCloudConfig {
            token: Some("SECRET-TOKEN".into()),
            admin_password: "SECRET-PW".into(),
            ..Default::default()
        };
        let d = format!("{c:?} {:?}", c.stores());
        assert!(!d.contains("SECRET"));
        assert!(d.contains("cashier@myorg"));
    }
}
