"""`make bench`: the gateway's own overhead, measured side by side with its baselines in one run."""
