"""App. fig 4: the Sjöström et al. 2001 release-probability estimates, as processed for the paper.

sources  -> data/raw/sjostrom/Sjostrom2001_{LTP,LTD}_schug.csv (+ sources.json): pinned GitHub raw URLs,
            else the vendored copy (vendor/sjostrom/), every file checked against its recorded sha256
parse    -> results/tables/sjostrom_recordings.csv (one row per synapse; w = Pr q recomputed and checked)
analysis -> results/stats/appfig4.csv (Pearson r of the size of the relative change vs initial Pr)
"""
