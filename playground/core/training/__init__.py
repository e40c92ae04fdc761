"""Training: the Session, its metrics and its snapshots."""
