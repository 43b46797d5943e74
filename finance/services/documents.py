"""Document metadata: attachments already written to tenant storage."""

from __future__ import annotations

import uuid

from aibos.actors import Actor
from finance.models import DocumentMetadata
from finance.services._plumbing import unit


def document_attach(
    *,
    actor: Actor,
    company_id: uuid.UUID,
    provider: str,
    locator: str,
    content_hash: str,
    size_bytes: int,
    mime_type: str,
    filename: str = "",
    journal_entry_id: uuid.UUID | None = None,
    payment_id: uuid.UUID | None = None,
) -> DocumentMetadata:
    """Record an attachment already written to tenant storage (metadata only; immutable)."""
    with unit(actor):
        document = DocumentMetadata(
            tenant_id=actor.tenant_id,
            company_id=company_id,
            journal_entry_id=journal_entry_id,
            payment_id=payment_id,
            provider=provider,
            locator=locator,
            content_hash=content_hash.lower(),
            size_bytes=size_bytes,
            mime_type=mime_type,
            filename=filename,
            uploaded_by=actor.label,
        )
        document.full_clean(exclude=["company", "journal_entry", "payment"])
        document.save(force_insert=True)
    return document
