//! The observed-auctions report: sections from the forensics, untrusted
//! text escaped, byte-stable output.

use shortfall_core::{Micros, ObservedAuction, Wad};
use shortfall_forensics::auctions::{calls, maker};
use shortfall_report::{build_auctions, AuctionsOptions, Templates};
use shortfall_store::manifest::Manifest;

const EVIL: &str = "<script>alert(1)</script>";

fn w(s: &str) -> Wad {
    Wad::parse_decimal(s, false).unwrap()
}

fn row(protocol: &str, ts: &str, price: &str, lot: &str) -> ObservedAuction {
    let flip = protocol == "maker";
    ObservedAuction {
        ts: Micros::parse(ts).unwrap(),
        ts_precision_secs: 1,
        block: Some(1),
        tx_hash: None,
        log_index: Some(if flip { 0 } else { 7 }),
        source_ref: "x.csv:2".into(),
        protocol: protocol.into(),
        market: if flip { "ETH-A" } else { "cDAI" }.into(),
        mechanism: if flip { "flip" } else { "fixed_spread" }.into(),
        state: if flip { "dealt" } else { "executed" }.into(),
        auction_id: flip.then_some(1),
        account: Some(EVIL.into()),
        liquidator: Some(EVIL.into()),
        collateral_asset: if flip { "ETH".into() } else { EVIL.into() },
        collateral_amount: w(lot),
        debt_asset: "DAI".into(),
        debt_amount: w(price).checked_mul_down(w(lot)).unwrap(),
        price_paid: Some(w(price)),
        bid_count: Some(1),
        last_bid_ts: None,
        last_bid_block: None,
        last_bid_tx: None,
        gas_price_gwei: Some(w("100")),
        gas_cost_usd: None,
        oracle_price_usd: Some(w("120")),
        market_price_usd: Some(w("100")),
        debt_price_usd: Some(w("1.05")),
        rounded: !flip,
        amount_rel_error: w("0.0005"),
        note: String::new(),
    }
}

#[test]
fn renders_maker_and_calls_escaped_and_stable() {
    let rows = vec![
        row("maker", "2020-03-12T10:05:00Z", "0", "50"),
        row("maker", "2020-03-12T10:40:00Z", "95", "10"),
        row("compound_v2", "2020-11-26T08:55:00Z", "1", "46140000"),
    ];
    let m = maker(&rows, None);
    let c = calls(&rows, "compound_v2");
    let opts = AuctionsOptions {
        dataset: format!("ds {EVIL}"),
        timestamp: None,
        top_n: 5,
        command: "shortfall forensics ds".into(),
        window: None,
    };
    let report = build_auctions(Some(&m), &[c], &Manifest::default(), &opts);
    let t = Templates::builtin().unwrap();
    let html = t.render_auctions(&report).unwrap();
    assert!(!html.contains(EVIL), "unescaped text");
    assert!(html.contains("&lt;script&gt;"));
    assert!(html.contains("Zero bids (below 1.00 DAI per ETH)"));
    assert!(html.contains("1 (50.00%)"));
    assert!(html.contains("46,140,000.0000"));
    assert!(html.contains("Liquidation calls: compound_v2 (DAI repaid)"));
    assert!(html.contains("not computed here"));
    assert_eq!(html, t.render_auctions(&report).unwrap());
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("\"zero_bid_share\""));
}
