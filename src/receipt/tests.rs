//! Tests of receipt rendering: the seed's samples (made consistent), every
//! rule of the module doc, and property tests over random operations.

use super::*;
use proptest::prelude::*;

fn pos(qty_units: i64, price: i64, discount: i64, vat: i64) -> PositionInput {
    PositionInput {
        name: None,
        quantity: Quantity(qty_units * Quantity::SCALE),
        price: Money(price),
        discount_millionths: Some(discount * 1_000_000),
        vat_millionths: Some(vat * 1_000_000),
        vat_enabled: None,
        sum: None,
        marks: Vec::new(),
        assortment: None,
        subject: None,
        components: Vec::new(),
    }
}

fn op(kind: ReceiptKind, positions: Vec<PositionInput>) -> OperationInput {
    OperationInput {
        kind,
        cash: None,
        tax_system: Some(TaxSystemInput::Known(TaxSystem::General)),
        has_base_document: true,
        ..OperationInput::cash_sale(positions, Money::ZERO)
    }
}

fn ctx() -> RenderContext {
    RenderContext {
        device_tax_systems: vec![TaxSystem::General, TaxSystem::SimplifiedIncome],
        default_tax_system: None,
        cashier: Some("Кассир".into()),
        ..Default::default()
    }
}

/// The seed's retaildemand as sent: 2 × 5.00 −10 % and 3 × 4.00 −10 % with
/// line sums 10.00 / 8.00 and payments 8.00 + 1.00. Nothing adds up.
#[test]
fn seed_sale_as_sent_is_rejected() {
    let mut p1 = pos(2, 500, 10, 10);
    p1.sum = Some(Money(1000));
    p1.marks = vec![
        "12345678900987ABCDEFGabcdefgh".into(),
        "00000046185372KY4mjNZAB=U/FkO".into(),
    ];
    let mut p2 = pos(3, 400, 10, 10);
    p2.sum = Some(Money(800));
    let mut o = op(ReceiptKind::Sale, vec![p1, p2]);
    o.cash = Some(Money(800));
    o.card = Some(Money(100));
    let err = render(&o, &ctx()).unwrap_err();
    assert!(err.0.contains("позиция 1"), "{err}");
    assert!(err.0.contains("сумма позиции"), "{err}");
}

/// The consistent variant: 2 × 5.00 −10 % = 9.00, 3 × 4.00 −10 % = 10.80,
/// total 19.80 paid 10.00 cash + 9.80 card; two marking codes on line 1.
#[test]
fn consistent_seed_sale_renders_exactly() {
    let mut p1 = pos(2, 500, 10, 10);
    p1.sum = Some(Money(900));
    p1.marks = vec![
        "12345678900987ABCDEFGabcdefgh".into(),
        "00000046185372KY4mjNZAB=U/FkO".into(),
    ];
    let p2 = pos(3, 400, 10, 10);
    let mut o = op(ReceiptKind::Sale, vec![p1, p2]);
    o.cash = Some(Money(1000));
    o.card = Some(Money(980));
    o.phone = Some("89992223311".into());
    o.email = Some("1@m.com".into());
    let r = render(&o, &ctx()).unwrap();
    assert_eq!(r.kind, ReceiptKind::Sale);
    assert_eq!(
        r.positions.len(),
        3,
        "the marked line splits into one line per code"
    );
    assert_eq!(r.positions[0].sum, Money(450));
    assert_eq!(
        r.positions[0].marking_code.as_deref(),
        Some("12345678900987ABCDEFGabcdefgh")
    );
    assert_eq!(r.positions[0].object, PaymentObject::MARKED);
    assert_eq!(
        r.positions[1].marking_code.as_deref(),
        Some("00000046185372KY4mjNZAB=U/FkO")
    );
    assert_eq!(r.positions[2].sum, Money(1080));
    assert_eq!(r.positions[2].price, Money(360));
    assert_eq!(r.positions[2].quantity, Quantity(3_000_000));
    assert!(r.positions.iter().all(|p| p.vat == VatRate::Vat10));
    assert!(
        r.positions
            .iter()
            .all(|p| p.method == PaymentMethod::FullPayment)
    );
    assert_eq!(r.total(), Some(Money(1980)));
    assert_eq!(r.payments.cash, Money(1000));
    assert_eq!(r.payments.electronic, Money(980));
    assert_eq!(r.buyer_contact.as_deref(), Some("+79992223311"));
    assert_eq!(r.cashier.as_deref(), Some("Кассир"));
}

