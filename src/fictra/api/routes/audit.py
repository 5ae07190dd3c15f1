"""The audit log API (prefix /api/v1/audit).

GET /entries?limit=&before=&action=&actor=&target=   entries newest first, paged by index   audit.read
GET /entries/{index}                                  one entry                              audit.read
GET /verify?anchor=false                              chain + checkpoints (+ anchor) report  audit.verify
GET /checkpoints?limit=                               signed checkpoints, newest first       audit.read
GET /proof/{index}?tree_size=                         inclusion proof in a checkpoint        audit.read
GET /consistency?first=&second=                       consistency proof between checkpoints  audit.read
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from fictra.api.deps import Context, DbSession, guarded
from fictra.audit.anchor import AnchorClient, load_anchor
from fictra.audit.checkpoints import count_checkpoints, list_checkpoints, prove_consistency, prove_inclusion
from fictra.audit.schemas import (
    CheckpointView,
    ConsistencyProofView,
    EntryPage,
    EntryView,
    InclusionProofView,
    VerifyView,
)
from fictra.audit.service import count_entries, get_entry, list_entries
from fictra.audit.signing import AuditVerifier, load_verifier
from fictra.audit.verify import verify_log
from fictra.errors import ConfigError

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

MAX_INDEX = 2**62  # keeps every index inside a BIGINT
_TEXT = r"^[^\x00-\x1f]+$"  # no control characters (PostgreSQL refuses NUL in text)
Index = Annotated[int, Path(ge=0, le=MAX_INDEX, description="Entry index (0-based).")]
Size = Annotated[int, Query(ge=1, le=MAX_INDEX, description="A checkpoint's tree size.")]


@router.get("/entries", summary="Audit entries, newest first", **guarded("audit.read"))
async def entries(
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before: Annotated[
        int | None, Query(ge=0, le=MAX_INDEX, description="Only entries with a smaller index")
    ] = None,
    action: Annotated[
        str | None, Query(max_length=100, pattern=_TEXT, description="Exact, or a prefix like alert.*")
    ] = None,
    actor: Annotated[str | None, Query(max_length=200, pattern=_TEXT)] = None,
    target: Annotated[str | None, Query(max_length=300, pattern=_TEXT)] = None,
) -> EntryPage:
    rows = await list_entries(
        session, limit=limit, before_index=before, action=action, actor=actor, target=target
    )
    items = [EntryView.of(r) for r in rows]
    next_before = items[-1].index if len(items) == limit and items[-1].index > 0 else None
    return EntryPage(entries=items, total=await count_entries(session), next_before=next_before)


@router.get("/entries/{index}", summary="One audit entry", **guarded("audit.read"))
async def entry(session: DbSession, index: Index) -> EntryView:
    return EntryView.of(await get_entry(session, index))


@router.get(
    "/verify",
    summary="Verify the chain, the checkpoints and (optionally) the anchor",
    **guarded("audit.verify"),
)
async def verify(
    session: DbSession,
    context: Context,
    anchor: Annotated[
        bool, Query(description="Also check the roots anchored on chain (when an anchor exists)")
    ] = False,
) -> VerifyView:
    data_dir = context.settings.data_dir
    verifier: AuditVerifier | None = None
    try:
        verifier = load_verifier(data_dir)
    except ConfigError:
        if await count_checkpoints(session):
            raise
    config = load_anchor(data_dir) if anchor else None
    if config is None:
        return VerifyView.of(await verify_log(session, verifier=verifier))
    async with AnchorClient(config) as client:
        await client.check()
        return VerifyView.of(await verify_log(session, verifier=verifier, anchor=client))


@router.get("/checkpoints", summary="Signed checkpoints, newest first", **guarded("audit.read"))
async def checkpoints(
    session: DbSession, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> list[CheckpointView]:
    return [CheckpointView.of(c) for c in await list_checkpoints(session, limit=limit)]


@router.get("/proof/{index}", summary="Inclusion proof of an entry in a checkpoint", **guarded("audit.read"))
async def proof(
    session: DbSession,
    index: Index,
    tree_size: Annotated[
        int | None, Query(ge=1, le=MAX_INDEX, description="Default: the latest checkpoint")
    ] = None,
) -> InclusionProofView:
    return InclusionProofView.of(await prove_inclusion(session, index=index, tree_size=tree_size))


@router.get("/consistency", summary="Consistency proof between two checkpoints", **guarded("audit.read"))
async def consistency(session: DbSession, first: Size, second: Size) -> ConsistencyProofView:
    return ConsistencyProofView.of(await prove_consistency(session, first=first, second=second))
