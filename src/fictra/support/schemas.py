"""What the API, console and CLI show of tickets (pydantic read models)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from fictra.support.models import Ticket

__all__ = ["CommentView", "LinkView", "OverSla", "SlaClock", "TicketDetail", "TicketSummary"]


class SlaClock(BaseModel):
    deadline: datetime
    remaining_seconds: float
    state: str  # running | met | breached | stopped


class TicketSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    requester_name: str
    requester_email: str
    participant: str | None
    category: str
    priority: str
    state: str
    source: str
    assignee: str | None
    created_at: datetime
    updated_at: datetime
    first_response: SlaClock
    resolution: SlaClock
    over_sla: list[str] = Field(
        default_factory=list, description="Clocks run out: first_response, resolution."
    )


class CommentView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    author: str
    body: str
    notification_id: int | None
    created_at: datetime


class LinkView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    ref: str
    created_by: str
    created_at: datetime


class TicketDetail(TicketSummary):
    description: str
    created_by: str
    comments: list[CommentView]
    links: list[LinkView]


class OverSla(BaseModel):
    """A ticket whose first-response or resolution deadline has passed while it is still active."""

    id: int
    title: str
    priority: str
    state: str
    assignee: str | None
    clocks: list[str]
    first_response_due: datetime
    resolution_due: datetime

    @classmethod
    def of(cls, t: Ticket, clocks: list[str]) -> OverSla:
        return cls(
            id=t.id, title=t.title, priority=t.priority, state=t.state, assignee=t.assignee, clocks=clocks,
            first_response_due=t.first_response_due, resolution_due=t.resolution_due,
        )  # fmt: skip
