//! ATOL fiscal printers through ATOL's documented JSON task API (ATOL
//! Driver 10), as the ATOL Web-server serves it over HTTP.
//!
//! ATOL's binary device protocol is only partly public (the fiscal sign of a
//! just-closed receipt is not), so this crate talks to the vendor's own
//! host-side service instead. Layered like the Shtrih crate:
//! - [`decimal`]: exact rubles and quantities as JSON numbers;
//! - [`task`]: typed tasks (`sell`, `openShift`, `getFnStatus`, …);
//! - [`result`]: typed task results (`fiscalParams`, `deviceStatus`, …);
//! - [`envelope`]: the Web-server request/answer envelopes and states;
//! - [`error_codes`]: driver error codes → Russian text and error class;
//! - [`receipt_task`]: `kkt::Receipt` → `sell`/`sellReturn` task (pure);
//! - [`transport`]: blocking HTTP client of the Web-server;
//! - [`driver`]: implements `kkt::Kkt`.
//!
//! The server side (the stand-in) is the `sim-atol` crate.

pub mod decimal;
pub mod driver;
pub mod envelope;
pub mod error_codes;
pub mod receipt_task;
pub mod result;
pub mod task;
pub mod transport;

pub use driver::AtolDriver;
pub use transport::{WebServer, WebServerConfig};
