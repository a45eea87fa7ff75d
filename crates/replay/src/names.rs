//! Account ids and markets of the book, packed for the replay: the event
//! log names an account at every health crossing and liquidation, and
//! reading the id from the book's own `String`s costs two cache misses each
//! time (the position, then its heap-allocated id).

use shortfall_core::Book;

use crate::legs::prefetch;

#[derive(Debug, Clone)]
pub(crate) struct Names {
    /// Every account id, concatenated in book order.
    bytes: String,
    /// `bytes[ends[i - 1]..ends[i]]` is position `i`'s account.
    ends: Vec<u32>,
    /// Distinct markets, and each position's index into them.
    markets: Vec<String>,
    market_of: Vec<u32>,
}

impl Names {
    pub(crate) fn new(book: &Book) -> Self {
        let len = book.positions.iter().map(|p| p.account.len()).sum();
        let mut bytes = String::with_capacity(len);
        let mut ends = Vec::with_capacity(book.positions.len());
        let mut markets: Vec<String> = Vec::new();
        let mut market_of = Vec::with_capacity(book.positions.len());
        for p in &book.positions {
            bytes.push_str(&p.account);
            ends.push(u32::try_from(bytes.len()).expect("account ids under 4 GiB"));
            // books hold one or a few markets, mostly in runs
            let m = match markets.iter().rposition(|m| *m == p.market) {
                Some(m) => m,
                None => {
                    markets.push(p.market.clone());
                    markets.len() - 1
                }
            };
            market_of.push(m as u32);
        }
        Names {
            bytes,
            ends,
            markets,
            market_of,
        }
    }

    /// Appends a position (opened during the replay); its index is the
    /// number of positions before.
    pub(crate) fn push(&mut self, account: &str, market: &str) {
        self.bytes.push_str(account);
        self.ends
            .push(u32::try_from(self.bytes.len()).expect("account ids under 4 GiB"));
        let m = match self.markets.iter().rposition(|m| m == market) {
            Some(m) => m,
            None => {
                self.markets.push(market.to_string());
                self.markets.len() - 1
            }
        };
        self.market_of.push(m as u32);
    }

    pub(crate) fn account(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.bytes[start..self.ends[i] as usize]
    }

    pub(crate) fn market(&self, i: u32) -> &str {
        &self.markets[self.market_of[i as usize] as usize]
    }

    /// Asks the CPU to fetch position `i`'s account id (see [`prefetch`]).
    pub(crate) fn prefetch(&self, i: u32) {
        let start = match i.checked_sub(1) {
            Some(j) => self.ends.get(j as usize).copied(),
            None => Some(0),
        };
        if let Some(b) = start.and_then(|s| self.bytes.as_bytes().get(s as usize)) {
            prefetch(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shortfall_core::Position;

    #[test]
    fn names_of_the_book() {
        let pos = |a: &str, m: &str| Position {
            account: a.into(),
            market: m.into(),
            ..Default::default()
        };
        let book = Book {
            positions: vec![pos("a", "m1"), pos("", "m2"), pos("ccc", "m1")],
            ..Default::default()
        };
        let n = Names::new(&book);
        assert_eq!(
            (0..3).map(|i| n.account(i)).collect::<Vec<_>>(),
            ["a", "", "ccc"]
        );
        assert_eq!(
            (0..3).map(|i| n.market(i)).collect::<Vec<_>>(),
            ["m1", "m2", "m1"]
        );
    }
}
