"""Per-tenant hash chains of the audit log: canonical form, sealer, checkpoints, verifier."""