#[test]
fn payments_not_equal_total_reject() {
    let mut o = op(ReceiptKind::Sale, vec![pos(1, 1000, 0, 20)]);
    o.cash = Some(Money(999));
    let err = render(&o, &ctx()).unwrap_err();
    assert!(
        err.0
            .contains("сумма оплат 9.99 ₽ не равна сумме чека 10.00 ₽"),
        "{err}"
    );
}

#[test]
fn quantity_zero_or_negative_rejects() {
    for q in [0, -1] {
        let mut p = pos(1, 1000, 0, 20);
        p.quantity = Quantity(q);
        let mut o = op(ReceiptKind::Sale, vec![p]);
        o.cash = Some(Money(1000));
        let err = render(&o, &ctx()).unwrap_err();
        assert!(
            err.0.contains("количество должно быть больше нуля"),
            "{err}"
        );
    }
}

#[test]
fn unknown_vat_rejects_and_new_rates_work() {
    let mut o = op(ReceiptKind::Sale, vec![pos(1, 1000, 0, 18)]);
    o.cash = Some(Money(1000));
    assert!(
        render(&o, &ctx())
            .unwrap_err()
            .0
            .contains("неизвестная ставка НДС 18 %")
    );
    for (v, rate) in [
        (5, VatRate::Vat5),
        (7, VatRate::Vat7),
        (22, VatRate::Vat22),
        (0, VatRate::Vat0),
    ] {
        let mut o = op(ReceiptKind::Sale, vec![pos(1, 1000, 0, v)]);
        o.cash = Some(Money(1000));
        assert_eq!(render(&o, &ctx()).unwrap().positions[0].vat, rate);
    }
}

#[test]
fn vat_disabled_means_no_vat() {
    let mut o = op(ReceiptKind::Sale, vec![pos(1, 1000, 0, 20)]);
    o.vat_enabled = Some(false);
    o.cash = Some(Money(1000));
    assert_eq!(render(&o, &ctx()).unwrap().positions[0].vat, VatRate::NoVat);
    let mut p = pos(1, 1000, 0, 0);
    p.vat_enabled = Some(false);
    let mut o = op(ReceiptKind::Sale, vec![p]);
    o.cash = Some(Money(1000));
    assert_eq!(render(&o, &ctx()).unwrap().positions[0].vat, VatRate::NoVat);
}

#[test]
fn vat_not_included_is_added_on_top() {
    // 3 × 3.33 = 9.99 net; 20 % of 9.99 = 1.998 → 2.00; line 11.99.
    let mut o = op(ReceiptKind::Sale, vec![pos(3, 333, 0, 20)]);
    o.vat_included = Some(false);
    o.cash = Some(Money(1199));
    let r = render(&o, &ctx()).unwrap();
    // 11.99 has no whole-kopeck price for 3 units: 1 × 3.99 + 2 × 4.00.
    let lines: Vec<(i64, i64, i64)> = r
        .positions
        .iter()
        .map(|p| (p.quantity.0 / Quantity::SCALE, p.price.0, p.sum.0))
        .collect();
    assert_eq!(lines, [(1, 399, 399), (2, 400, 800)]);
    assert_eq!(r.total(), Some(Money(1199)));
}

