//! The device's programmable tables (commands 0x1E write / 0x1F read): a
//! small schema of the fields a modern driver touches, with defaults, and
//! the values written over them (kept in the persisted state).
//!
//! Only these tables exist; others answer 0x5D "Таблица не определена", a
//! field outside the schema answers 0x33 "Некорректные параметры в команде".
//! Values travel raw: integers little-endian of the field's width, strings
//! CP1251 padded with zeros.

use std::collections::BTreeMap;

use shtrih::wire::encode_cp1251;

/// A field's type, as 0x2E reports it (0 integer, 1 string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Int,
    Text,
}

/// One field of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    pub table: u8,
    pub field: u8,
    pub rows: u16,
    pub size: usize,
    pub kind: FieldKind,
    pub name: &'static str,
}

const fn int(table: u8, field: u8, rows: u16, size: usize, name: &'static str) -> FieldDef {
    FieldDef {
        table,
        field,
        rows,
        size,
        kind: FieldKind::Int,
        name,
    }
}

const fn text(table: u8, field: u8, rows: u16, size: usize, name: &'static str) -> FieldDef {
    FieldDef {
        table,
        field,
        rows,
        size,
        kind: FieldKind::Text,
        name,
    }
}

/// Table 2 "operators and administrators": row N holds operator N's
/// password (rows 1–28 cashiers, 29 administrator, 30 system
/// administrator).
pub const OPERATORS_TABLE: u8 = 2;

/// The emulated tables.
pub const SCHEMA: &[FieldDef] = &[
    int(1, 1, 1, 1, "Автоматическое обнуление денежной наличности"),
    int(1, 2, 1, 1, "Печать рекламного текста"),
    int(1, 7, 1, 1, "Отрезка чека"),
    int(2, 1, 30, 4, "Пароль"),
    text(2, 2, 30, 21, "Имя оператора"),
    text(4, 1, 14, 48, "Строка текста"),
    int(6, 1, 12, 2, "Ставка налога"),
    text(6, 2, 12, 60, "Наименование налога"),
    text(17, 1, 1, 64, "Реквизиты"),
    int(17, 17, 1, 1, "Версия ФФД"),
    text(18, 1, 1, 20, "Заводской номер ККТ"),
    text(18, 2, 1, 12, "ИНН"),
    text(18, 3, 1, 20, "РНМ"),
    int(18, 5, 1, 1, "Система налогообложения"),
    text(18, 7, 1, 64, "Пользователь"),
    text(18, 9, 1, 64, "Адрес расчётов"),
];

/// Why a table access fails; the value is the device error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableError {
    /// 0x5D: no such table.
    NoTable,
    /// 0x33: no such row or field, or a value of the wrong size.
    BadParameter,
}

impl TableError {
    pub fn code(self) -> u8 {
        match self {
            TableError::NoTable => 0x5D,
            TableError::BadParameter => 0x33,
        }
    }
}

fn key(table: u8, row: u16, field: u8) -> String {
    format!("{table}:{row}:{field}")
}

/// Looks a field up.
pub fn field(table: u8, row: u16, field: u8) -> Result<&'static FieldDef, TableError> {
    if !SCHEMA.iter().any(|f| f.table == table) {
        return Err(TableError::NoTable);
    }
    SCHEMA
        .iter()
        .find(|f| f.table == table && f.field == field && row >= 1 && row <= f.rows)
        .ok_or(TableError::BadParameter)
}

