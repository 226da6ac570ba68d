"""What happens to documents between the normalizer and the sink: threat-intel marks, filter
rules (drop, sample, keep) and pruned fields, all declared in the configuration."""
