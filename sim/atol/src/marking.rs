//! The stand-in's FFD 1.2 marking-code checks: `beginMarkingCodeValidation`
//! has the simulated FN and OISM judge one code (the verdicts of
//! `sim_fn::marking`, the same the Shtrih emulator gives), `acceptMarkingCode`
//! puts it on the list of codes the next receipt may carry, and a receipt
//! whose position carries a code not on that list is refused, as a real
//! printer refuses an unchecked code.

use atol::envelope::ErrorBody;
use atol::error_codes::code;
use atol::result::{
    MarkingCheckBegun, MarkingCheckStatus, MarkingDriverError, OfflineValidation, OnlineValidation,
};
use atol::task::{ItemInfoCheckResult, ReceiptTask, Task, imc_decode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sim_fn::marking::{MarkingVerdict, verdict};

fn err(code: i32, description: &str) -> ErrorBody {
    ErrorBody {
        code,
        description: description.to_string(),
    }
}

/// Codes being checked and accepted (part of the state file).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkingDesk {
    /// The code whose check was begun, with the verdict.
    #[serde(default, skip)]
    checking: Option<(String, Option<u8>)>,
    /// Codes accepted for the next receipt.
    #[serde(default)]
    pub accepted: Vec<String>,
}

impl MarkingDesk {
    /// Runs a marking task.
    pub fn execute(&mut self, task: &Task) -> Result<Value, ErrorBody> {
        match task {
            Task::BeginMarkingCodeValidation(t) => self.begin(&t.params.code.imc),
            Task::GetMarkingCodeValidationStatus {} => self.status(),
            Task::AcceptMarkingCode {} => match self.checking.take() {
                Some((code, _)) => {
                    self.accepted.push(code);
                    Ok(json!({}))
                }
                None => Err(err(code::INVALID_PARAM, "Нет проверенного кода маркировки")),
            },
            Task::DeclineMarkingCode {} | Task::CancelMarkingCodeValidation {} => {
                self.checking = None;
                Ok(json!({}))
            }
            Task::ClearMarkingCodeValidationResult {} => {
                self.accepted.clear();
                Ok(json!({}))
            }
            other => Err(err(
                code::NOT_SUPPORTED,
                &format!("{} не относится к проверке кодов маркировки", other.name()),
            )),
        }
    }

    fn begin(&mut self, imc: &str) -> Result<Value, ErrorBody> {
        let code = imc_decode(imc).ok_or_else(|| {
            err(
                code::INVALID_PARAM,
                "imc: ожидается код маркировки в Base64",
            )
        })?;
        let MarkingVerdict {
            local_status,
            tag2106,
            ..
        } = verdict(&code);
        let passed = local_status == 2;
        self.checking = passed.then_some((code, tag2106));
        serde_json::to_value(MarkingCheckBegun {
            offline_validation: Some(OfflineValidation {
                fm_check: true,
                fm_check_result: passed,
                fm_check_error_reason: (!passed).then(|| "Ошибка проверки КП КМ".to_string()),
            }),
        })
        .map_err(|e| err(code::INVALID_PARAM, &e.to_string()))
    }

    fn status(&self) -> Result<Value, ErrorBody> {
        let Some((_, tag2106)) = &self.checking else {
            return Err(err(
                code::INVALID_PARAM,
                "Проверка кода маркировки не начата",
            ));
        };
        let status = MarkingCheckStatus {
            ready: true,
            sent_imc_request: tag2106.is_some(),
            driver_error: Some(MarkingDriverError::default()),
            online_validation: tag2106.map(|bits| OnlineValidation {
                item_info_check_result: Some(ItemInfoCheckResult::from_tag2106(bits)),
                mark_operator_item_status: None,
                imc_type: Some("auto".into()),
            }),
        };
        serde_json::to_value(status).map_err(|e| err(code::INVALID_PARAM, &e.to_string()))
    }

    /// The accepted list once the codes of `receipt` are taken off it (to
    /// be kept when the FN signs the receipt); refuses a receipt with a code
    /// that was not checked and accepted.
    pub fn without_codes_of(&self, receipt: &ReceiptTask) -> Result<Vec<String>, ErrorBody> {
        let mut left = self.accepted.clone();
        for item in &receipt.items {
            let atol::task::Item::Position(p) = item else {
                continue;
            };
            let Some(imc) = &p.imc_params else {
                continue;
            };
            let code = imc_decode(&imc.code.imc).ok_or_else(|| {
                err(
                    code::INVALID_PARAM,
                    "imc: ожидается код маркировки в Base64",
                )
            })?;
            let Some(at) = left.iter().position(|c| *c == code) else {
                return Err(err(
                    code::INVALID_PARAM,
                    &format!("Код маркировки позиции «{}» не проверен", p.name),
                ));
            };
            left.remove(at);
        }
        Ok(left)
    }
}
