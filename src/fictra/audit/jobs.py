"""The audit log's periodic work as a job on the platform's scheduler (``fictra.jobs``)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from fictra.audit.checkpoints import DEFAULT_EVERY_S, create_checkpoint
from fictra.audit.signing import AuditSigner
from fictra.errors import ConflictError
from fictra.jobs import Job, JobContext

log = logging.getLogger(__name__)


def checkpoint_job(signer: AuditSigner, *, every: timedelta = timedelta(seconds=DEFAULT_EVERY_S)) -> Job:
    """``audit.checkpoint``: a signed checkpoint when entries were added since the last one. A log that
    fails verification or a database that is unreachable fails the run (the scheduler records it, with
    the reason, and tries again at the next due time); two processes racing for the same tree size keep
    the first checkpoint."""

    async def run(job: JobContext) -> None:
        try:
            async with job.sessions.begin() as session:
                made = await create_checkpoint(session, signer=signer, clock=job.clock)
            if made is not None:
                log.debug("audit checkpoint at tree size %d", made.tree_size)
        except IntegrityError:  # another process checkpointed the same size at the same moment
            log.debug("audit checkpoint raced with another writer; next round")
        except ConflictError as exc:
            raise ConflictError(f"audit checkpoint refused: {exc.user_message}") from None
        except SQLAlchemyError as exc:
            first_line = (str(exc).splitlines() or [""])[0][:200]
            raise ConflictError(f"audit checkpoint failed ({type(exc).__name__}: {first_line})") from None

    return Job(name="audit.checkpoint", every=every, run=run)
