//! Logs -> `lending_events` rows and `oracle_rounds`, by the role of the
//! emitting contract and the event's topic hash (alloy `SolEvent` decoding
//! of the definitions in [`super::abi`]).

use alloy_primitives::{Address, B256, I256, U256};
use alloy_sol_types::{SolCall, SolEvent};
use shortfall_core::{LendingEvent, LendingKind, Micros, OracleRound, Wad};

use super::abi::{aave_v2, aave_v3, chainlink, compound_v2, maker};
use super::logs::RawLog;
use super::registry::{Contract, Registry, Role};

/// What one log became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Lending(Box<LendingEvent>),
    Round(OracleRound),
    /// Not a contract of the registry, or not an event decoded for its role.
    Unknown,
    /// A known event that cannot be a row (why).
    Rejected(String),
}

/// Amounts beyond u128 do not fit the tables.
fn small(v: U256, what: &str) -> Result<u128, String> {
    u128::try_from(v).map_err(|_| format!("{what} {v} does not fit 128 bits"))
}

fn addr(a: &Address) -> String {
    format!("{a:#x}")
}

/// `bytes32` ilk (`ETH-A` padded with zeros) as text.
fn ilk_text(ilk: &B256) -> String {
    let end = ilk.iter().position(|b| *b == 0).unwrap_or(32);
    String::from_utf8_lossy(&ilk[..end]).into_owned()
}

/// `ETH-A` -> `ETH`: Maker names collateral types after their gem.
fn gem_of(ilk: &str) -> String {
    ilk.split('-').next().unwrap_or(ilk).to_string()
}

struct Ctx<'a> {
    log: &'a RawLog,
    contract: &'a Contract,
    reg: &'a Registry,
}

impl Ctx<'_> {
    fn event(&self, kind: LendingKind, account: &str, asset: &str) -> LendingEvent {
        let market = self
            .contract
            .market
            .clone()
            .unwrap_or_else(|| addr(&self.log.address));
        let mut e = LendingEvent::new(
            Micros(0),
            self.contract.role.protocol(),
            &market,
            kind,
            account,
            asset,
        );
        e.block = i64::try_from(self.log.block).ok();
        e.tx_index = self.log.tx_index.and_then(|v| i64::try_from(v).ok());
        e.log_index = i64::try_from(self.log.log_index).ok();
        e.tx_hash = self.log.tx_hash.map(|h| format!("{h:#x}"));
        e
    }

    /// An event on an Aave reserve: asset symbol and amount from the token list.
    fn aave(
        &self,
        kind: LendingKind,
        account: &Address,
        reserve: &Address,
        amount: U256,
    ) -> Result<LendingEvent, String> {
        let (symbol, decimals) = self.reg.token(reserve);
        let mut e = self.event(kind, &addr(account), &symbol);
        set_amount(&mut e.amount, &mut e.amount_raw, amount, decimals, "amount")?;
        Ok(e)
    }

    /// An event of a cToken: the underlying from the contracts file.
    fn compound(
        &self,
        kind: LendingKind,
        account: &Address,
        amount: U256,
    ) -> Result<LendingEvent, String> {
        let c = self.contract;
        let mut e = self.event(kind, &addr(account), c.underlying.as_deref().unwrap_or("?"));
        set_amount(
            &mut e.amount,
            &mut e.amount_raw,
            amount,
            c.underlying_decimals,
            "amount",
        )?;
        Ok(e)
    }
}

fn set_amount(
    amount: &mut Option<Wad>,
    raw: &mut Option<u128>,
    v: U256,
    decimals: Option<u32>,
    what: &str,
) -> Result<(), String> {
    let r = small(v, what)?;
    *raw = Some(r);
    *amount = match (decimals, i128::try_from(r)) {
        (Some(d), Ok(x)) => Wad::from_base_units(x, d)
            .ok()
            .filter(|w| w.0 < 10i128.pow(38)),
        _ => None,
    };
    Ok(())
}