#[test]
fn discount_rounds_once_per_line() {
    // 0.333 kg × 99.99 −7 % = 30.9659... → 30.97
    let mut p = pos(0, 9999, 7, 20);
    p.quantity = Quantity(333_000);
    let mut o = op(ReceiptKind::Sale, vec![p]);
    o.card = Some(Money(3097));
    let r = render(&o, &ctx()).unwrap();
    assert_eq!(r.positions[0].sum, Money(3097));
}

#[test]
fn cloud_line_sum_within_a_kopeck_is_used() {
    let mut p = pos(0, 9999, 7, 20);
    p.quantity = Quantity(333_000);
    p.sum = Some(Money(3096));
    let mut o = op(ReceiptKind::Sale, vec![p.clone()]);
    o.card = Some(Money(3096));
    assert_eq!(render(&o, &ctx()).unwrap().positions[0].sum, Money(3096));
    p.sum = Some(Money(3095));
    let mut o = op(ReceiptKind::Sale, vec![p]);
    o.card = Some(Money(3095));
    assert!(render(&o, &ctx()).is_err());
}

#[test]
fn discount_out_of_range_rejects() {
    let mut o = op(ReceiptKind::Sale, vec![pos(1, 1000, 101, 20)]);
    o.cash = Some(Money(0));
    assert!(render(&o, &ctx()).unwrap_err().0.contains("скидка"));
}

#[test]
fn return_without_base_ignores_discount() {
    let mut o = op(ReceiptKind::SaleReturn, vec![pos(2, 500, 10, 10)]);
    o.has_base_document = false;
    o.cash = Some(Money(1000));
    let r = render(&o, &ctx()).unwrap();
    assert_eq!(r.kind, ReceiptKind::SaleReturn);
    assert_eq!(r.total(), Some(Money(1000)));
    o.has_base_document = true;
    o.cash = Some(Money(900));
    assert_eq!(render(&o, &ctx()).unwrap().total(), Some(Money(900)));
}

#[test]
fn sale_consuming_prepayment_offsets_it() {
    let mut o = op(
        ReceiptKind::Sale,
        vec![pos(2, 500, 10, 10), pos(3, 400, 10, 10)],
    );
    o.prepayment_cash = Some(Money(1230));
    o.prepayment_card = Some(Money(500));
    o.cash = Some(Money(250));
    let r = render(&o, &ctx()).unwrap();
    assert_eq!(r.payments.prepayment_offset, Money(1730));
    assert_eq!(r.payments.cash, Money(250));
    assert!(
        r.positions
            .iter()
            .all(|p| p.method == PaymentMethod::FullPayment)
    );
}

/// The seed's prepayment, made consistent: order 2 × 5.00 −10 % + 3 × 4.00
/// −10 % = 19.80, prepaid 10.00 (5.00 cash + 5.00 card): the goods, their
/// share of the 10.00, partial prepayment, calculated VAT.
#[test]
fn partial_prepayment_prints_the_goods_with_their_shares() {
    let mut items = vec![pos(2, 500, 10, 10), pos(3, 400, 10, 10)];
    items[0].name = Some("Чай".into());
    items[1].name = Some("Кофе".into());
    let mut o = op(ReceiptKind::Prepayment, items);
    o.sum = Some(Money(1000));
    o.cash = Some(Money(500));
    o.card = Some(Money(500));
    let r = render(&o, &ctx()).unwrap();
    // 10.00 × 9.00 / 19.80 = 4.545… → 4.55 (largest remainder), 5.45;
    // 4.55 over 2 units has no whole-kopeck price: 2.27 + 2.28.
    let lines: Vec<(&str, i64, i64, i64)> = r
        .positions
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.quantity.0 / Quantity::SCALE,
                p.price.0,
                p.sum.0,
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("Чай", 1, 227, 227),
            ("Чай", 1, 228, 228),
            ("Кофе", 1, 181, 181),
            ("Кофе", 2, 182, 364)
        ]
    );
    assert_eq!(r.total(), Some(Money(1000)));
    for p in &r.positions {
        assert_eq!(p.method, PaymentMethod::PartialPrepayment);
        assert_eq!(p.object, PaymentObject::COMMODITY);
        assert_eq!(p.vat, VatRate::Vat10_110);
    }
}

