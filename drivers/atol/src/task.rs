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

/// Marking code of a position (FFD 1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImcParams {
    /// The code as scanned.
    pub imc: String,
    /// Planned status of the item (tag 2003): 1 piece sold, 3 piece returned.
    pub item_estimated_status: ItemEstimatedStatus,
    /// Mode of the code (tag 2102), 0 = code as read.
    #[serde(default)]
    pub imc_mode_processing: u8,
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