/// A fixed-point integer with `scale` decimals as a wad (Maker rad = 45, ray = 27).
fn scaled(v: U256, scale: u32, what: &str) -> Result<Wad, String> {
    let div = U256::from(10u8).pow(U256::from(scale.saturating_sub(18)));
    let w = small(v / div, what)?;
    i128::try_from(w)
        .map(Wad)
        .map_err(|_| format!("{what} out of range"))
}

/// Decodes one log.
pub fn decode(log: &RawLog, reg: &Registry) -> Decoded {
    let Some(contract) = reg.contracts.get(&log.address) else {
        return Decoded::Unknown;
    };
    let Some(topic0) = log.topics.first() else {
        return Decoded::Unknown;
    };
    let c = Ctx { log, contract, reg };
    let r = match contract.role {
        Role::AaveV2Pool => aave_v2_event(&c, topic0),
        Role::AaveV3Pool => aave_v3_event(&c, topic0),
        Role::CompoundV2Ctoken => compound_event(&c, topic0),
        Role::MakerCat | Role::MakerDog | Role::MakerFlip | Role::MakerClip => {
            maker_event(&c, topic0)
        }
        Role::ChainlinkAggregator => chainlink_event(&c, topic0),
    };
    match r {
        Some(Ok(d)) => d,
        Some(Err(why)) => Decoded::Rejected(why),
        None => Decoded::Unknown,
    }
}

/// Decodes `E` from the log, or explains why it does not decode.
fn ev<E: SolEvent>(log: &RawLog) -> Result<E, String> {
    E::decode_raw_log(log.topics.iter().copied(), &log.data)
        .map_err(|e| format!("{} does not decode: {e}", E::SIGNATURE))
}

fn lend(e: LendingEvent) -> Result<Decoded, String> {
    Ok(Decoded::Lending(Box::new(e)))
}

/// Events both Aave pools share.
fn aave_common(c: &Ctx, t: &B256) -> Option<Result<Decoded, String>> {
    let r = match *t {
        aave_v2::Withdraw::SIGNATURE_HASH => (|| {
            let x: aave_v2::Withdraw = ev(c.log)?;
            lend(c.aave(LendingKind::Withdraw, &x.user, &x.reserve, x.amount)?)
        })(),
        aave_v2::LiquidationCall::SIGNATURE_HASH => (|| {
            let x: aave_v2::LiquidationCall = ev(c.log)?;
            let mut e = c.aave(
                LendingKind::Liquidation,
                &x.user,
                &x.debtAsset,
                x.debtToCover,
            )?;
            let (sym, dec) = c.reg.token(&x.collateralAsset);
            set_amount(
                &mut e.collateral_amount,
                &mut e.collateral_amount_raw,
                x.liquidatedCollateralAmount,
                dec,
                "liquidatedCollateralAmount",
            )?;
            e.collateral_asset = Some(sym);
            e.liquidator = Some(addr(&x.liquidator));
            lend(e)
        })(),
        aave_v2::ReserveDataUpdated::SIGNATURE_HASH => (|| {
            let x: aave_v2::ReserveDataUpdated = ev(c.log)?;
            let (sym, _) = c.reg.token(&x.reserve);
            let mut e = c.event(LendingKind::IndexUpdate, "", &sym);
            e.liquidity_index_raw = Some(small(x.liquidityIndex, "liquidityIndex")?);
            e.borrow_index_raw = Some(small(x.variableBorrowIndex, "variableBorrowIndex")?);
            e.liquidity_rate_raw = Some(small(x.liquidityRate, "liquidityRate")?);
            e.borrow_rate_raw = Some(small(x.variableBorrowRate, "variableBorrowRate")?);
            lend(e)
        })(),
        _ => return None,
    };
    Some(r)
}

