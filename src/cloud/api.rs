//! The trait boundaries between the worker and the cloud: [`PosApi`] (a
//! kassa's token-authenticated calls) and [`AdminApi`] (the account
//! owner's login, used only by `attach`). The real implementations are
//! [`super::PosClient`] and [`super::AdminClient`]; in this crate's unit
//! tests `mockall` generates `MockPosApi` / `MockAdminApi` (a dev-dependency
//! only: the release binary carries no mocks).
//!
//! Both traits are object safe (`Arc<dyn PosApi>`), via `async_trait`.

use async_trait::async_trait;

use super::error::CloudError;
use super::models::{
    Approve, AssortmentItem, AssortmentPage, Attached, CloseShift, OpenShift, Operation,
    OperationStatus, Reject, RetailStore, RetailStoreList, StateReport,
};

/// What one kassa (one retail store token) does with the cloud.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait PosApi: Send + Sync {
    /// `GET /cheque/rpc/master/poll/{orgId}`: the next queued operation,
    /// or `None` when the queue is empty (204, 404, empty body, `{}`,
    /// `null`).
    async fn poll(&self, org_id: &str) -> Result<Option<Operation>, CloudError>;

    /// `PUT /cheque/rpc/master/approve`: the operation was fiscalised.
    async fn approve(&self, approve: &Approve) -> Result<(), CloudError>;

    /// `PUT /cheque/rpc/master/reject`: the operation cannot be fiscalised.
    async fn reject(&self, reject: &Reject) -> Result<(), CloudError>;

    /// `PUT /rpc/openshift/`.
    async fn open_shift(&self, shift: &OpenShift) -> Result<(), CloudError>;

    /// `PUT /rpc/closeshift/`.
    async fn close_shift(&self, shift: &CloseShift) -> Result<(), CloudError>;

    /// `POST /state`.
    async fn post_state(&self, state: &StateReport) -> Result<(), CloudError>;

    /// `GET /settings/retailstore/`: the store this token belongs to.
    async fn settings_retailstore(&self) -> Result<RetailStore, CloudError>;

    /// `GET /entity/assortment?limit=…&offsetId=…`: one page of the
    /// catalogue; `offset_id` from [`AssortmentPage::next_offset_id`].
    async fn assortment(
        &self,
        limit: u32,
        offset_id: Option<String>,
    ) -> Result<AssortmentPage, CloudError>;

    /// `GET /entity/{type}/{id}` (or `…/syncid/{id}`) for the item an
    /// operation's position links (`assortment.meta.href`): one targeted
    /// request instead of a full catalogue sync. `None` when the cloud
    /// answers 404 (no such item).
    async fn assortment_item(&self, href: &str) -> Result<Option<AssortmentItem>, CloudError>;

    /// `GET /cheque/rpc/minion/status/syncid/{id}`: an operation's fiscal
    /// status (diagnostics and tests).
    async fn operation_status(&self, sync_id: &str) -> Result<OperationStatus, CloudError>;
}

/// The account owner's calls (Basic auth with login and password).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait AdminApi: Send + Sync {
    /// `GET /admin/retailstore`: the account's retail stores.
    async fn list_stores(&self) -> Result<RetailStoreList, CloudError>;

    /// `POST /admin/attach/{id}`: a token and cashier uid for that store.
    /// Attaching again cuts off the device that held the previous token.
    async fn attach(&self, store_id: &str) -> Result<Attached, CloudError>;
}

/// Most pages [`fetch_assortment`] follows before giving up (a cloud
/// that keeps answering with a `nextHref` must not loop us forever).
pub const MAX_ASSORTMENT_PAGES: usize = 1000;

/// The whole catalogue, page by page (`page_size` rows each, at most
/// [`MAX_ASSORTMENT_PAGES`] pages).
pub async fn fetch_assortment(
    api: &(dyn PosApi + '_),
    page_size: u32,
) -> Result<Vec<AssortmentItem>, CloudError> {
    let mut rows = Vec::new();
    let mut offset: Option<String> = None;
    for _ in 0..MAX_ASSORTMENT_PAGES {
        let page = api.assortment(page_size, offset.clone()).await?;
        let next = page.next_offset_id().map(str::to_owned);
        rows.extend(page.rows);
        match next {
            // The same offset again would repeat the page forever.
            Some(n) if Some(&n) != offset.as_ref() => offset = Some(n),
            _ => break,
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod object_safety {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn mock_pos_api_is_usable_as_a_trait_object() {
        let mut mock = MockPosApi::new();
        mock.expect_poll()
            .withf(|org| org == "org-1")
            .times(1)
            .returning(|_| Ok(None));
        let api: Arc<dyn PosApi> = Arc::new(mock);
        assert!(api.poll("org-1").await.unwrap().is_none());
    }
}
