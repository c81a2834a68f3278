"""Organisations, API keys' reach (organisation and caseload), the audit trail and erasure: whose
health data a request may touch, and the proof of who touched it. docs/security.md."""