fn aave_v2_event(c: &Ctx, t: &B256) -> Option<Result<Decoded, String>> {
    let r = match *t {
        aave_v2::Deposit::SIGNATURE_HASH => (|| {
            let x: aave_v2::Deposit = ev(c.log)?;
            lend(c.aave(LendingKind::Supply, &x.onBehalfOf, &x.reserve, x.amount)?)
        })(),
        aave_v2::Borrow::SIGNATURE_HASH => (|| {
            let x: aave_v2::Borrow = ev(c.log)?;
            lend(c.aave(LendingKind::Borrow, &x.onBehalfOf, &x.reserve, x.amount)?)
        })(),
        aave_v2::Repay::SIGNATURE_HASH => (|| {
            let x: aave_v2::Repay = ev(c.log)?;
            lend(c.aave(LendingKind::Repay, &x.user, &x.reserve, x.amount)?)
        })(),
        _ => return aave_common(c, t),
    };
    Some(r)
}

fn aave_v3_event(c: &Ctx, t: &B256) -> Option<Result<Decoded, String>> {
    let r = match *t {
        aave_v3::Supply::SIGNATURE_HASH => (|| {
            let x: aave_v3::Supply = ev(c.log)?;
            lend(c.aave(LendingKind::Supply, &x.onBehalfOf, &x.reserve, x.amount)?)
        })(),
        aave_v3::Borrow::SIGNATURE_HASH => (|| {
            let x: aave_v3::Borrow = ev(c.log)?;
            lend(c.aave(LendingKind::Borrow, &x.onBehalfOf, &x.reserve, x.amount)?)
        })(),
        aave_v3::Repay::SIGNATURE_HASH => (|| {
            let x: aave_v3::Repay = ev(c.log)?;
            lend(c.aave(LendingKind::Repay, &x.user, &x.reserve, x.amount)?)
        })(),
        aave_v3::DeficitCreated::SIGNATURE_HASH => (|| {
            let x: aave_v3::DeficitCreated = ev(c.log)?;
            lend(c.aave(LendingKind::Deficit, &x.user, &x.debtAsset, x.amountCreated)?)
        })(),
        _ => return aave_common(c, t),
    };
    Some(r)
}

fn compound_event(c: &Ctx, t: &B256) -> Option<Result<Decoded, String>> {
    use compound_v2 as cv;
    let r = match *t {
        cv::Mint::SIGNATURE_HASH => (|| {
            let x: cv::Mint = ev(c.log)?;
            let mut e = c.compound(LendingKind::Supply, &x.minter, x.mintAmount)?;
            e.shares_raw = Some(small(x.mintTokens, "mintTokens")?);
            lend(e)
        })(),
        cv::Redeem::SIGNATURE_HASH => (|| {
            let x: cv::Redeem = ev(c.log)?;
            let mut e = c.compound(LendingKind::Withdraw, &x.redeemer, x.redeemAmount)?;
            e.shares_raw = Some(small(x.redeemTokens, "redeemTokens")?);
            lend(e)
        })(),
        cv::Borrow::SIGNATURE_HASH => (|| {
            let x: cv::Borrow = ev(c.log)?;
            let mut e = c.compound(LendingKind::Borrow, &x.borrower, x.borrowAmount)?;
            e.account_balance_raw = Some(small(x.accountBorrows, "accountBorrows")?);
            lend(e)
        })(),
        cv::RepayBorrow::SIGNATURE_HASH => (|| {
            let x: cv::RepayBorrow = ev(c.log)?;
            let mut e = c.compound(LendingKind::Repay, &x.borrower, x.repayAmount)?;
            e.account_balance_raw = Some(small(x.accountBorrows, "accountBorrows")?);
            lend(e)
        })(),
        cv::LiquidateBorrow::SIGNATURE_HASH => (|| {
            let x: cv::LiquidateBorrow = ev(c.log)?;
            let mut e = c.compound(LendingKind::Liquidation, &x.borrower, x.repayAmount)?;
            // The collateral is the cToken's underlying; seized as cTokens.
            e.collateral_asset = Some(
                c.reg
                    .contracts
                    .get(&x.cTokenCollateral)
                    .and_then(|k| k.underlying.clone())
                    .unwrap_or_else(|| addr(&x.cTokenCollateral)),
            );
            e.shares_raw = Some(small(x.seizeTokens, "seizeTokens")?);
            e.liquidator = Some(addr(&x.liquidator));
            lend(e)
        })(),
        cv::AccrueInterest::SIGNATURE_HASH => (|| {
            let x: cv::AccrueInterest = ev(c.log)?;
            let mut e = c.event(
                LendingKind::IndexUpdate,
                "",
                c.contract.underlying.as_deref().unwrap_or("?"),
            );
            e.borrow_index_raw = Some(small(x.borrowIndex, "borrowIndex")?);
            lend(e)
        })(),
        cv::v1::AccrueInterest::SIGNATURE_HASH => (|| {
            let x: cv::v1::AccrueInterest = ev(c.log)?;
            let mut e = c.event(
                LendingKind::IndexUpdate,
                "",
                c.contract.underlying.as_deref().unwrap_or("?"),
            );
            e.borrow_index_raw = Some(small(x.borrowIndex, "borrowIndex")?);
            lend(e)
        })(),
        _ => return None,
    };
    Some(r)
}