#[test]
fn full_prepayment_return_over_several_rates_adds_up() {
    let mut items = vec![pos(1, 1000, 0, 20), pos(1, 1000, 0, 10), pos(1, 1000, 0, 0)];
    items[0].marks = vec!["0104601234567890215abc".into()];
    items[0].subject = Some(LineSubject {
        object: PaymentObject::MARKED,
        measure: Some(kkt::MeasureUnit::PIECE),
    });
    let mut o = op(ReceiptKind::PrepaymentReturn, items);
    o.sum = Some(Money(3000));
    o.qr = Some(Money(3000));
    let r = render(&o, &ctx()).unwrap();
    assert_eq!(r.kind, ReceiptKind::PrepaymentReturn);
    let sums: Vec<i64> = r.positions.iter().map(|p| p.sum.0).collect();
    assert_eq!(sums, vec![1000, 1000, 1000]);
    assert!(
        r.positions
            .iter()
            .all(|p| p.method == PaymentMethod::FullPrepayment)
    );
    assert_eq!(r.positions[0].name, "Товар 1");
    assert_eq!(r.positions[0].vat, VatRate::Vat20_120);
    // Prepaid marked goods carry no code: "marked, without a code".
    assert_eq!(r.positions[0].object, PaymentObject::MARKED_NO_CODE);
    assert_eq!(r.positions[0].marking_code, None);
    assert_eq!(r.positions[0].measure, Some(kkt::MeasureUnit::PIECE));
    assert_eq!(r.positions[2].vat, VatRate::Vat0);
}

#[test]
fn prepayment_shares_always_add_up() {
    // 1.00 over three equal goods: 0.34 + 0.33 + 0.33.
    let mut o = op(
        ReceiptKind::Prepayment,
        vec![
            pos(1, 1000, 0, 20),
            pos(1, 1000, 0, 20),
            pos(1, 1000, 0, 20),
        ],
    );
    o.sum = Some(Money(100));
    o.cash = Some(Money(100));
    let sums: Vec<i64> = render(&o, &ctx())
        .unwrap()
        .positions
        .iter()
        .map(|p| p.sum.0)
        .collect();
    assert_eq!(sums, vec![34, 33, 33]);
}

#[test]
fn prepayment_sum_must_match_payments_and_not_exceed_order() {
    let mut o = op(ReceiptKind::Prepayment, vec![pos(1, 1000, 0, 20)]);
    o.sum = Some(Money(1000));
    o.cash = Some(Money(900));
    assert!(render(&o, &ctx()).unwrap_err().0.contains("не равна"));
    o.sum = Some(Money(2000));
    o.cash = Some(Money(2000));
    assert!(
        render(&o, &ctx())
            .unwrap_err()
            .0
            .contains("больше суммы позиций")
    );
    o.sum = Some(Money(1000));
    o.cash = Some(Money(500));
    o.prepayment_cash = Some(Money(500));
    assert!(render(&o, &ctx()).unwrap_err().0.contains("зачёт"));
}

#[test]
fn tax_system_rules() {
    let mut o = op(ReceiptKind::Sale, vec![pos(1, 1000, 0, 20)]);
    o.cash = Some(Money(1000));
    o.tax_system = Some(TaxSystemInput::Known(TaxSystem::Patent));
    assert!(
        render(&o, &ctx())
            .unwrap_err()
            .0
            .contains("не зарегистрирована")
    );
    o.tax_system = Some(TaxSystemInput::Unknown("MOON_TAX".into()));
    assert!(render(&o, &ctx()).unwrap_err().0.contains("MOON_TAX"));
    o.tax_system = None;
    assert!(render(&o, &ctx()).unwrap_err().0.contains("не указана"));
    let mut c = ctx();
    c.default_tax_system = Some(TaxSystem::SimplifiedIncome);
    assert_eq!(
        render(&o, &c).unwrap().tax_system,
        TaxSystem::SimplifiedIncome
    );
    c.default_tax_system = None;
    c.device_tax_systems = vec![TaxSystem::Patent];
    assert_eq!(render(&o, &c).unwrap().tax_system, TaxSystem::Patent);
}

