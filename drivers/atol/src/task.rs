//! Typed ATOL JSON tasks: what the host asks the driver (or Web-server) to
//! do. Property names are camelCase as ATOL spells them; unknown properties
//! in a task are ignored when reading one (the stand-in does that).

use crate::decimal::{Rubles, Units};
use serde::{Deserialize, Serialize};

/// One task of a Web-server request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Task {
    Sell(ReceiptTask),
    SellReturn(ReceiptTask),
    Buy(ReceiptTask),
    BuyReturn(ReceiptTask),
    OpenShift(OperatorTask),
    CloseShift(OperatorTask),
    ReportX(OperatorTask),
    CashIn(CashTask),
    CashOut(CashTask),
    ContinuePrint {},
    GetDeviceInfo {},
    GetDeviceStatus {},
    GetFnInfo {},
    GetFnStatus {},
    GetShiftStatus {},
    OfdExchangeStatus {},
    GetFnDocument(FnDocumentQuery),
    /// A non-fiscal print-out (used for the test page).
    NonFiscal(NonFiscalTask),
    /// FFD 1.2: the FN (and, online, the OISM) checks one marking code.
    BeginMarkingCodeValidation(MarkingCheckTask),
    /// FFD 1.2: whether the check begun last is done, and its verdict.
    GetMarkingCodeValidationStatus {},
    /// FFD 1.2: the checked code goes into the next receipt.
    AcceptMarkingCode {},
    /// FFD 1.2: the checked code is dropped.
    DeclineMarkingCode {},
    /// FFD 1.2: abandons a check in progress.
    CancelMarkingCodeValidation {},
    /// FFD 1.2: forgets every accepted code not yet in a receipt.
    ClearMarkingCodeValidationResult {},
}

impl Task {
    /// The task's `type` string, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Task::Sell(_) => "sell",
            Task::SellReturn(_) => "sellReturn",
            Task::Buy(_) => "buy",
            Task::BuyReturn(_) => "buyReturn",
            Task::OpenShift(_) => "openShift",
            Task::CloseShift(_) => "closeShift",
            Task::ReportX(_) => "reportX",
            Task::CashIn(_) => "cashIn",
            Task::CashOut(_) => "cashOut",
            Task::ContinuePrint {} => "continuePrint",
            Task::GetDeviceInfo {} => "getDeviceInfo",
            Task::GetDeviceStatus {} => "getDeviceStatus",
            Task::GetFnInfo {} => "getFnInfo",
            Task::GetFnStatus {} => "getFnStatus",
            Task::GetShiftStatus {} => "getShiftStatus",
            Task::OfdExchangeStatus {} => "ofdExchangeStatus",
            Task::GetFnDocument(_) => "getFnDocument",
            Task::NonFiscal(_) => "nonFiscal",
            Task::BeginMarkingCodeValidation(_) => "beginMarkingCodeValidation",
            Task::GetMarkingCodeValidationStatus {} => "getMarkingCodeValidationStatus",
            Task::AcceptMarkingCode {} => "acceptMarkingCode",
            Task::DeclineMarkingCode {} => "declineMarkingCode",
            Task::CancelMarkingCodeValidation {} => "cancelMarkingCodeValidation",
            Task::ClearMarkingCodeValidationResult {} => "clearMarkingCodeValidationResult",
        }
    }
}

/// Cashier (tags 1021, 1203).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operator {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vatin: Option<String>,
}

/// `openShift`, `closeShift`, `reportX`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorTask {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Operator>,
}

/// `cashIn`, `cashOut`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CashTask {
    pub cash_sum: Rubles,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Operator>,
}

/// `getFnDocument`: one document from the FN archive by number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FnDocumentQuery {
    pub fiscal_document_number: u32,
}

/// `nonFiscal`: text lines only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonFiscalTask {
    pub items: Vec<Item>,
}

/// Tax system of the receipt (tag 1055).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TaxationType {
    Osn,
    UsnIncome,
    UsnIncomeOutcome,
    Envd,
    Esn,
    Patent,
}

/// Buyer (tag 1008 and FFD 1.2 buyer data).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_or_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vatin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `sell`, `sellReturn`, `buy`, `buyReturn`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptTask {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxation_type: Option<TaxationType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Operator>,
    /// True: the receipt is sent electronically and not printed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub electronically: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_info: Option<ClientInfo>,
    pub items: Vec<Item>,
    pub payments: Vec<Payment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Rubles>,
}

/// One item of a receipt: a position or a printed line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Item {
    Position(PositionItem),
    Text(TextItem),
}

/// Text alignment of a `text` item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Alignment {
    Left,
    Center,
    Right,
}

/// A non-fiscal line printed inside the receipt (header, footer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextItem {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alignment: Option<Alignment>,
}

