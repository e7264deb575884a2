//! (placeholder: the emulator fills this in)
