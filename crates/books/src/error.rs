//! Errors of a reconstruction: input that cannot be read as the protocols'
//! accounting needs it. Events that read fine but cannot be applied (a
//! withdrawal larger than the known balance) are not errors: they are listed
//! in the reconciliation.

/// Bad input, naming what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BooksError {
    #[error(
        "decimals of {protocol} {market} {asset} unknown: no reserves row and no event with both \
         amount and amount_raw to infer them from"
    )]
    UnknownDecimals {
        protocol: String,
        market: String,
        asset: String,
    },
    #[error(
        "decimals of {protocol} {market} {asset} inconsistent: events imply both {a} and {b} \
         (first at {at})"
    )]
    InconsistentDecimals {
        protocol: String,
        market: String,
        asset: String,
        a: u32,
        b: u32,
        at: String,
    },
    #[error("{at}: {what}")]
    BadEvent { at: String, what: String },
    #[error("snapshot at block {block}: {at} has no block number")]
    NoBlock { block: i64, at: String },
    #[error("snapshot {snapshot}: no lending event at or before it")]
    NothingBefore { snapshot: String },
    #[error("arithmetic overflow in {what}")]
    Overflow { what: String },
}
