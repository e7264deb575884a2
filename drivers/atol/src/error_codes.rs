//! ATOL Driver 10 error codes (`LIBFPTR_ERROR_*`, the numbering the
//! Web-server reports in `error.code`) → Russian text and error class.

use kkt::ErrorClass;

/// Codes the driver and the stand-in name explicitly.
pub mod code {
    pub const NO_CONNECTION: i32 = 2;
    pub const PORT_BUSY: i32 = 3;
    pub const INCORRECT_DATA: i32 = 5;
    pub const NO_REQUIRED_PARAM: i32 = 8;
    pub const INVALID_PARAM: i32 = 9;
    pub const NOT_SUPPORTED: i32 = 10;
    pub const NO_PAPER: i32 = 44;
    pub const COVER_OPENED: i32 = 45;
    pub const PRINTER_FAULT: i32 = 46;
    pub const BUSY: i32 = 55;
    pub const NOT_FULLY_PAID: i32 = 66;
    pub const SHIFT_EXPIRED: i32 = 68;
    pub const DENIED_IN_CLOSED_SHIFT: i32 = 73;
    pub const DENIED_IN_OPENED_SHIFT: i32 = 83;
    pub const FN_INVALID_STATE: i32 = 117;
    pub const FN_FAULT: i32 = 118;
    pub const FN_EXPIRED: i32 = 120;
    pub const FN_OVERFLOW: i32 = 121;
    pub const FN_NO_MORE_DATA: i32 = 123;
    pub const FN_SHIFT_EXPIRED: i32 = 141;
    pub const INVALID_TAXATION_TYPE: i32 = 143;
    pub const INVALID_TAX_TYPE: i32 = 144;
    pub const CONNECTION_LOST: i32 = 241;
}

/// Text and class of a driver error code.
pub fn describe(code: i32) -> (&'static str, ErrorClass) {
    use ErrorClass as C;
    match code {
        1 => ("Соединение с ККТ не установлено", C::Link),
        2 => ("Нет связи с ККТ", C::Link),
        3 => ("Порт ККТ занят", C::Link),
        4 => ("Порт ККТ недоступен", C::Link),
        5 => ("Некорректные данные от ККТ", C::Link),
        6 => ("Внутренняя ошибка драйвера", C::Device),
        8 => ("Не хватает обязательного параметра", C::BadData),
        9 => ("Неверный параметр", C::BadData),
        10 => ("Не поддерживается в данной ККТ", C::Unsupported),
        44 => ("Нет бумаги", C::Paper),
        45 => ("Открыта крышка", C::Cover),
        46 => ("Нет связи с принтером чеков", C::Device),
        47 => ("Механическая ошибка печатающего устройства", C::Device),
        52 => (
            "Сумма безналичных платежей превышает сумму чека",
            C::BadData,
        ),
        55 => ("Предыдущая операция не завершена", C::Busy),
        60 => ("Неверный вид оплаты", C::BadData),
        63 => ("Переполнение итога чека", C::BadData),
        66 => ("Чек оплачен не полностью", C::BadData),
        68 => ("Смена превысила 24 часа", C::ShiftExpired),
        73 => ("Операция невозможна при закрытой смене", C::Device),
        81 => ("Операция невозможна при закрытом чеке", C::Device),
        82 => ("Операция невозможна при открытом чеке", C::Device),
        83 => ("Операция невозможна при открытой смене", C::Device),
        114 => ("Перегрев печатающей головки", C::Device),
        115 => ("Ошибка обмена с ФН", C::FiscalStorage),
        116 => ("Неверный формат ФН", C::FiscalStorage),
        117 => ("Неверное состояние ФН", C::FiscalStorage),
        118 => ("Неисправимая ошибка ФН", C::FiscalStorage),
        119 => ("Ошибка КС ФН", C::FiscalStorage),
        120 => ("Закончен срок эксплуатации ФН", C::FiscalStorage),
        121 => ("Архив ФН переполнен", C::FiscalStorage),
        122 => ("Неверная дата или время для ФН", C::Device),
        123 => ("Нет запрошенных данных в ФН", C::BadData),
        136 => ("Исчерпан ресурс КС ФН", C::FiscalStorage),
        137 => ("Исчерпан ресурс хранения ФН", C::FiscalStorage),
        140 => ("Таймаут обмена с ФН", C::Device),
        141 => ("Смена ФН превысила 24 часа", C::ShiftExpired),
        143 => ("Неверная система налогообложения", C::BadData),
        144 => ("Неверная ставка НДС", C::BadData),
        145 => ("Неверный признак способа расчёта", C::BadData),
        241 => ("Связь с ККТ потеряна", C::Link),
        401 => ("Идёт проверка кода маркировки", C::Busy),
        402 => ("Нет связи с сервером проверки кодов маркировки", C::Device),
        _ => ("Ошибка ККТ", C::Device),
    }
}

/// A `KktError` for a driver error code reported for `task`.
pub fn to_kkt_error(task: &str, code: i32, description: &str) -> kkt::KktError {
    let (text, class) = describe(code);
    // The server's own description is kept when it says more than the table.
    let text = if description.is_empty() || describe(code).0 != "Ошибка ККТ" {
        text.to_string()
    } else {
        description.to_string()
    };
    kkt::KktError::Device {
        command: task.to_string(),
        code: u8::try_from(code).unwrap_or(u8::MAX),
        text: format!("{text} (ATOL {code})"),
        class,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_decide_retry_or_reject() {
        assert_eq!(describe(code::NO_PAPER).1, ErrorClass::Paper);
        assert_eq!(describe(code::COVER_OPENED).1, ErrorClass::Cover);
        assert_eq!(describe(code::SHIFT_EXPIRED).1, ErrorClass::ShiftExpired);
        assert_eq!(describe(code::FN_EXPIRED).1, ErrorClass::FiscalStorage);
        assert_eq!(describe(code::NOT_FULLY_PAID).1, ErrorClass::BadData);
        assert!(describe(code::NO_CONNECTION).1.is_recoverable());
        assert!(!describe(code::FN_OVERFLOW).1.is_recoverable());
    }

    #[test]
    fn unknown_code_keeps_the_servers_text() {
        let e = to_kkt_error("sell", 999, "Что-то новое");
        assert!(
            e.message_ru().contains("Что-то новое"),
            "{}",
            e.message_ru()
        );
        let e = to_kkt_error("sell", code::NO_PAPER, "no paper");
        assert!(e.message_ru().contains("Нет бумаги"));
    }
}
