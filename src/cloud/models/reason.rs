//! The Russian reason sent to MoySklad when an operation cannot be read:
//! the shop reads it in the cloud's interface, so it names the field (as a
//! JSON path, e.g. `positions[0].price`) and the value that is wrong, in
//! words a cashier can act on. The English [`ModelError`] text stays in the
//! logs.

use super::ModelError;

impl ModelError {
    /// Shop-facing Russian text of this error, naming the field and value.
    pub fn reason_ru(&self) -> String {
        match self {
            ModelError::Syntax { line, column, .. } => {
                format!("тело операции не является JSON (строка {line}, позиция {column})")
            }
            ModelError::MissingField { path, field, .. } => {
                let at = field_path(path, field);
                format!("нет обязательного поля {at}")
            }
            ModelError::FractionalKopecks { path, value, .. } => {
                format!("поле {path} = «{value}»: сумма должна быть целым числом копеек")
            }
            ModelError::Invalid { path, message, .. } => {
                format!("поле {path}: {}", invalid_ru(message))
            }
            ModelError::UnknownKind { entity, .. } => {
                format!("неизвестный вид операции «{entity}» (meta.href)")
            }
        }
    }
}

/// `positions[0]` + `name` → `positions[0].name`; the root path `.` alone
/// adds nothing.
fn field_path(path: &str, field: &str) -> String {
    let parent = path.trim_end_matches(&format!(".{field}"));
    if parent.is_empty() || parent == "." || parent == field {
        field.to_string()
    } else {
        format!("{parent}.{field}")
    }
}

/// Russian for the number errors of the models (`<what>: <value> has more
/// than N decimal places` and kin) and serde's type errors; anything else
/// is quoted as is so no detail is lost.
fn invalid_ru(message: &str) -> String {
    let detail = message.split_once(": ").map_or(message, |(_, d)| d);
    if let Some((value, rest)) = detail.split_once(" has more than ")
        && let Some(places) = rest.strip_suffix(" decimal places")
    {
        return format!("значение «{value}»: больше {places} знаков после запятой");
    }
    if let Some(value) = detail.strip_suffix(" is out of range") {
        return format!("значение «{value}» вне допустимого диапазона");
    }
    if let Some(value) = detail.strip_prefix("not a JSON number: ") {
        return format!("значение «{value}» не является числом");
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        return format!("неверный тип значения ({rest})");
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        return format!("недопустимое значение ({rest})");
    }
    format!("недопустимое значение ({message})")
}

#[cfg(test)]
mod tests {
    use super::super::parse_operation;

    fn sample_with(from: &str, to: &str) -> String {
        let body = include_str!("../../worker/samples/retaildemand.json");
        assert!(body.contains(from), "sample lacks {from}");
        body.replacen(from, to, 1)
    }

    fn reason(body: &str) -> String {
        parse_operation(body.as_bytes()).unwrap_err().reason_ru()
    }

    #[test]
    fn fractional_price_names_the_position_and_value() {
        let r = reason(&sample_with("\"price\": 500", "\"price\": 100.12345"));
        assert_eq!(
            r,
            "поле positions[0].price = «100.12345»: сумма должна быть целым числом копеек"
        );
    }

    #[test]
    fn seven_decimal_quantity_names_the_position_and_value() {
        let r = reason(&sample_with("\"quantity\": 3", "\"quantity\": 1.1234567"));
        assert_eq!(
            r,
            "поле positions[1].quantity: значение «1.1234567»: больше 6 знаков после запятой"
        );
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let r = reason(&sample_with("\"name\": \"000219991\",", ""));
        assert_eq!(r, "нет обязательного поля name");
        let r = reason(&sample_with("\"quantity\": 3", "\"quantity\": \"три\""));
        assert!(r.starts_with("поле positions[1].quantity: "), "{r}");
        assert!(r.contains("три"), "{r}");
        let r = reason("{\"meta\": ");
        assert!(r.starts_with("тело операции не является JSON"), "{r}");
    }
}