/// A Maker event on the DAI side of an ilk: `dai` in rad (45 decimals),
/// collateral `gem` in wad, the auction id.
fn maker(
    c: &Ctx,
    kind: LendingKind,
    account: &Address,
    ilk: &str,
    (dai, dai_what): (U256, &str),
    (gem, gem_what): (U256, &str),
    id: U256,
) -> Result<LendingEvent, String> {
    let mut e = c.event(kind, &addr(account), "DAI");
    e.market = ilk.to_string();
    e.amount = Some(scaled(dai, 45, dai_what)?);
    e.collateral_asset = Some(gem_of(ilk));
    e.collateral_amount = Some(scaled(gem, 18, gem_what)?);
    e.auction_id = Some(small(id, "id")?);
    Ok(e)
}

fn maker_event(c: &Ctx, t: &B256) -> Option<Result<Decoded, String>> {
    let ilk = c.contract.ilk.clone().unwrap_or_default();
    let r = match (c.contract.role, *t) {
        // Cat.Bite: tab is the debt plus penalty to raise.
        (Role::MakerCat, maker::Bite::SIGNATURE_HASH) => (|| {
            let x: maker::Bite = ev(c.log)?;
            let k = LendingKind::Liquidation;
            lend(maker(
                c,
                k,
                &x.urn,
                &ilk_text(&x.ilk),
                (x.tab, "tab"),
                (x.ink, "ink"),
                x.id,
            )?)
        })(),
        (Role::MakerDog, maker::Bark::SIGNATURE_HASH) => (|| {
            let x: maker::Bark = ev(c.log)?;
            let k = LendingKind::Liquidation;
            lend(maker(
                c,
                k,
                &x.urn,
                &ilk_text(&x.ilk),
                (x.due, "due"),
                (x.ink, "ink"),
                x.id,
            )?)
        })(),
        (Role::MakerFlip, maker::flip::Kick::SIGNATURE_HASH) => (|| {
            let x: maker::flip::Kick = ev(c.log)?;
            let k = LendingKind::AuctionStart;
            lend(maker(
                c,
                k,
                &x.usr,
                &ilk,
                (x.tab, "tab"),
                (x.lot, "lot"),
                x.id,
            )?)
        })(),
        (Role::MakerClip, maker::clip::Kick::SIGNATURE_HASH) => (|| {
            let x: maker::clip::Kick = ev(c.log)?;
            let k = LendingKind::AuctionStart;
            let mut e = maker(c, k, &x.usr, &ilk, (x.tab, "tab"), (x.lot, "lot"), x.id)?;
            e.liquidator = Some(addr(&x.kpr));
            lend(e)
        })(),
        (Role::MakerClip, maker::clip::Take::SIGNATURE_HASH) => (|| {
            let x: maker::clip::Take = ev(c.log)?;
            // owe: DAI paid (rad); collateral bought = owe / price (rad / ray = wad).
            let bought = if x.price.is_zero() {
                U256::ZERO
            } else {
                x.owe / x.price
            };
            let k = LendingKind::AuctionBid;
            lend(maker(
                c,
                k,
                &x.usr,
                &ilk,
                (x.owe, "owe"),
                (bought, "owe / price"),
                x.id,
            )?)
        })(),
        (Role::MakerFlip, _) => return flip_note(c, t, &ilk),
        _ => return None,
    };
    Some(r)
}

