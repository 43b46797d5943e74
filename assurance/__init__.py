"""The proof: what lets an auditor check the platform's claims instead of trusting them.

- ``chain``: seals ``kernel.audit_events`` into per-tenant SHA-256 hash chains, with signed
  checkpoints kept outside the database (``audit_seal``, ``audit_verify``).
- governance views (``kernel.v_*``, ``finance.v_*``) read by ``aibos_monitor_role``.
- ``evidence``: deterministic, signed evidence packs with a stdlib-only verifier.
- ``trust``: the CFO Trust Test, attacks run as the runtime roles.
- ``compliance``: the control mapping, generated from live checks.
"""