/// A fiscal position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionItem {
    pub name: String,
    pub price: Rubles,
    pub quantity: Units,
    pub amount: Rubles,
    /// Measure of quantity (tag 2108), the FFD code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurement_unit: Option<u8>,
    pub payment_method: PaymentMethod,
    pub payment_object: PaymentObject,
    pub tax: Tax,
    /// Marking code (FFD 1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imc_params: Option<ImcParams>,
}

/// A marking code and what is about to happen to its item: the part a
/// position's `imcParams` and a code check (`beginMarkingCodeValidation`)
/// share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkedCode {
    /// Kind of code; `auto` lets the driver tell from the code itself.
    #[serde(default = "imc_type_auto")]
    pub imc_type: String,
    /// The code as scanned, in Base64 (ATOL carries the raw bytes so that
    /// the GS separators of a crypto tail survive JSON).
    pub imc: String,
    /// Planned status of the item (tag 2003): 1 piece sold, 3 piece returned.
    pub item_estimated_status: ItemEstimatedStatus,
    /// Mode of the code (tag 2102), 0 = code as read.
    #[serde(default)]
    pub imc_mode_processing: u8,
}

/// Marking code of a position (FFD 1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImcParams {
    #[serde(flatten)]
    pub code: MarkedCode,
    /// The verdict of the code's check (tag 2106), as the check returned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_info_check_result: Option<ItemInfoCheckResult>,
}

fn imc_type_auto() -> String {
    "auto".to_string()
}

/// Encodes a scanned marking code for `imc`.
pub fn imc_base64(code: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(code.as_bytes())
}

/// Decodes an `imc` back to the scanned code; `None` when it is not
/// Base64 of UTF-8 text.
pub fn imc_decode(imc: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(imc).ok()?;
    String::from_utf8(bytes).ok()
}

/// `beginMarkingCodeValidation`: one code to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkingCheckTask {
    pub params: MarkingCheck,
}

/// What is checked: the code, and the units it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkingCheck {
    #[serde(flatten)]
    pub code: MarkedCode,
    /// Units of the item the code is on (one code, one unit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_units: Option<String>,
}

/// The verdict on a code (tag 2106), four flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemInfoCheckResult {
    /// The code was checked (by the FN and/or the OISM).
    #[serde(default)]
    pub imc_check_flag: bool,
    /// The code's crypto check passed.
    #[serde(default)]
    pub imc_check_result: bool,
    /// The OISM reported the item's status.
    #[serde(default)]
    pub imc_status_info: bool,
    /// The planned status is right for this item.
    #[serde(default)]
    pub imc_estimated_status_correct: bool,
    /// Checked offline only (no OISM answer).
    #[serde(default)]
    pub ecr_stand_alone_flag: bool,
}

impl ItemInfoCheckResult {
    /// From the bits of tag 2106.
    pub fn from_tag2106(bits: u8) -> Self {
        ItemInfoCheckResult {
            imc_check_flag: bits & 0x01 != 0,
            imc_check_result: bits & 0x02 != 0,
            imc_status_info: bits & 0x04 != 0,
            imc_estimated_status_correct: bits & 0x08 != 0,
            ecr_stand_alone_flag: false,
        }
    }
}

/// Planned status of a marked item (tag 2003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ItemEstimatedStatus {
    ItemPieceSold,
    ItemDryForSale,
    ItemPieceReturn,
    ItemDryReturn,
    ItemStatusUnknown,
}

/// Payment method of a position (tag 1214).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PaymentMethod {
    FullPrepayment,
    Prepayment,
    Advance,
    FullPayment,
    PartialPayment,
    Credit,
    CreditPayment,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 7] = [
        PaymentMethod::FullPrepayment,
        PaymentMethod::Prepayment,
        PaymentMethod::Advance,
        PaymentMethod::FullPayment,
        PaymentMethod::PartialPayment,
        PaymentMethod::Credit,
        PaymentMethod::CreditPayment,
    ];

    /// From the FFD tag 1214 value.
    pub fn from_ffd(m: kkt::PaymentMethod) -> Self {
        match m {
            kkt::PaymentMethod::FullPrepayment => PaymentMethod::FullPrepayment,
            kkt::PaymentMethod::PartialPrepayment => PaymentMethod::Prepayment,
            kkt::PaymentMethod::Advance => PaymentMethod::Advance,
            kkt::PaymentMethod::FullPayment => PaymentMethod::FullPayment,
            kkt::PaymentMethod::PartialPaymentAndCredit => PaymentMethod::PartialPayment,
            kkt::PaymentMethod::Credit => PaymentMethod::Credit,
            kkt::PaymentMethod::CreditPayment => PaymentMethod::CreditPayment,
        }
    }
}

