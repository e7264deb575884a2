//! Errors of the catalogue cache and its sync.

use crate::cloud::CloudError;

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("catalogue database {path}: {source}")]
    Database {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("catalogue sync: {0}")]
    Cloud(#[from] CloudError),
    #[error("catalogue sync: the cloud kept paging past {0} pages")]
    TooManyPages(usize),
}