/// Flip `tend`/`dent`/`deal` as dss `LogNote`s: topic0 holds the selector,
/// topic2 the auction id, and `data` the call data (for the bid).
fn flip_note(c: &Ctx, t: &B256, ilk: &str) -> Option<Result<Decoded, String>> {
    let sel: [u8; 4] = t[..4].try_into().ok()?;
    if t[4..].iter().any(|b| *b != 0) {
        return None;
    }
    let kind = match sel {
        maker::tendCall::SELECTOR | maker::dentCall::SELECTOR => LendingKind::AuctionBid,
        maker::dealCall::SELECTOR => LendingKind::AuctionEnd,
        _ => return None,
    };
    Some((|| {
        let x: maker::LogNote = ev(c.log)?;
        let usr = Address::from_word(x.usr.into_word());
        let id = U256::from_be_bytes(x.arg1.0);
        if kind == LendingKind::AuctionBid {
            // tend/dent(id, lot, bid): lot in wad, bid in rad.
            let call = maker::tendCall::abi_decode(&x.data)
                .map_err(|e| format!("LogNote call data does not decode: {e}"))?;
            return lend(maker(
                c,
                kind,
                &usr,
                ilk,
                (call.bid, "bid"),
                (call.lot, "lot"),
                id,
            )?);
        }
        let mut e = c.event(kind, &addr(&usr), "DAI");
        e.market = ilk.to_string();
        e.auction_id = Some(small(id, "id")?);
        lend(e)
    })())
}

fn chainlink_event(c: &Ctx, t: &B256) -> Option<Result<Decoded, String>> {
    if *t != chainlink::AnswerUpdated::SIGNATURE_HASH {
        return None;
    }
    Some((|| {
        let x: chainlink::AnswerUpdated = ev(c.log)?;
        let k = c.contract;
        if x.current <= I256::ZERO {
            return Ok(Decoded::Rejected(format!("answer {} <= 0", x.current)));
        }
        let answer = i128::try_from(x.current).map_err(|_| "answer out of range".to_string())?;
        let round = small(x.roundId, "roundId")?;
        let updated = i64::try_from(small(x.updatedAt, "updatedAt")?)
            .map_err(|_| "updatedAt out of range".to_string())?;
        Ok(Decoded::Round(OracleRound {
            ts: Micros::from_secs(updated),
            feed: k.feed.clone().unwrap_or_default(),
            base: k.base.clone().unwrap_or_default(),
            quote: k.quote.clone().unwrap_or_default(),
            round_id: k.phase.map_or(round, |p| (u128::from(p) << 64) | round),
            phase_id: k.phase.map(i64::from),
            aggregator_round_id: i64::try_from(round).ok(),
            answer: Wad::from_base_units(answer, k.decimals.unwrap_or(8))
                .map_err(|e| format!("answer: {e}"))?,
            started_at: None,
            answered_in_round: None,
            stale: false,
            block: i64::try_from(c.log.block).ok(),
        }))
    })())
}

/// Helper for tests and benches: the ABI encoding of an event as a log.
pub fn encode_log<E: SolEvent>(e: &E) -> (Vec<B256>, Vec<u8>) {
    let d = e.encode_log_data();
    (d.topics().to_vec(), d.data.to_vec())
}
