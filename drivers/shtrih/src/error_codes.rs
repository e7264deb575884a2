//! Device error codes (the ERR byte of every answer) → Russian text and
//! [`kkt::ErrorClass`].
//!
//! Sits between [`crate::commands`] (which splits the error byte off an
//! answer) and [`crate::driver`] (which turns a non-zero code into
//! `kkt::KktError::Device`). The text is what the shop sees in a reject
//! reason, so it is Russian and close to what the device itself prints.
//!
//! Numbering follows an FN-era Shtrih-M (ШТРИХ-М-01Ф and later): codes
//! 0x01–0x2F come from the fiscal storage (ФН), 0x30 and up from the printer
//! firmware. Older pre-FN firmware used 0x01–0x2F for the fiscal memory (ФП)
//! and 0xA0–0xCD for the ЭКЛЗ; where such a code does not clash with an
//! FN-era meaning it is listed too (legacy texts), otherwise the FN-era
//! meaning wins. Witnesses: the vendor's JavaPOS driver
//! (`shtrih-m/javapos_shtrih`, `res/messages_ru.txt`, keys `FSPrinterErrorNN`
//! and `PrinterErrorNN`) and pyshtrih `excepts.py`; the table below is our
//! own wording of those texts.
//!
//! Classification rule (ARCHITECTURE.md, "The loop", step 5): anything the
//! shop can fix by waiting, refilling paper, closing the cover, fixing the
//! link or re-opening the shift is recoverable; a dead, full or blocked FN,
//! data the device refuses, and commands it cannot do are permanent.

use kkt::ErrorClass;
use kkt::ErrorClass::{BadData, Busy, Device, FiscalStorage, Paper, ShiftExpired, Unsupported};

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorInfo {
    pub code: u8,
    /// Russian text for the shop.
    pub text: &'static str,
    pub class: ErrorClass,
}

/// Looks a code up. Unknown codes get a generic text and the recoverable
/// `Device` class: an error we cannot name must not reject a sale.
pub fn lookup(code: u8) -> ErrorInfo {
    match TABLE.binary_search_by_key(&code, |(c, _, _)| *c) {
        Ok(i) => {
            let (code, text, class) = TABLE[i];
            ErrorInfo { code, text, class }
        }
        Err(_) => ErrorInfo {
            code,
            text: "Неизвестная ошибка ККТ",
            class: Device,
        },
    }
}

/// Russian text of a code.
pub fn text(code: u8) -> &'static str {
    lookup(code).text
}

/// Class of a code.
pub fn class(code: u8) -> ErrorClass {
    lookup(code).class
}

/// Every known code, sorted by code (for tests and documentation).
pub fn all() -> impl Iterator<Item = ErrorInfo> {
    TABLE
        .iter()
        .map(|&(code, text, class)| ErrorInfo { code, text, class })
}

