//! Invariants checked at the end of a run, and the run id.

use super::*;

/// `run_id`: first 16 hex digits of sha256 over the resolved config, the
/// input hashes (`name=hash` lines, sorted) and the version.
pub fn run_id(resolved: &str, input_hashes: &BTreeMap<String, String>, version: &str) -> String {
    let mut h = Sha256::new();
    h.update(resolved.as_bytes());
    h.update(b"\n--inputs--\n");
    for (k, v) in input_hashes {
        h.update(format!("{k}={v}\n").as_bytes());
    }
    h.update(b"--version--\n");
    h.update(version.as_bytes());
    hex::encode(h.finalize())[..16].to_string()
}

impl Engine<'_> {
    /// Collateral and debt conservation per asset.
    pub(super) fn check_conservation(&self, n_events: u64) -> Result<(), ReplayError> {
        let n = self.assets.len();
        let (mut coll_now, mut coll_auction, mut debt_now, mut debt_auction) = (
            vec![0i128; n],
            vec![0i128; n],
            vec![0i128; n],
            vec![0i128; n],
        );
        for (i, p) in self.pos.iter().enumerate() {
            let (coll, debt) = self.legs.split(i as u32);
            if coll.iter().chain(debt.iter()).any(|l| l.1 < 0) {
                return Err(ReplayError::Invariant {
                    seq: n_events,
                    event: format!("end of run, {}", self.names.account(i as u32)),
                    detail: "negative balance".into(),
                });
            }
            for l in coll {
                coll_now[l.0 as usize] += l.1;
            }
            for l in p.auction_lot() {
                coll_auction[l.0 as usize] += l.1;
            }
            for l in debt {
                debt_now[l.0 as usize] += l.1;
            }
            for l in p.auction_debt() {
                debt_auction[l.0 as usize] += l.1;
            }
        }
        for (a, st) in self.assets.iter().enumerate() {
            let inv = |what: &str, l: i128, r: i128| ReplayError::Invariant {
                seq: n_events,
                event: format!("end of run, asset {}", st.name),
                detail: format!("{what}: initial {} != accounted {}", Wad(l), Wad(r)),
            };
            if coll_auction[a] != st.coll_in_auction || debt_auction[a] != st.debt_in_auction {
                return Err(inv("auction balances", st.coll_in_auction, coll_auction[a]));
            }
            // initial + supplied = remaining + seized + fees + in auction + withdrawn
            let c =
                coll_now[a] + st.coll_seized + st.coll_fee + st.coll_in_auction + st.coll_withdrawn;
            if c != st.coll_initial + st.coll_supplied {
                return Err(inv(
                    "collateral (initial + supplied vs remaining + seized + fees + in auction + withdrawn)",
                    st.coll_initial + st.coll_supplied,
                    c,
                ));
            }
            // initial + borrowed = outstanding + repaid in liquidations +
            // written off + in auction + repaid by the owner
            let d = debt_now[a]
                + st.debt_repaid
                + st.debt_written_off
                + st.debt_in_auction
                + st.debt_repaid_owner;
            if d != st.debt_initial + st.debt_borrowed {
                return Err(inv(
                    "debt (initial + borrowed vs outstanding + repaid + written off + in auction + repaid by owner)",
                    st.debt_initial + st.debt_borrowed,
                    d,
                ));
            }
        }
        Ok(())
    }
}