#[test]
fn buyer_contact_rules() {
    let mut o = op(ReceiptKind::Sale, vec![pos(1, 1000, 0, 20)]);
    o.cash = Some(Money(1000));
    o.phone = Some("+7 (999) 222-33-11".into());
    assert_eq!(
        render(&o, &ctx()).unwrap().buyer_contact.as_deref(),
        Some("+79992223311")
    );
    o.phone = Some("12345".into());
    assert!(render(&o, &ctx()).unwrap_err().0.contains("телефон"));
    o.phone = None;
    o.email = Some("buyer@example.com".into());
    assert_eq!(
        render(&o, &ctx()).unwrap().buyer_contact.as_deref(),
        Some("buyer@example.com")
    );
    o.email = Some("not an email".into());
    assert!(render(&o, &ctx()).unwrap_err().0.contains("e-mail"));
}

#[test]
fn marks_must_match_quantity() {
    let mut p = pos(3, 100, 0, 20);
    p.marks = vec!["A".into(), "B".into()];
    let mut o = op(ReceiptKind::Sale, vec![p]);
    o.cash = Some(Money(300));
    assert!(
        render(&o, &ctx())
            .unwrap_err()
            .0
            .contains("кодов маркировки 2")
    );
}

#[test]
fn marked_split_spreads_kopecks() {
    // 3 × 3.33 −0 %: 9.99 split 3.33 ×3; 2 × 5.00 −33 % = 6.70 → 3.35 + 3.35;
    // 3 × 1.00 −50 % = 1.50 → 0.50 × 3; 3 × 1.01 = 3.03 → 1.01 × 3;
    // 2 × 0.01 −50 % = 0.01 → 0.01 + 0.00 (but total > 0).
    let mut p = pos(2, 1, 50, 20);
    p.marks = vec!["A".into(), "B".into()];
    let mut o = op(ReceiptKind::Sale, vec![p]);
    o.cash = Some(Money(1));
    let r = render(&o, &ctx()).unwrap();
    assert_eq!(
        r.positions.iter().map(|p| p.sum.0).collect::<Vec<_>>(),
        vec![1, 0]
    );
}

#[test]
fn empty_operation_rejects() {
    let o = op(ReceiptKind::Sale, vec![]);
    assert!(render(&o, &ctx()).unwrap_err().0.contains("нет позиций"));
}

fn arb_position() -> impl Strategy<Value = PositionInput> {
    (
        1i64..5_000_000,
        0i64..1_000_000,
        prop_oneof![Just(0i64), 0i64..100_000_000],
        prop::sample::select(vec![0i64, 5, 7, 10, 20, 22]),
        any::<bool>(),
        0usize..3,
    )
        .prop_map(|(q, price, disc, vat, enabled, marks)| PositionInput {
            name: Some("Товар".into()),
            quantity: if marks > 0 {
                Quantity(marks as i64 * Quantity::SCALE)
            } else {
                Quantity(q)
            },
            price: Money(price),
            discount_millionths: Some(disc),
            vat_millionths: Some(vat * 1_000_000),
            vat_enabled: Some(enabled),
            sum: None,
            marks: (0..marks).map(|i| format!("CODE{i}")).collect(),
            assortment: None,
            subject: None,
            components: Vec::new(),
        })
}

fn arb_kind() -> impl Strategy<Value = ReceiptKind> {
    prop::sample::select(vec![
        ReceiptKind::Sale,
        ReceiptKind::SaleReturn,
        ReceiptKind::Prepayment,
        ReceiptKind::PrepaymentReturn,
    ])
}

