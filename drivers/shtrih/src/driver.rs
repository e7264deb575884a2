//! (placeholder: the driver side fills this in)
