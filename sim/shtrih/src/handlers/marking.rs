//! FFD 1.2 marking-code commands: 0xFF61 check a code (the FN's own check
//! plus the simulated OISM answer), 0xFF69 accept or reject it, 0xFF67 bind
//! it to a position. Layouts as JavaPOS `FSCheckMC`, `FSAcceptMC`,
//! `FSBindMC`.
//!
//! The simulated answers are deterministic: a code containing `BAD` fails
//! the FN's crypto check (local status 1), a code containing `WITHDRAWN`
//! passes it but the OISM reports the item status wrong (tag 2106 = 0x05);
//! every other code is fully valid (tag 2106 = 0x0F).

use crate::device::{Device, Level, Reply, err};
use shtrih::wire::{Reader, Writer};

/// Marking-code progress within the open receipt (volatile).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MarkingState {
    /// Last code checked by 0xFF61 with its tag-2106 result.
    pub checked: Option<(String, u8)>,
    /// Code accepted by 0xFF69, waiting to be bound.
    pub accepted: Option<String>,
    /// Code bound by 0xFF67, attached to the next (or last) position.
    pub bound_next: Option<String>,
    /// A position was registered while a code was accepted but not yet
    /// bound: drivers that send 0xFF46 before 0xFF67 bind to it.
    pub last_awaits_bind: bool,
}

pub use sim_fn::marking::{MarkingVerdict, verdict};

fn verdict_bytes(v: &MarkingVerdict) -> Writer {
    let w = Writer::new()
        .u8(v.local_status)
        .u8(v.local_error)
        .u8(v.code_type);
    match v.tag2106 {
        // Server check status 0 (answer received), then tag 2106.
        Some(t) => w.u8(2).u8(0).u8(t),
        None => w.u8(0),
    }
}

impl Device {
    /// 0xFF61: item status, check mode, code length, TLV length, code, TLV.
    pub(crate) fn mc_check(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::Operator)?;
        let _item_status = r.u8("item status").map_err(|_| err::FN_FORMAT)?;
        let _mode = r.u8("check mode").map_err(|_| err::FN_FORMAT)?;
        let code_len = r.u8("code length").map_err(|_| err::FN_FORMAT)? as usize;
        let tlv_len = r.u8("tlv length").map_err(|_| err::FN_FORMAT)? as usize;
        let code = r.take(code_len, "code").map_err(|_| err::FN_FORMAT)?;
        r.take(tlv_len, "tlv").map_err(|_| err::FN_FORMAT)?;
        if code.is_empty() {
            return Err(err::FN_PARAM);
        }
        let code = String::from_utf8_lossy(code).into_owned();
        let v = verdict(&code);
        self.marking.checked = Some((code, v.tag2106.unwrap_or(0)));
        Ok(verdict_bytes(&v).into_bytes())
    }

    /// 0xFF69: action 1 accept, 0 reject; answers tag 2106.
    pub(crate) fn mc_accept(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::Operator)?;
        let action = r.u8("action").map_err(|_| err::FN_FORMAT)?;
        let Some((code, t2106)) = self.marking.checked.take() else {
            return Err(err::FN_STATE);
        };
        if action == 1 {
            self.marking.accepted = Some(code);
        }
        Ok(vec![t2106])
    }

    /// 0xFF67: code length, code, optional 0xFF (volume accounting);
    /// answers item code (2), code type, then the check result.
    pub(crate) fn mc_bind(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::Operator)?;
        let len = r.u8("code length").map_err(|_| err::FN_FORMAT)? as usize;
        let code = r.take(len, "code").map_err(|_| err::FN_FORMAT)?;
        if code.is_empty() {
            return Err(err::FN_PARAM);
        }
        let code = String::from_utf8_lossy(code).into_owned();
        let v = verdict(&code);
        self.marking.accepted = None;
        // Both orders are in use: check → accept → bind → operation, and
        // check → accept → operation → bind. In the second the position
        // is already registered and the code belongs to it.
        let last_open = self
            .receipt
            .as_mut()
            .and_then(|r| r.items.last_mut())
            .filter(|item| item.marking_code.is_none());
        match last_open {
            Some(item) if self.marking.last_awaits_bind => item.marking_code = Some(code),
            _ => self.marking.bound_next = Some(code),
        }
        self.marking.last_awaits_bind = false;
        Ok(Writer::new()
            .u16(0)
            .u8(v.code_type)
            .u8(v.local_status)
            .u8(v.local_error)
            .u8(v.code_type)
            .u8(0)
            .into_bytes())
    }
}