proptest! {
    /// With payments equal to the rendered total, every random operation
    /// renders, its positions add up exactly to the payments, and nothing
    /// is negative.
    #[test]
    fn consistent_operations_render_and_add_up(
        kind in arb_kind(),
        positions in prop::collection::vec(arb_position(), 1..6),
        included in any::<bool>(),
        cash_share in 0i64..=100,
        prepaid_share in 1i64..=100,
    ) {
        let mut o = op(kind, positions);
        o.vat_included = Some(included);
        // The order total, as a sale of the same positions.
        let mut probe = o.clone();
        probe.kind = ReceiptKind::Sale;
        let total = build_positions(&probe)
            .map_err(|e| TestCaseError::fail(e.0))?
            .iter()
            .map(|p| p.sum.0)
            .sum::<i64>();
        prop_assume!(total > 0);
        let paid = if matches!(kind, ReceiptKind::Prepayment | ReceiptKind::PrepaymentReturn) {
            let s = std::cmp::max(1, total * prepaid_share / 100);
            o.sum = Some(Money(s));
            s
        } else {
            total
        };
        let cash = paid * cash_share / 100;
        o.cash = Some(Money(cash));
        o.card = Some(Money(paid - cash));
        let r = render(&o, &ctx()).map_err(|e| TestCaseError::fail(e.0))?;
        prop_assert_eq!(r.total(), Some(Money(paid)));
        prop_assert_eq!(r.payments.total(), Some(Money(paid)));
        prop_assert!(r.positions.iter().all(|p| p.sum.0 >= 0 && p.quantity.0 > 0));
        for p in &r.positions {
            prop_assert_eq!(p.marking_code.is_some(), p.object == PaymentObject::MARKED);
        }
    }

    /// One kopeck more or less in the payments always rejects.
    #[test]
    fn off_by_a_kopeck_rejects(positions in prop::collection::vec(arb_position(), 1..4), delta in prop::sample::select(vec![-1i64, 1])) {
        let mut o = op(ReceiptKind::Sale, positions);
        o.cash = Some(Money(0));
        let total = build_positions(&o).map_err(|e| TestCaseError::fail(e.0))?
            .iter().map(|p| p.sum.0).sum::<i64>();
        prop_assume!(total + delta >= 0 && total > 0);
        o.cash = Some(Money(total + delta));
        prop_assert!(render(&o, &ctx()).is_err());
    }

    /// Arbitrary (even absurd) numbers never panic.
    #[test]
    fn never_panics(
        kind in arb_kind(),
        q in any::<i64>(), price in any::<i64>(), disc in any::<i64>(), vat in any::<i64>(),
        cash in any::<i64>(), sum in any::<Option<i64>>(),
    ) {
        let mut o = op(kind, vec![PositionInput {
            name: None, quantity: Quantity(q), price: Money(price),
            discount_millionths: Some(disc), vat_millionths: Some(vat),
            vat_enabled: None, sum: sum.map(Money), marks: vec![], assortment: None, subject: None, components: Vec::new(),
        }]);
        o.cash = Some(Money(cash));
        o.sum = sum.map(Money);
        o.vat_included = Some(false);
        let _ = render(&o, &ctx());
    }
}

