//! Generated MoySklad operations: every kind in rotation with unique totals
//! (so a receipt in the FN archive can be traced to its operation), and the
//! ten-position sale the benches print.

/// One generated operation.
pub struct GenOp {
    pub id: String,
    pub kind: &'static str,
    /// Receipt total in kopecks (unique per operation).
    pub total: u64,
    pub valid: bool,
    pub body: String,
}

/// Operation `i`: kinds rotate, every `invalid_every`-th is invalid
/// (payments one kopeck short), totals are unique.
pub fn operation(i: u32, invalid_every: u32) -> GenOp {
    let kinds = [
        "retaildemand",
        "retailsalesreturn",
        "prepayment",
        "prepaymentreturn",
    ];
    let kind = kinds[(i % 4) as usize];
    let id = format!("c0ffee00-0000-4000-8000-{i:012}");
    let total = 10_000 + u64::from(i) * 7;
    let valid = invalid_every == 0 || i % invalid_every != invalid_every - 1;
    let paid = if valid { total } else { total - 1 };
    let mut body = serde_json::json!({
        "meta": {
            "href": format!("https://online.moysklad.ru/api/posap/1.0/entity/{kind}/syncid/{id}"),
            "type": kind,
        },
        "name": format!("{i:06}"),
        "moment": "2026-11-24 10:00:00",
        "positions": [{
            "assortment": {"meta": {"href": "https://online.moysklad.ru/api/posap/1.0/entity/product/81fdf852-7c21-11e6-8a84-bae500000068"}},
            "quantity": 1,
            "price": total,
            "discount": 0,
            "vat": 20,
        }],
        "noCashSum": paid,
        "vatEnabled": true,
        "vatIncluded": true,
        "taxSystem": "GENERAL_TAX_SYSTEM",
    });
    if kind.starts_with("prepayment") {
        // An invalid one declares the full sum but pays a kopeck less.
        body["sum"] = serde_json::json!(total);
    }
    GenOp {
        id,
        kind,
        total,
        valid,
        body: body.to_string(),
    }
}

/// A sale of 10 positions paid in cash: the size the shtrih driver bench
/// (drivers/shtrih/benches/receipt_wire.rs) uses, so the numbers compare.
pub fn ten_position_sale(id: &str, seq: u32) -> serde_json::Value {
    let mut total = 0u64;
    let positions: Vec<serde_json::Value> = (1..=10u64)
        .map(|i| {
            let quantity = 1 + i % 3;
            let price = 10_000 + i * 137 + u64::from(seq % 50);
            total += quantity * price;
            // Items the fake cloud generates (`catalogue_size` > 101), all
            // piece goods (n % 10 = 1), so the agent finds every name in its
            // catalogue and no line carries a measure command.
            let item = i * 10 + 1;
            serde_json::json!({
                "assortment": {"meta": {"href": format!(
                    "https://online.moysklad.ru/api/posap/1.0/entity/product/9e000000-0000-4000-8000-{item:012}"
                )}},
                "quantity": quantity,
                "price": price,
                "discount": 0,
                "vat": 20,
            })
        })
        .collect();
    serde_json::json!({
        "meta": {
            "href": format!("https://online.moysklad.ru/api/posap/1.0/entity/retaildemand/syncid/{id}"),
            "type": "retaildemand",
        },
        "name": format!("{seq:06}"),
        "moment": "2026-11-24 10:00:00",
        "positions": positions,
        "cashSum": total,
        "noCashSum": 0,
        "vatEnabled": true,
        "vatIncluded": true,
        "taxSystem": "GENERAL_TAX_SYSTEM",
    })
}
