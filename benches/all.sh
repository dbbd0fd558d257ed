#!/bin/sh
# Every figure of BENCHMARKS.md in one run: the divan benches, then the real binary
# against loopback servers (end to end against curl, and the TUI in a pseudo-terminal).
#   sh benches/all.sh
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
cargo bench --quiet --bench decoder --bench render --bench frame --bench stats --bench reuse --bench store_write
python3 benches/e2e.py
python3 benches/tui.py
python3 benches/flood.py
python3 benches/batch.py
python3 benches/store.py