/// The demo's operations: consistent variants of the seed's four samples
/// render; the seed's retaildemand as printed there is rejected.
#[test]
fn seed_derived_samples_render() {
    use crate::cloud::models::parse_operation;
    let ctx = RenderContext {
        device_tax_systems: vec![TaxSystem::General],
        default_tax_system: None,
        cashier: None,
        ..Default::default()
    };
    let cases: [(&str, ReceiptKind, i64); 4] = [
        (
            include_str!("../worker/samples/retaildemand.json"),
            ReceiptKind::Sale,
            1980,
        ),
        (
            include_str!("../worker/samples/retailsalesreturn.json"),
            ReceiptKind::SaleReturn,
            1080,
        ),
        (
            include_str!("../worker/samples/prepayment.json"),
            ReceiptKind::Prepayment,
            1000,
        ),
        (
            include_str!("../worker/samples/prepaymentreturn.json"),
            ReceiptKind::PrepaymentReturn,
            600,
        ),
    ];
    for (body, kind, total) in cases {
        let op = parse_operation(body.as_bytes()).unwrap();
        let r = render(&OperationInput::from_cloud(&op), &ctx).unwrap();
        assert_eq!(r.kind, kind);
        assert_eq!(r.total(), Some(Money(total)));
    }
    let sale = parse_operation(include_bytes!("../worker/samples/retaildemand.json")).unwrap();
    let r = render(&OperationInput::from_cloud(&sale), &ctx).unwrap();
    assert_eq!(r.payments.prepayment_offset, Money(1000));
    assert_eq!(r.payments.cash, Money(980));
    assert_eq!(r.buyer_contact.as_deref(), Some("+79992223311"));
    assert_eq!(
        r.positions
            .iter()
            .filter(|p| p.marking_code.is_some())
            .count(),
        2
    );
    let bad = parse_operation(include_bytes!(
        "../worker/samples/retaildemand_invalid.json"
    ))
    .unwrap();
    let err = render(&OperationInput::from_cloud(&bad), &ctx).unwrap_err();
    assert!(err.0.starts_with("Ошибка данных"), "{err}");
}

/// A large sum over a tiny quantity gives a unit price that
/// does not fit in kopecks: rejected, never wrapped into a wrong price.
#[test]
fn unit_price_overflow_rejects_instead_of_wrapping() {
    let mut p = pos(1, 8_000_000_000_000_000_000, 0, 20);
    p.quantity = Quantity(Quantity::SCALE / 2);
    let mut o = op(ReceiptKind::Sale, vec![p]);
    o.vat_included = Some(false);
    // 0.5 × 8e18 = 4e18, +20 % VAT = 4.8e18: the line fits, the unit
    // price (9.6e18) does not.
    o.cash = Some(Money(4_800_000_000_000_000_000));
    let err = render(&o, &ctx()).unwrap_err();
    assert!(err.0.contains("цена слишком велика"), "{err}");
}

/// A given line sum far from quantity × price with huge values
/// is rejected with a reason, without overflowing.
#[test]
fn huge_given_line_sum_rejects_without_overflow() {
    // quantity × price × 100 % just below i128::MAX: the product fits,
    // the comparison with the given sum did not.
    let mut p = pos(1, 184_467_440_737, 0, 20);
    p.quantity = Quantity(i64::MAX);
    p.sum = Some(Money(i64::MIN));
    let mut o = op(ReceiptKind::Sale, vec![p]);
    o.cash = Some(Money(1));
    let err = render(&o, &ctx()).unwrap_err();
    assert!(err.0.contains("слишком велика"), "{err}");
}

/// An unknown fractional VAT rate is named in integers with a
/// Russian decimal comma, not through a float («12.5», «1e-6»).
#[test]
fn fractional_vat_rate_is_named_without_floats() {
    let mut p = pos(1, 100, 0, 0);
    p.vat_millionths = Some(12_500_000);
    let mut o = op(ReceiptKind::Sale, vec![p]);
    o.cash = Some(Money(100));
    let err = render(&o, &ctx()).unwrap_err();
    assert!(err.0.contains("неизвестная ставка НДС 12,5 %"), "{err}");
    assert_eq!(percent_text(1), "0,000001");
    assert_eq!(percent_text(-7_250_000), "-7,25");
    assert_eq!(percent_text(20_000_000), "20");
}

