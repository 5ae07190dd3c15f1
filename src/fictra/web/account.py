"""The signed-in user's own account: the page to change one's password (``/account/password``).

A user signed in with a one-time password is sent here from every other page (the auth module refuses
them everything else with :class:`~fictra.auth.deps.PasswordChangeRequired`, which the console renders as
a redirect to this page) until they choose their own. The change itself is the auth module's
:func:`~fictra.auth.account.change_password` (current password checked, policy, other sessions ended,
optionally the API tokens revoked, audited), exactly as ``POST /api/v1/auth/password`` does it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fictra.api.deps import app_context
from fictra.api.errors import status_for
from fictra.auth.account import change_password
from fictra.auth.actor import Actor
from fictra.auth.deps import SESSION_COOKIE
from fictra.auth.models import User
from fictra.auth.passwords import MIN_LENGTH
from fictra.errors import FictraError, PermissionDeniedError, UsageError
from fictra.web.access import PASSWORD_PAGE, ConsoleRoute, SignedIn, page, safe_next

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
CHANGED = "Password changed. Your other sessions are signed out."


def _form(
    request: Request, actor: Actor, *, next_url: str, error: str | None = None, status_code: int = 200
) -> Response:
    flash = CHANGED if request.query_params.get("done") == "1" and error is None else None
    return page(
        request,
        actor,
        "account_password.html",
        status_code=status_code,
        page="account",
        next_url=next_url,
        error=error,
        flash=flash,
        min_length=MIN_LENGTH,
    )


@router.get(PASSWORD_PAGE)
async def password_page(request: Request, actor: SignedIn, next: str = "") -> Response:
    return _form(request, actor, next_url=safe_next(next) if next else "")


@router.post(PASSWORD_PAGE)
async def password_submit(request: Request, actor: SignedIn) -> Response:
    """Change the password; back to where the user was going (after a forced change: the page they
    asked for at login), else this page with a confirmation."""
    form = await request.form()
    current = str(form.get("current_password") or "")
    new = str(form.get("new_password") or "")
    confirm = str(form.get("confirm_password") or "")
    raw_next = str(form.get("next") or "")
    next_url = safe_next(raw_next) if raw_next else ""
    context = app_context(request)
    try:
        if not current or not new:
            raise UsageError("Enter your current password and the new one.")
        if new != confirm:
            raise UsageError("The two new passwords differ; type the same new password twice.")
        async with context.sessions() as db, db.begin():
            user = await db.get(User, actor.user_id) if actor.user_id is not None else None
            if user is None:
                raise PermissionDeniedError(f"'{actor.username}' has no password to change.")
            await change_password(
                db,
                user=user,
                current_password=current,
                new_password=new,
                actor=actor,
                clock=context.clock,
                keep_session=request.cookies.get(SESSION_COOKIE) if actor.via == "session" else None,
                revoke_tokens=form.get("revoke_tokens") in ("1", "on", "true"),
            )
    except FictraError as exc:  # (a wrong current password is the API's 401, shown here on the form)
        return _form(request, actor, next_url=next_url, error=exc.user_message, status_code=status_for(exc))
    return RedirectResponse(next_url or f"{PASSWORD_PAGE}?done=1", status_code=303)
