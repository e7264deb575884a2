//! Command handlers of the emulated device, one module per command family,
//! each an `impl Device` block. Request layouts are read field by field
//! after the password; answers are the bytes after the error byte.

pub(crate) mod fiscal_storage;
pub(crate) mod marking;
pub(crate) mod receipt;
pub(crate) mod service;
pub(crate) mod status;