#[test]
fn a_bundle_prints_as_its_components_with_shares_that_add_up() {
    let subject = |object, measure| LineSubject {
        object,
        measure: Some(measure),
    };
    let mut bundle = pos(2, 1999, 0, 20);
    bundle.name = Some("Набор для пикника".into());
    bundle.components = vec![
        ComponentInput {
            name: "Тарелка".into(),
            subject: subject(PaymentObject::COMMODITY, kkt::MeasureUnit::PIECE),
            quantity: Quantity(4_000_000),
            unit_price: Some(Money(150)),
        },
        ComponentInput {
            name: "Уголь".into(),
            subject: subject(PaymentObject::COMMODITY, kkt::MeasureUnit::KILOGRAM),
            quantity: Quantity(1_500_000),
            unit_price: Some(Money(400)),
        },
        ComponentInput {
            name: "Сборка".into(),
            subject: subject(PaymentObject::SERVICE, kkt::MeasureUnit::PIECE),
            quantity: Quantity(1_000_000),
            unit_price: Some(Money(799)),
        },
    ];
    let mut o = op(ReceiptKind::Sale, vec![bundle]);
    o.cash = Some(Money(3998));
    let r = render(&o, &ctx()).unwrap();
    // Weights 6.00 : 6.00 : 7.99 of 39.98: 12.00, 12.00, 15.98.
    let lines: Vec<(&str, i64, i64, i64, u8)> = r
        .positions
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.quantity.0,
                p.price.0,
                p.sum.0,
                p.object.0,
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("Тарелка", 8_000_000, 150, 1200, 1),
            ("Уголь", 3_000_000, 400, 1200, 1),
            ("Сборка", 2_000_000, 799, 1598, 4),
        ]
    );
    assert_eq!(r.total(), Some(Money(3998)));
    assert_eq!(r.positions[1].measure, Some(kkt::MeasureUnit::KILOGRAM));
    assert!(r.positions.iter().all(|p| p.vat == VatRate::Vat20));

    // Without every component's price, quantities set the shares.
    o.positions[0].components[2].unit_price = None;
    // 39.98 × 4 / 6.5, × 1.5 / 6.5, × 1 / 6.5 → 24.60, 9.23, 6.15; each
    // printed as exact lines (24.60 over 8 plates: 4 × 3.07 + 4 × 3.08).
    let r = render(&o, &ctx()).unwrap();
    let share = |name: &str| -> i64 {
        r.positions
            .iter()
            .filter(|p| p.name == name)
            .map(|p| p.sum.0)
            .sum()
    };
    assert_eq!(
        (share("Тарелка"), share("Уголь"), share("Сборка")),
        (2460, 923, 615)
    );
    for p in &r.positions {
        assert_eq!(p.price.0 * p.quantity.0 / Quantity::SCALE, p.sum.0, "{p:?}");
    }
}

/// A position sold in packs (`pack`, as in the API's samples: a box «ящ» of
/// 10) is counted in base units by the cloud: quantity 20 at 2.00 is two
/// boxes of 10 pieces, printed as 20 pieces at 2.00, sum 40.00 — the
/// quantity and the price per the same unit, the sum exact.
#[test]
fn packs_print_in_base_units() {
    use crate::cloud::models::parse_operation;
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("../worker/samples/retaildemand.json")).unwrap();
    v["positions"] = serde_json::json!([{
        "assortment": { "meta": { "href": "https://online.moysklad.ru/api/posap/1.0/entity/product/81fdf852-7c21-11e6-8a84-bae500000068" } },
        "quantity": 20, "price": 200, "discount": 0, "vat": 20,
        "pack": { "id": "5ae9e6b5-7b95-11e9-ac12-000b000000ac", "name": "ящ", "quantity": 10, "barcode": "2000000000016" }
    }]);
    v["cashSum"] = serde_json::json!(4000);
    v["noCashSum"] = serde_json::json!(0);
    for key in [
        "prepaymentCash",
        "prepaymentNoCash",
        "prepaymentQrSum",
        "qrSum",
    ] {
        v.as_object_mut().unwrap().remove(key);
    }
    let op = parse_operation(v.to_string().as_bytes()).unwrap();
    let r = render(&OperationInput::from_cloud(&op), &ctx()).unwrap();
    assert_eq!(r.positions.len(), 1);
    let p = &r.positions[0];
    assert_eq!(
        (p.quantity, p.price, p.sum),
        (Quantity(20_000_000), Money(200), Money(4000))
    );
}