/// Subject of a position (tag 1212), ATOL's names for the FFD codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PaymentObject {
    Commodity,
    Excise,
    Job,
    Service,
    GamblingBet,
    GamblingPrize,
    Lottery,
    LotteryPrize,
    IntellectualActivity,
    Payment,
    AgentCommission,
    Composite,
    Another,
    ProprietaryLaw,
    NonOperatingIncome,
    OtherContributions,
    MerchantTax,
    TouristTax,
    Deposit,
    Consumption,
    SoleProprietorCpiContributions,
    CpiContributions,
    SoleProprietorCmiContributions,
    CmiContributions,
    CsiContributions,
    CasinoPayment,
    FundsIssuance,
    ExciseWithoutMarking,
    ExciseWithMarking,
    CommodityWithoutMarking,
    CommodityWithMarking,
}

impl PaymentObject {
    /// Every name with its FFD tag 1212 code.
    pub const CODES: [(PaymentObject, u8); 31] = [
        (PaymentObject::Commodity, 1),
        (PaymentObject::Excise, 2),
        (PaymentObject::Job, 3),
        (PaymentObject::Service, 4),
        (PaymentObject::GamblingBet, 5),
        (PaymentObject::GamblingPrize, 6),
        (PaymentObject::Lottery, 7),
        (PaymentObject::LotteryPrize, 8),
        (PaymentObject::IntellectualActivity, 9),
        (PaymentObject::Payment, 10),
        (PaymentObject::AgentCommission, 11),
        (PaymentObject::Composite, 12),
        (PaymentObject::Another, 13),
        (PaymentObject::ProprietaryLaw, 14),
        (PaymentObject::NonOperatingIncome, 15),
        (PaymentObject::OtherContributions, 16),
        (PaymentObject::MerchantTax, 17),
        (PaymentObject::TouristTax, 18),
        (PaymentObject::Deposit, 19),
        (PaymentObject::Consumption, 20),
        (PaymentObject::SoleProprietorCpiContributions, 21),
        (PaymentObject::CpiContributions, 22),
        (PaymentObject::SoleProprietorCmiContributions, 23),
        (PaymentObject::CmiContributions, 24),
        (PaymentObject::CsiContributions, 25),
        (PaymentObject::CasinoPayment, 26),
        (PaymentObject::FundsIssuance, 27),
        (PaymentObject::ExciseWithoutMarking, 30),
        (PaymentObject::ExciseWithMarking, 31),
        (PaymentObject::CommodityWithoutMarking, 32),
        (PaymentObject::CommodityWithMarking, 33),
    ];

    /// From the FFD tag 1212 code; `None` for a code ATOL has no name for.
    pub fn from_ffd(code: u8) -> Option<Self> {
        Self::CODES
            .iter()
            .find(|(_, c)| *c == code)
            .map(|(o, _)| *o)
    }

    pub fn ffd_code(&self) -> u8 {
        Self::CODES
            .iter()
            .find(|(o, _)| o == self)
            .map(|(_, c)| *c)
            .unwrap_or(13)
    }
}

/// VAT of a position (`tax.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TaxType {
    None,
    Vat0,
    Vat5,
    Vat7,
    Vat10,
    Vat20,
    Vat22,
    Vat105,
    Vat107,
    Vat110,
    Vat120,
    Vat122,
}

impl TaxType {
    pub const ALL: [TaxType; 12] = [
        TaxType::None,
        TaxType::Vat0,
        TaxType::Vat5,
        TaxType::Vat7,
        TaxType::Vat10,
        TaxType::Vat20,
        TaxType::Vat22,
        TaxType::Vat105,
        TaxType::Vat107,
        TaxType::Vat110,
        TaxType::Vat120,
        TaxType::Vat122,
    ];

    pub fn from_rate(rate: kkt::VatRate) -> Self {
        use kkt::VatRate as V;
        match rate {
            V::NoVat => TaxType::None,
            V::Vat0 => TaxType::Vat0,
            V::Vat5 => TaxType::Vat5,
            V::Vat7 => TaxType::Vat7,
            V::Vat10 => TaxType::Vat10,
            V::Vat20 => TaxType::Vat20,
            V::Vat22 => TaxType::Vat22,
            V::Vat5_105 => TaxType::Vat105,
            V::Vat7_107 => TaxType::Vat107,
            V::Vat10_110 => TaxType::Vat110,
            V::Vat20_120 => TaxType::Vat120,
            V::Vat22_122 => TaxType::Vat122,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tax {
    #[serde(rename = "type")]
    pub kind: TaxType,
}

/// Payment kind of a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PaymentType {
    Cash,
    Electronically,
    Prepaid,
    Credit,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    #[serde(rename = "type")]
    pub kind: PaymentType,
    pub sum: Rubles,
}
