"""Before trusting a source: preview what it would collect, and discover an outlet's feeds."""