/// Default raw value of a field.
fn default_value(def: &FieldDef, row: u16, identity: &TableIdentity) -> Vec<u8> {
    let int_val: u64 = match (def.table, def.field) {
        (2, 1) => row as u64,
        (6, 1) => [
            2000u64, 1000, 0, 0, 2000, 1000, 500, 700, 500, 700, 2200, 2200,
        ]
        .get(row as usize - 1)
        .copied()
        .unwrap_or(0),
        (17, 17) => 4,
        (18, 5) => 1,
        (1, 7) => 1,
        _ => 0,
    };
    let text_val: String = match (def.table, def.field) {
        (2, 2) => match row {
            29 => "АДМИНИСТРАТОР".into(),
            30 => "СИС.АДМИНИСТРАТОР".into(),
            n => format!("Кассир {n}"),
        },
        (6, 2) => [
            "НДС 20%",
            "НДС 10%",
            "НДС 0%",
            "БЕЗ НДС",
            "НДС 20/120",
            "НДС 10/110",
            "НДС 5%",
            "НДС 7%",
            "НДС 5/105",
            "НДС 7/107",
            "НДС 22%",
            "НДС 22/122",
        ]
        .get(row as usize - 1)
        .map(|s| s.to_string())
        .unwrap_or_default(),
        (18, 1) => identity.kkt_serial.clone(),
        (18, 2) => identity.inn.clone(),
        (18, 3) => identity.reg_number.clone(),
        (18, 7) => identity.organisation.clone(),
        (18, 9) => identity.address.clone(),
        _ => String::new(),
    };
    match def.kind {
        FieldKind::Int => int_val.to_le_bytes()[..def.size.min(8)].to_vec(),
        FieldKind::Text => {
            let mut b = encode_cp1251(&text_val);
            b.resize(def.size, 0);
            b
        }
    }
}

/// The identity values some table fields default to.
#[derive(Debug, Clone)]
pub struct TableIdentity {
    pub kkt_serial: String,
    pub inn: String,
    pub reg_number: String,
    pub organisation: String,
    pub address: String,
}

/// Reads a field: the written value or the default.
pub fn read(
    stored: &BTreeMap<String, Vec<u8>>,
    identity: &TableIdentity,
    table: u8,
    row: u16,
    field_no: u8,
) -> Result<Vec<u8>, TableError> {
    let def = field(table, row, field_no)?;
    Ok(stored
        .get(&key(table, row, field_no))
        .cloned()
        .unwrap_or_else(|| default_value(def, row, identity)))
}

/// Writes a field. Integers must come at the field's width; strings may be
/// shorter (they are zero-padded) but not longer.
pub fn write(
    stored: &mut BTreeMap<String, Vec<u8>>,
    table: u8,
    row: u16,
    field_no: u8,
    value: &[u8],
) -> Result<(), TableError> {
    let def = field(table, row, field_no)?;
    let mut v = value.to_vec();
    match def.kind {
        FieldKind::Int if v.len() != def.size => return Err(TableError::BadParameter),
        FieldKind::Text if v.len() > def.size => return Err(TableError::BadParameter),
        _ => {}
    }
    v.resize(def.size, 0);
    stored.insert(key(table, row, field_no), v);
    Ok(())
}

/// Operator number (table 2 row) whose password this is.
pub fn operator_for_password(stored: &BTreeMap<String, Vec<u8>>, password: u32) -> Option<u8> {
    (1..=30u16).find_map(|row| {
        let pw = match stored.get(&key(OPERATORS_TABLE, row, 1)) {
            Some(v) => v.iter().rev().fold(0u32, |acc, b| (acc << 8) | *b as u32),
            None => row as u32,
        };
        (pw == password).then_some(row as u8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident() -> TableIdentity {
        TableIdentity {
            kkt_serial: "0012345678".into(),
            inn: "7700000000".into(),
            reg_number: "0000000001012345".into(),
            organisation: "ООО".into(),
            address: "Москва".into(),
        }
    }

    #[test]
    fn defaults_writes_and_errors() {
        let mut s = BTreeMap::new();
        assert_eq!(read(&s, &ident(), 17, 1, 17), Ok(vec![4]));
        assert_eq!(read(&s, &ident(), 6, 1, 1), Ok(vec![0xD0, 0x07]));
        assert_eq!(read(&s, &ident(), 99, 1, 1), Err(TableError::NoTable));
        assert_eq!(read(&s, &ident(), 2, 31, 1), Err(TableError::BadParameter));
        assert_eq!(
            write(&mut s, 2, 5, 1, &[1, 2]),
            Err(TableError::BadParameter)
        );
        write(&mut s, 2, 5, 1, &[0x39, 0x30, 0, 0]).unwrap();
        assert_eq!(operator_for_password(&s, 12345), Some(5));
        assert_eq!(operator_for_password(&s, 5), None);
        assert_eq!(operator_for_password(&s, 30), Some(30));
        assert_eq!(operator_for_password(&s, 31), None);
    }
}
