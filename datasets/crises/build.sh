#!/usr/bin/env bash
# Rebuilds the market and oracle tables of the built-in crisis packs from the
# raw files (e.g. ../shared/datasets), with Shortfall's own ingest, cutting
# each source to the crisis window. The result is byte-identical to the
# committed packs (a test checks it for every pack).
#
#   datasets/crises/build.sh RAW_DIR [OUT_DIR] [SHORTFALL_BIN]
set -euo pipefail
raw=${1:?usage: build.sh RAW_DIR [OUT_DIR] [SHORTFALL_BIN]}
out=${2:-$(dirname "$0")}
bin=${3:-shortfall}
ingest() { "$bin" -q ingest "$@"; }

p=$out/black-thursday-2020
rm -f "$p"/*.parquet "$p"/manifest.json
ingest --format coinapi-json --venue coinapi --base ETH --quote USD --dataset "$p" \
  "$raw/market/ethusd_10m_2020-03-12.coinapi.json"
ingest --format coinapi-json --venue coinapi --base DAI --quote USD --dataset "$p" \
  "$raw/market/daiusd_10m_2020-03-12.coinapi.json"
ingest --format cdd --window 2020-03-10..2020-03-17 --dataset "$p" \
  "$raw/market/binance_spot_ethusdt_1h_2017-2020.cdd.csv"

p=$out/compound-dai-2020-11-26
rm -f "$p"/*.parquet "$p"/manifest.json
ingest --format cdd --window 2020-11-24..2020-11-29 --dataset "$p" \
  "$raw/market/binance_spot_ethusdt_1h_2017-2020.cdd.csv"

p=$out/luna-2022-05
rm -f "$p"/*.parquet "$p"/manifest.json
ingest --format binance-klines --window 2022-05-07..2022-05-14 --dataset "$p" \
  "$raw/market/binance_spot_lunausdt_1m_2022-05.csv"

p=$out/usdc-depeg-2023-03
rm -f "$p"/*.parquet "$p"/manifest.json
ingest --format chainlink-rounds --decimals 8 --dataset "$p" \
  "$raw/oracle/chainlink_usdc_usd_2022-11-20_2023-03-12.csv"

p=$out/usde-2025-10-10
rm -f "$p"/*.parquet "$p"/manifest.json
ingest --format parquet --mapping "$(dirname "$0")/usde-2025-10-10/binance_usde_mapping.toml" \
  --window 2025-10-09..2025-10-13 --dataset "$p" \
  "$raw/market/binance_usdeusdt_1m_2025-09-2026-01.parquet"
