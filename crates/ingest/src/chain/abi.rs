//! Event definitions of the decoded protocols, as the contracts declare them
//! (alloy `sol!`: topic hashes and ABI decoding come from these signatures).

#![allow(missing_docs)]

use alloy_sol_types::sol;

/// Aave v2 `LendingPool` (ILendingPool.sol).
pub mod aave_v2 {
    use super::sol;
    sol! {
        event Deposit(address indexed reserve, address user, address indexed onBehalfOf, uint256 amount, uint16 indexed referral);
        event Withdraw(address indexed reserve, address indexed user, address indexed to, uint256 amount);
        event Borrow(address indexed reserve, address user, address indexed onBehalfOf, uint256 amount, uint256 borrowRateMode, uint256 borrowRate, uint16 indexed referral);
        event Repay(address indexed reserve, address indexed user, address indexed repayer, uint256 amount);
        event LiquidationCall(address indexed collateralAsset, address indexed debtAsset, address indexed user, uint256 debtToCover, uint256 liquidatedCollateralAmount, address liquidator, bool receiveAToken);
        event ReserveDataUpdated(address indexed reserve, uint256 liquidityRate, uint256 stableBorrowRate, uint256 variableBorrowRate, uint256 liquidityIndex, uint256 variableBorrowIndex);
    }
}

/// Aave v3 `Pool` (IPool.sol, with v3.3's `DeficitCreated`). `Withdraw`,
/// `LiquidationCall` and `ReserveDataUpdated` are as in v2.
pub mod aave_v3 {
    use super::sol;
    sol! {
        event Supply(address indexed reserve, address user, address indexed onBehalfOf, uint256 amount, uint16 indexed referralCode);
        event Borrow(address indexed reserve, address user, address indexed onBehalfOf, uint256 amount, uint8 interestRateMode, uint256 borrowRate, uint16 indexed referralCode);
        event Repay(address indexed reserve, address indexed user, address indexed repayer, uint256 amount, bool useATokens);
        event DeficitCreated(address indexed user, address indexed debtAsset, uint256 amountCreated);
    }
}

/// Compound v2 `CToken` (CTokenInterfaces.sol); `AccrueInterest` in its
/// current four-field form and the three-field form of the first cTokens.
pub mod compound_v2 {
    use super::sol;
    sol! {
        event Mint(address minter, uint256 mintAmount, uint256 mintTokens);
        event Redeem(address redeemer, uint256 redeemAmount, uint256 redeemTokens);
        event Borrow(address borrower, uint256 borrowAmount, uint256 accountBorrows, uint256 totalBorrows);
        event RepayBorrow(address payer, address borrower, uint256 repayAmount, uint256 accountBorrows, uint256 totalBorrows);
        event LiquidateBorrow(address liquidator, address borrower, uint256 repayAmount, address cTokenCollateral, uint256 seizeTokens);
        event AccrueInterest(uint256 cashPrior, uint256 interestAccumulated, uint256 borrowIndex, uint256 totalBorrows);
    }
    /// The first cTokens (cDAI v1 era) emitted a three-field `AccrueInterest`.
    pub mod v1 {
        use alloy_sol_types::sol;
        sol! {
            event AccrueInterest(uint256 interestAccumulated, uint256 borrowIndex, uint256 totalBorrows);
        }
    }
}

/// Maker (dss): `Cat.Bite`, `Dog.Bark`, flip and clip auctions. Flip's
/// `tend`, `dent` and `deal` are anonymous `LogNote`s whose first topic is
/// the function selector (dss `LibNote`).
pub mod maker {
    use super::sol;
    sol! {
        event Bite(bytes32 indexed ilk, address indexed urn, uint256 ink, uint256 art, uint256 tab, address flip, uint256 id);
        event Bark(bytes32 indexed ilk, address indexed urn, uint256 ink, uint256 art, uint256 due, address clip, uint256 indexed id);
        event LogNote(bytes4 indexed sig, address indexed usr, bytes32 indexed arg1, bytes32 indexed arg2, bytes data) anonymous;
        function tend(uint256 id, uint256 lot, uint256 bid);
        function dent(uint256 id, uint256 lot, uint256 bid);
        function deal(uint256 id);
    }
    /// The flip auction (`Flipper`), English.
    pub mod flip {
        use alloy_sol_types::sol;
        sol! {
            event Kick(uint256 id, uint256 lot, uint256 bid, uint256 tab, address indexed usr, address indexed gal);
        }
    }
    /// The clip auction (`Clipper`), Dutch.
    pub mod clip {
        use alloy_sol_types::sol;
        sol! {
            event Kick(uint256 indexed id, uint256 top, uint256 tab, uint256 lot, address indexed usr, address indexed kpr, uint256 coin);
            event Take(uint256 indexed id, uint256 max, uint256 price, uint256 owe, uint256 tab, uint256 lot, address indexed usr);
        }
    }
}

/// Chainlink aggregators (`AggregatorInterface`).
pub mod chainlink {
    use super::sol;
    sol! {
        event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    }
}

#[cfg(test)]
mod tests {
    use alloy_sol_types::{SolCall, SolEvent};

