"""Held-out metrics: pure functions of a model and data (NLL gap, MMD, mode coverage, the
latent-model bounds, image-set scores)."""
