"""The final inspection (终检) by the QC inspector and its report."""