    use super::*;

    /// Topic hashes as published (block explorers, protocol docs and
    /// indexers); a typo in a signature above would change them.
    #[test]
    fn topic_hashes_match_the_published_ones() {
        let h = |b: alloy_primitives::B256| format!("{b:#x}");
        let cases = [
            (
                aave_v2::Deposit::SIGNATURE_HASH,
                "0xde6857219544bb5b7746f48ed30be6386fefc61b2f864cacf559893bf50fd951",
            ),
            (
                aave_v2::Withdraw::SIGNATURE_HASH,
                "0x3115d1449a7b732c986cba18244e897a450f61e1bb8d589cd2e69e6c8924f9f7",
            ),
            (
                aave_v2::Borrow::SIGNATURE_HASH,
                "0xc6a898309e823ee50bac64e45ca8adba6690e99e7841c45d754e2a38e9019d9b",
            ),
            (
                aave_v2::Repay::SIGNATURE_HASH,
                "0x4cdde6e09bb755c9a5589ebaec640bbfedff1362d4b255ebf8339782b9942faa",
            ),
            (
                aave_v2::LiquidationCall::SIGNATURE_HASH,
                "0xe413a321e8681d831f4dbccbca790d2952b56f977908e45be37335533e005286",
            ),
            (
                aave_v2::ReserveDataUpdated::SIGNATURE_HASH,
                "0x804c9b842b2748a22bb64b345453a3de7ca54a6ca45ce00d415894979e22897a",
            ),
            (
                aave_v3::Supply::SIGNATURE_HASH,
                "0x2b627736bca15cd5381dcf80b0bf11fd197d01a037c52b927a881a10fb73ba61",
            ),
            (
                aave_v3::Borrow::SIGNATURE_HASH,
                "0xb3d084820fb1a9decffb176436bd02558d15fac9b0ddfed8c465bc7359d7dce0",
            ),
            (
                aave_v3::Repay::SIGNATURE_HASH,
                "0xa534c8dbe71f871f9f3530e97a74601fea17b426cae02e1c5aee42c96c784051",
            ),
            (
                aave_v3::DeficitCreated::SIGNATURE_HASH,
                "0x2bccfb3fad376d59d7accf970515eb77b2f27b082c90ed0fb15583dd5a942699",
            ),
            (
                compound_v2::Mint::SIGNATURE_HASH,
                "0x4c209b5fc8ad50758f13e2e1088ba56a560dff690a1c6fef26394f4c03821c4f",
            ),
            (
                compound_v2::Redeem::SIGNATURE_HASH,
                "0xe5b754fb1abb7f01b499791d0b820ae3b6af3424ac1c59768edb53f4ec31a929",
            ),
            (
                compound_v2::Borrow::SIGNATURE_HASH,
                "0x13ed6866d4e1ee6da46f845c46d7e54120883d75c5ea9a2dacc1c4ca8984ab80",
            ),
            (
                compound_v2::RepayBorrow::SIGNATURE_HASH,
                "0x1a2a22cb034d26d1854bdc6666a5b91fe25efbbb5dcad3b0355478d6f5c362a1",
            ),
            (
                compound_v2::LiquidateBorrow::SIGNATURE_HASH,
                "0x298637f684da70674f26509b10f07ec2fbc77a335ab1e7d6215a4b2484d8bb52",
            ),
            (
                compound_v2::AccrueInterest::SIGNATURE_HASH,
                "0x4dec04e750ca11537cabcd8a9eab06494de08da3735bc8871cd41250e190bc04",
            ),
            (
                maker::Bite::SIGNATURE_HASH,
                "0xa716da86bc1fb6d43d1493373f34d7a418b619681cd7b90f7ea667ba1489be28",
            ),
            (
                maker::Bark::SIGNATURE_HASH,
                "0x85258d09e1e4ef299ff3fc11e74af99563f022d21f3f940db982229dc2a3358c",
            ),
            (
                maker::flip::Kick::SIGNATURE_HASH,
                "0xc84ce3a1172f0dec3173f04caaa6005151a4bfe40d4c9f3ea28dba5f719b2a7a",
            ),
            (
                maker::clip::Kick::SIGNATURE_HASH,
                "0x7c5bfdc0a5e8192f6cd4972f382cec69116862fb62e6abff8003874c58e064b8",
            ),
            (
                maker::clip::Take::SIGNATURE_HASH,
                "0x05e309fd6ce72f2ab888a20056bb4210df08daed86f21f95053deb19964d86b1",
            ),
            (
                chainlink::AnswerUpdated::SIGNATURE_HASH,
                "0x0559884fd3a460db3073b7fc896cc77986f16e378210ded43186175bf646fc5f",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(h(got), want);
        }
        // dss flip LogNote selectors of tend, dent, deal.
        assert_eq!(maker::tendCall::SELECTOR, [0x4b, 0x43, 0xed, 0x12]);
        assert_eq!(maker::dentCall::SELECTOR, [0x5f, 0xf3, 0xa3, 0x82]);
        assert_eq!(maker::dealCall::SELECTOR, [0xc9, 0x59, 0xc4, 0x2b]);
    }
}
