//! `masterkassa run --dry-run`: for onboarding a store. Polls each
//! MoySklad kassa's queue, renders and validates every operation exactly as
//! the daemon would, and shows the receipt it would print or the reason it
//! would reject it with. It never opens the printer, writes the journal,
//! or answers the cloud (no approve, no reject), so the real run later
//! sees the same queue.
//!
//! Names come from the catalogue as the daemon's would: each product is
//! asked about once (a targeted request) and kept in memory only, and the
//! store's `defaultTaxSystem` and receipt template apply as in the daemon.
//!
//! The cloud hands out the same operation until it is answered, so the
//! walk stops when an operation comes round again: with the cloud's
//! default (no lease) only the head of the queue is shown.

use crate::catalogue::{Catalogue, ProductLookup, Resolved};
use crate::cloud::{ClientConfig, CloudError, Limits, PosApi, PosClient, RateLimiter};
use crate::config::{CloudConfig, Config, KassaConfig};
use crate::receipt::{RenderContext, render};
use std::fmt::Write as _;

/// Most operations looked at per kassa.
const MAX_OPERATIONS: usize = 100;

/// What the dry run found, for the exit code.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub printable: usize,
    pub rejected: usize,
}

/// Walks every kassa's queue, writing the report to `out`.
pub async fn run(config: &Config, out: &mut String) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    for k in &config.kassas {
        let _ = writeln!(out, "Касса «{}»", k.name);
        match &k.cloud {
            CloudConfig::Moysklad(_) => walk(k, out, &mut tally).await?,
            CloudConfig::Kassatka(_) => {
                let _ = writeln!(out, "  пробный прогон для Кассатки не поддерживается");
            }
        }
    }
    let _ = writeln!(
        out,
        "\nИтого: будет напечатано {}, будет отклонено {}. Пробный прогон: ничего не напечатано, облаку ничего не отвечено.",
        tally.printable, tally.rejected
    );
    Ok(tally)
}

async fn walk(k: &KassaConfig, out: &mut String, tally: &mut Tally) -> anyhow::Result<()> {
    let CloudConfig::Moysklad(ms) = &k.cloud else {
        return Ok(());
    };
    let token = ms
        .token
        .load()
        .map_err(|e| anyhow::anyhow!("касса {}: токен: {e}", k.name))?;
    let api = PosClient::new(
        &ClientConfig::with_base_url(&ms.api_url),
        crate::cloud::Secret::new(token.expose().clone()),
        &ms.cashier_uid,
        RateLimiter::new(Limits::moysklad()),
    )?;
    let store = api.settings_retailstore().await.map_err(|e| {
        anyhow::anyhow!("касса {}: настройки точки продаж не прочитаны: {e}", k.name)
    })?;
    let org_id = match &ms.org_id {
        Some(id) => id.clone(),
        None => store
            .organization
            .id
            .clone()
            .unwrap_or_else(|| store.id.clone()),
    };
    let store = crate::catalogue::sync::store_settings(&store);
    let settings = super::run::settings(k);
    let (header, footer) = if ms.receipt_template {
        (store.header.clone(), store.footer.clone())
    } else {
        (Vec::new(), Vec::new())
    };
    let ctx = RenderContext {
        // Not read: the device is not opened in a dry run.
        device_tax_systems: Vec::new(),
        default_tax_system: settings.default_tax_system.or(store.default_tax_system),
        cashier: Some(settings.cashier.clone()),
        header,
        footer,
    };
    let api: std::sync::Arc<dyn PosApi> = std::sync::Arc::new(api);
    let mut lookup = ProductLookup::new(
        api.clone(),
        std::sync::Arc::new(Catalogue::in_memory()),
        ms.unknown_product,
    );
    lookup.bundles = ms.bundles;
    let mut seen = Vec::new();
    for _ in 0..MAX_OPERATIONS {
        let (key, kind, outcome) = match api.poll(&org_id).await {
            Ok(None) => {
                let _ = writeln!(out, "  очередь пуста");
                return Ok(());
            }
            Ok(Some(op)) => {
                let key = op.sync_id().unwrap_or(&op.meta.href).to_string();
                let kind = op.kind.entity().to_string();
                let outcome = match crate::worker::moysklad::source_operation(&op) {
                    Some(so) => match so.input {
                        Ok(input) => match lookup.resolve(&key, input).await {
                            Resolved::Ready(input) => render(&input, &ctx).map_err(|r| r.0),
                            Resolved::Reject(r) => Err(r.0),
                            Resolved::Wait(why) => Err(format!("ждала бы облако: {why}")),
                        },
                        Err(r) => Err(r.0),
                    },
                    None => Err("нет syncId".into()),
                };
                (key, kind, outcome)
            }
            Err(CloudError::BadOperation { meta, source }) => {
                let key = meta
                    .as_deref()
                    .and_then(crate::worker::moysklad::unreadable_key)
                    .unwrap_or_default();
                let kind = meta
                    .as_ref()
                    .and_then(|m| m.entity().map(str::to_string))
                    .unwrap_or_else(|| "operation".into());
                let reason = format!(
                    "Ошибка данных: операция не читается ({})",
                    source.reason_ru()
                );
                (key, kind, Err(reason))
            }
            Err(e) => anyhow::bail!("касса {}: опрос очереди не удался: {e}", k.name),
        };
        if seen.contains(&key) {
            let _ = writeln!(
                out,
                "  (облако снова выдало {key}: оно ждёт ответа на эту операцию, дальше очередь не видна)"
            );
            return Ok(());
        }
        match outcome {
            Ok(receipt) => {
                tally.printable += 1;
                describe(out, &key, &kind, &receipt);
            }
            Err(reason) => {
                tally.rejected += 1;
                let _ = writeln!(out, "  {kind} {key}: БУДЕТ ОТКЛОНЕНА: {reason}");
            }
        }
        seen.push(key);
    }
    Ok(())
}

/// The receipt that would be printed.
fn describe(out: &mut String, key: &str, kind: &str, r: &kkt::Receipt) {
    let total = r
        .total()
        .map(|t| t.to_string())
        .unwrap_or_else(|| "?".into());
    let _ = writeln!(
        out,
        "  {kind} {key}: будет напечатан чек «{}», {}, итого {total}",
        kind_ru(r.kind),
        r.tax_system.name_ru()
    );
    for p in &r.positions {
        let _ = writeln!(
            out,
            "    {} × {} по {} = {}",
            p.name, p.quantity, p.price, p.sum
        );
    }
    let pay = &r.payments;
    let _ = writeln!(
        out,
        "    оплата: наличными {}, безналичными {}, зачёт аванса {}, в кредит {}",
        pay.cash, pay.electronic, pay.prepayment_offset, pay.credit
    );
    for line in r.header.iter().chain(&r.footer) {
        let _ = writeln!(out, "    текст на чеке: {line}");
    }
    if let Some(c) = &r.buyer_contact {
        let _ = writeln!(out, "    электронный чек: {c}");
    }
}

fn kind_ru(kind: kkt::ReceiptKind) -> &'static str {
    match kind {
        kkt::ReceiptKind::Sale => "приход",
        kkt::ReceiptKind::SaleReturn => "возврат прихода",
        kkt::ReceiptKind::Prepayment => "предоплата",
        kkt::ReceiptKind::PrepaymentReturn => "возврат предоплаты",
    }
}
