"""Sjöström et al. 2001 STDP recordings (as published with Costa et al.): App. fig 4.

download  -> data/raw/sjostrom/ (+ checksums.json), resolved via Dryad / Mendeley Data public APIs
parse     -> results/tables/sjostrom_recordings.csv (tidy, one row per recording, config column mapping)
analysis  -> results/stats/appfig4.csv (Pearson r of relative change vs initial P, shuffle control)
synthetic -> a small made-up file in the raw layout, for tests and the quick config only (never real data)
"""

RAW_SUFFIXES = (".csv", ".xls", ".xlsx")
