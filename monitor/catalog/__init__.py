"""What the monitor knows and is told: sources, watch terms, the baseline, read queries, first-run defaults."""