/// Sorted by code; `lookup` binary-searches it (a unit test checks the order).
static TABLE: &[(u8, &str, ErrorClass)] = &[
    // --- fiscal storage (ФН) and legacy ФП/ЭКЛЗ codes, 0x01–0x2F ---
    (
        0x01,
        "ФН: неизвестная команда, неверный формат посылки или неизвестные параметры",
        BadData,
    ),
    (0x02, "ФН: неверное состояние ФН для этой команды", Device),
    (0x03, "ФН: отказ ФН", FiscalStorage),
    (
        0x04,
        "ФН: отказ криптографического сопроцессора",
        FiscalStorage,
    ),
    (0x05, "ФН: закончен срок эксплуатации ФН", FiscalStorage),
    (0x06, "ФН: архив ФН переполнен", FiscalStorage),
    (0x07, "ФН: неверные дата и/или время", Device),
    (0x08, "ФН: нет запрошенных данных", BadData),
    (
        0x09,
        "ФН: некорректное значение параметров команды",
        BadData,
    ),
    (0x0A, "ФН: некорректная команда", BadData),
    (0x0B, "ФН: неразрешённые реквизиты", BadData),
    (0x0C, "ФН: дублирование данных", BadData),
    (
        0x0D,
        "ФН: отсутствуют данные, необходимые для учёта",
        BadData,
    ),
    (
        0x0E,
        "ФН: количество позиций в документе превысило допустимый предел",
        BadData,
    ),
    (0x10, "ФН: превышен размер данных TLV", BadData),
    (0x11, "ФН: нет транспортного соединения с ОФД", Device),
    (
        0x12,
        "ФН: исчерпан ресурс криптографического сопроцессора",
        FiscalStorage,
    ),
    (
        0x13,
        "ФП: текущая дата меньше даты последней записи",
        Device,
    ),
    (0x14, "ФН: исчерпан ресурс хранения", FiscalStorage),
    (
        0x15,
        "ФН: исчерпан ресурс ожидания передачи сообщения в ОФД",
        FiscalStorage,
    ),
    (
        0x16,
        "ФН: продолжительность смены более 24 часов",
        ShiftExpired,
    ),
    (
        0x17,
        "ФН: неверная разница во времени между двумя операциями",
        Device,
    ),
    (
        0x18,
        "ФН: реквизит не соответствует установленному при регистрации",
        BadData,
    ),
    (
        0x19,
        "ФН: реквизит не соответствует зарегистрированной версии ФФД",
        BadData,
    ),
    (
        0x1A,
        "ФН: реквизит не соответствует установленному при регистрации",
        BadData,
    ),
    (0x1B, "ФП: заводской номер не введён", FiscalStorage),
    (
        0x1C,
        "ФП: в заданном диапазоне есть повреждённая запись",
        FiscalStorage,
    ),
    (
        0x1D,
        "ФП: повреждена последняя запись сменных итогов",
        FiscalStorage,
    ),
    (0x1E, "ФП: запись фискализации не найдена", FiscalStorage),
    (0x1F, "ФП: отсутствует память регистров", FiscalStorage),
    (0x20, "ФН: сообщение от ОФД не может быть принято", Device),
    (
        0x21,
        "Вычитаемая сумма больше содержимого денежного регистра",
        BadData,
    ),
    (0x22, "Неверная дата", Device),
    (
        0x23,
        "ФН: отрицательный ответ сервиса обновления ключей проверки КМ",
        Device,
    ),
    (
        0x24,
        "ФН: неизвестный ответ сервиса обновления ключей проверки КМ",
        Device,
    ),
    (0x25, "ФП: нет активизации с запрошенным номером", BadData),
    (0x26, "ФП: более трёх повреждённых записей", FiscalStorage),
    (0x27, "ФП: повреждены контрольные суммы", FiscalStorage),
    (
        0x28,
        "ФП: технологическая метка присутствует",
        FiscalStorage,
    ),
    (0x29, "ФП: технологическая метка отсутствует", FiscalStorage),
    (
        0x2A,
        "ФП: ёмкость накопителя не соответствует версии ПО",
        FiscalStorage,
    ),
    (0x2B, "Невозможно отменить предыдущую команду", Device),
    (
        0x2C,
        "Обнулённая касса (повторное гашение невозможно)",
        Device,
    ),
    (0x2D, "Сумма чека по секции меньше суммы сторно", BadData),
    (0x2E, "В ККТ нет денег для выплаты", BadData),
    (0x2F, "ФН: таймаут обмена с ФН", Device),
    // --- printer firmware, 0x30 and up (0xA0–0xAC: FN marking errors on FN-era devices; other 0xA4–0xCD: legacy ЭКЛЗ) ---
    (0x30, "ФН не отвечает (NAK)", Device),
    (0x31, "ФН: ошибка формата обмена", Device),
    (0x32, "ФН: ошибка контрольной суммы обмена", Device),
    (0x33, "Некорректные параметры в команде", BadData),
    (0x34, "Нет данных", BadData),
    (0x35, "Некорректный параметр при данных настройках", BadData),
    (
        0x36,
        "Некорректные параметры в команде для данной реализации ККТ",
        BadData,
    ),
    (
        0x37,
        "Команда не поддерживается в данной реализации ККТ",
        Unsupported,
    ),
    (0x38, "Ошибка в ПЗУ", FiscalStorage),
    (0x39, "Внутренняя ошибка ПО ККТ", Device),
    (
        0x3A,
        "Переполнение накопления по надбавкам в смене",
        BadData,
    ),
    (0x3B, "Переполнение накопления в смене", BadData),
    (0x3C, "Смена открыта — операция невозможна", Device),
    (0x3D, "Смена не открыта — операция невозможна", Device),
    (0x3E, "Переполнение накопления по секциям в смене", BadData),
    (0x3F, "Переполнение накопления по скидкам в смене", BadData),
    (0x40, "Переполнение диапазона скидок", BadData),
    (0x41, "Переполнение диапазона оплаты наличными", BadData),
    (0x42, "Переполнение диапазона оплаты типом 2", BadData),
    (0x43, "Переполнение диапазона оплаты типом 3", BadData),
    (0x44, "Переполнение диапазона оплаты типом 4", BadData),
    (0x45, "Сумма всех типов оплаты меньше итога чека", BadData),
    (0x46, "Не хватает наличности в кассе", BadData),
    (0x47, "Переполнение накопления по налогам в смене", BadData),
    (0x48, "Переполнение итога чека", BadData),
    (
        0x49,
        "Операция невозможна в открытом чеке данного типа",
        Device,
    ),
    (0x4A, "Открыт чек — операция невозможна", Device),
    (0x4B, "Буфер чека переполнен", BadData),
    (
        0x4C,
        "Переполнение накопления по обороту налогов в смене",
        BadData,
    ),
    (0x4D, "Безналичная оплата больше суммы чека", BadData),
    (0x4E, "Смена превысила 24 часа", ShiftExpired),
    (0x4F, "Неверный пароль", Device),
    (
        0x50,
        "Идёт печать результатов выполнения предыдущей команды",
        Busy,
    ),
    (0x51, "Переполнение накоплений наличными в смене", BadData),
    (
        0x52,
        "Переполнение накоплений по типу оплаты 2 в смене",
        BadData,
    ),
    (
        0x53,
        "Переполнение накоплений по типу оплаты 3 в смене",
        BadData,
    ),
    (
        0x54,
        "Переполнение накоплений по типу оплаты 4 в смене",
        BadData,
    ),
    (0x55, "Чек закрыт — операция невозможна", Device),
    (0x56, "Нет документа для повтора", BadData),
    (
        0x57,
        "ЭКЛЗ: число закрытых смен не совпадает с ФП",
        FiscalStorage,
    ),
    (0x58, "Ожидание команды продолжения печати", Busy),
    (0x59, "Документ открыт другим оператором", Device),
    (0x5A, "Скидка превышает накопления в чеке", BadData),
    (0x5B, "Переполнение диапазона надбавок", BadData),
    (0x5C, "Понижено напряжение 24 В", Device),
    (0x5D, "Таблица не определена", BadData),
    (0x5E, "Некорректная операция", BadData),
    (0x5F, "Отрицательный итог чека", BadData),
    (0x60, "Переполнение при умножении", BadData),
    (0x61, "Переполнение диапазона цены", BadData),
    (0x62, "Переполнение диапазона количества", BadData),
    (0x63, "Переполнение диапазона отдела", BadData),
    (0x64, "Фискальная память отсутствует", FiscalStorage),
    (0x65, "Не хватает денег в секции", BadData),
    (0x66, "Переполнение денег в секции", BadData),
    (0x67, "Ошибка связи с ФН", Device),
    (0x68, "Не хватает денег по обороту налогов", BadData),
    (0x69, "Переполнение денег по обороту налогов", BadData),
    (0x6A, "Ошибка питания в момент ответа по I2C", Device),
    (0x6B, "Нет чековой ленты", Paper),
    (0x6C, "Нет контрольной ленты", Paper),
    (0x6D, "Не хватает денег по налогу", BadData),
    (0x6E, "Переполнение денег по налогу", BadData),
    (0x6F, "Переполнение по выплате в смене", BadData),
    (0x70, "Фискальная память переполнена", FiscalStorage),
    (0x71, "Ошибка отрезчика", Device),
    (0x72, "Команда не поддерживается в данном подрежиме", Busy),
    (0x73, "Команда не поддерживается в данном режиме", Device),
    (0x74, "Ошибка ОЗУ", Device),
    (0x75, "Ошибка питания", Device),
    (
        0x76,
        "Ошибка принтера: нет импульсов с тахогенератора",
        Device,
    ),
    (0x77, "Ошибка принтера: нет сигнала с датчиков", Device),
    (0x78, "Замена ПО", Device),
    (0x79, "Замена фискальной памяти", FiscalStorage),
    (0x7A, "Поле не редактируется", BadData),
    (0x7B, "Ошибка оборудования", Device),
    (0x7C, "Не совпадает дата", Device),
    (0x7D, "Неверный формат даты", BadData),
    (0x7E, "Неверное значение в поле длины", BadData),
    (0x7F, "Переполнение диапазона итога чека", BadData),
    (0x80, "Ошибка связи с фискальной памятью", Device),
    (0x81, "Ошибка связи с фискальной памятью", Device),
    (0x82, "Ошибка связи с фискальной памятью", Device),
    (0x83, "Ошибка связи с фискальной памятью", Device),
    (0x84, "Переполнение наличности", BadData),
    (0x85, "Переполнение по продажам в смене", BadData),
    (0x86, "Переполнение по покупкам в смене", BadData),
    (0x87, "Переполнение по возвратам продаж в смене", BadData),
    (0x88, "Переполнение по возвратам покупок в смене", BadData),
    (0x89, "Переполнение по внесению в смене", BadData),
    (0x8A, "Переполнение по надбавкам в чеке", BadData),
    (0x8B, "Переполнение по скидкам в чеке", BadData),
    (0x8C, "Отрицательный итог надбавки в чеке", BadData),
    (0x8D, "Отрицательный итог скидки в чеке", BadData),
    (0x8E, "Нулевой итог чека", BadData),
    (
        0x8F,
        "Касса не зарегистрирована (не фискализирована)",
        FiscalStorage,
    ),
    (
        0x90,
        "Поле превышает размер, установленный в настройках",
        BadData,
    ),
    (
        0x91,
        "Выход за границу поля печати при данных настройках шрифта",
        BadData,
    ),
    (0x92, "Наложение полей", BadData),
    (0x93, "Восстановление ОЗУ прошло успешно", Device),
    (0x94, "Исчерпан лимит операций в чеке", BadData),
    (0x95, "Неизвестная ошибка ЭКЛЗ", Device),
    (0x96, "Выполните суточный отчёт с гашением", ShiftExpired),
    (0x9B, "Некорректное действие", BadData),
    (0x9C, "Товар не найден по коду в базе товаров", BadData),
    (
        0x9D,
        "Неверные данные в записи о товаре в базе товаров",
        BadData,
    ),
    (
        0x9E,
        "Неверный размер файла базы или регистров товаров",
        Device,
    ),
    (
        0xA0,
        "ФН: работа с маркированными товарами запрещена",
        BadData,
    ),
    (
        0xA1,
        "ФН: неверная последовательность команд проверки КМ",
        BadData,
    ),
    (
        0xA2,
        "ФН: работа с маркированными товарами временно заблокирована",
        Device,
    ),
    (
        0xA3,
        "ФН: переполнена таблица проверки кодов маркировки",
        Device,
    ),
    (0xA4, "ЭКЛЗ: авария", FiscalStorage),
    (0xA5, "ЭКЛЗ: авария криптопроцессора", FiscalStorage),
    (0xA6, "ЭКЛЗ: исчерпан временной ресурс", FiscalStorage),
    (0xA7, "ЭКЛЗ: переполнена", FiscalStorage),
    (0xA8, "ЭКЛЗ: неверные дата или время", Device),
    (0xA9, "ЭКЛЗ: нет запрошенных данных", BadData),
    (
        0xAA,
        "ФН: в блоке TLV отсутствуют необходимые реквизиты",
        BadData,
    ),
    (
        0xAC,
        "ФН: в реквизите 2007 КМ, который ранее не проверялся в ФН",
        BadData,
    ),
    (0xAF, "Некорректные данные от ЭКЛЗ", Device),
    (0xB0, "ЭКЛЗ: переполнение в параметре «количество»", BadData),
    (0xB1, "ЭКЛЗ: переполнение в параметре «сумма»", BadData),
    (0xB2, "ЭКЛЗ: уже активизирована", Device),
    (
        0xB4,
        "Найденная запись фискализации повреждена",
        FiscalStorage,
    ),
    (
        0xB5,
        "Запись заводского номера ККТ повреждена",
        FiscalStorage,
    ),
    (0xB6, "Запись активизации ЭКЛЗ повреждена", FiscalStorage),
    (
        0xB7,
        "Записи сменных итогов в накопителе не найдены",
        FiscalStorage,
    ),
    (
        0xB8,
        "Последняя запись сменных итогов не записана",
        FiscalStorage,
    ),
    (
        0xB9,
        "Версия структуры данных накопителя не совпадает с ПО",
        FiscalStorage,
    ),
    (0xBA, "Структура накопителя повреждена", FiscalStorage),
    (0xBB, "Текущая дата меньше даты активизации ЭКЛЗ", Device),
    (0xBC, "Текущая дата меньше даты фискализации", Device),
    (
        0xBD,
        "Текущая дата меньше даты последнего сменного итога",
        Device,
    ),
    (
        0xBE,
        "Команда не поддерживается в текущем состоянии",
        Device,
    ),
    (0xBF, "Инициализация накопителя невозможна", FiscalStorage),
    (
        0xC0,
        "Контроль даты и времени (подтвердите дату и время)",
        Device,
    ),
    (
        0xC1,
        "ЭКЛЗ: суточный отчёт с гашением прервать нельзя",
        Device,
    ),
    (0xC2, "Превышение напряжения в блоке питания", Device),
    (0xC3, "Итоги чека не совпадают с ЭКЛЗ", BadData),
    (0xC4, "Несовпадение номеров смен", Device),
    (0xC5, "Буфер подкладного документа пуст", Device),
    (0xC6, "Подкладной документ отсутствует", Device),
    (0xC7, "Поле не редактируется в данном режиме", BadData),
    (0xC8, "Ошибка связи с принтером", Device),
    (0xC9, "Перегрев печатающей головки", Busy),
    (0xCA, "Температура вне условий эксплуатации", Device),
    (0xCB, "Неверный подытог чека", BadData),
    (0xCC, "ЭКЛЗ: смена уже закрыта", Device),
    (
        0xCD,
        "ЭКЛЗ: тест целостности архива не пройден",
        FiscalStorage,
    ),
    (0xCE, "Исчерпан объём ОЗУ или ПЗУ ККТ", Device),
    (
        0xCF,
        "Неверная дата (часы сброшены, установите дату)",
        Device,
    ),
    (0xD0, "Не распечатана контрольная лента по смене", Device),
    (0xD1, "Нет документов в буфере", BadData),
    (0xD2, "Модем не работает", Device),
    (0xD3, "Товар не произведён или выбыл из оборота", BadData),
    (0xD4, "Код маркировки фальсифицирован", BadData),
    (0xD5, "Ошибка аутентификации", Device),
    (0xE0, "Ошибка связи с купюроприёмником", Device),
    (0xE1, "Купюроприёмник занят", Busy),
    (
        0xE2,
        "Итог чека не соответствует итогу купюроприёмника",
        BadData,
    ),
    (0xE3, "Ошибка купюроприёмника", Device),
    (0xE4, "Итог купюроприёмника не нулевой", Device),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in TABLE.windows(2) {
            assert!(w[0].0 < w[1].0, "0x{:02X} before 0x{:02X}", w[0].0, w[1].0);
        }
        assert!(TABLE.len() > 150, "{} codes", TABLE.len());
    }

    #[test]
    fn every_code_resolves_to_its_own_row() {
        for (code, text, class) in TABLE {
            let info = lookup(*code);
            assert_eq!((info.code, info.text, info.class), (*code, *text, *class));
        }
    }

    #[test]
    fn shop_fixable_errors_are_recoverable() {
        for code in [0x6B, 0x6C, 0x50, 0x58, 0x4E, 0x16, 0x3D, 0x73] {
            assert!(class(code).is_recoverable(), "0x{code:02X}");
        }
        assert_eq!(class(0x6B), Paper);
        assert_eq!(class(0x4E), ShiftExpired);
        assert_eq!(class(0x58), Busy);
    }

    #[test]
    fn dead_fn_and_bad_data_are_permanent() {
        for code in [0x03, 0x05, 0x06, 0x12, 0x14, 0x15] {
            assert_eq!(class(code), FiscalStorage, "0x{code:02X}");
            assert!(!class(code).is_recoverable());
        }
        assert_eq!(class(0x45), BadData);
        assert_eq!(class(0x37), Unsupported);
        assert!(text(0x45).contains("оплаты"));
    }

    #[test]
    fn unknown_code_is_recoverable_and_named() {
        let info = lookup(0xFE);
        assert_eq!(info.class, Device);
        assert!(info.text.contains("Неизвестная"));
    }
}
