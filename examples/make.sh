#!/usr/bin/env bash
# Regenerate the example county deterministically with `wuxing synth` (run from the repository root).
# Four quarters of the same 320 branches (villages and communities in 13 townships/streets); the
# third quarter is saved as GB18030/GBK with CRLF line ends, the way Excel/WPS save CSV in China.
set -euo pipefail
common=(-c rural -c community -n 320 --seed 2024 --county 示例县 --townships 13
        --missing-rate 0.002 --veto-rate 0.02
        --period 2024-Q1 --period 2024-Q2 --period 2024-Q3 --period 2024-Q4)
wuxing synth "${common[@]}" -o 'examples/county-{period}.csv'
tmp=$(mktemp -d)
wuxing synth "${common[@]}" --encoding gb18030 -o "$tmp/county-{period}.csv"
mv "$tmp/county-2024-Q3.csv" examples/county-2024-Q3.csv
rm -rf "$tmp"
wuxing synth "${common[@]}" -o examples/county-2024.csv   # all four quarters in one file (期间 column)
