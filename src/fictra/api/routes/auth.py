"""Auth endpoints (``/api/v1``): login/logout/me/password, users, API tokens. Every change is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy import select

from fictra.auth import throttle
from fictra.auth.account import change_password, unlock_user
from fictra.auth.actor import Actor
from fictra.auth.deps import CSRF_COOKIE, SESSION_COOKIE, auth_env, current_actor, require, source_of
from fictra.auth.models import ApiToken, User
from fictra.auth.passwords import generate_password
from fictra.auth.schemas import (
    LoginRequest,
    LoginView,
    MeView,
    PasswordChange,
    TokenCreate,
    TokenCreated,
    TokenView,
    UserCreate,
    UserCreated,
    UserView,
)
from fictra.auth.service import create_user, disable_user, get_user, list_users, login
from fictra.auth.sessions import revoke_session
from fictra.auth.tokens import create_token, list_tokens, parse_duration, revoke_token
from fictra.errors import NotFoundError, PermissionDeniedError

router = APIRouter(prefix="/api/v1", tags=["auth"])


def _user_view(user: User, *, locked_until: datetime | None = None) -> UserView:
    """``locked_until``: the latest login lock on the user from any client (fictra.auth.throttle)."""
    return UserView(
        username=user.username,
        roles=list(user.roles),
        disabled=user.disabled,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        locked_until=locked_until or user.locked_until,
    )


def _token_view(row: ApiToken, username: str) -> TokenView:
    return TokenView(
        id=row.id,
        username=username,
        prefix=row.prefix,
        scopes=list(row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked=row.revoked_at is not None,
        last_used_at=row.last_used_at,
    )


@router.post("/auth/login", response_model=LoginView)
async def post_login(body: LoginRequest, request: Request, response: Response) -> LoginView:
    """Sign in with a password; sets the session and CSRF cookies."""
    env = auth_env(request)
    result = await login(
        env.sessions,
        username=body.username,
        password=body.password,
        source=source_of(request),
        clock=env.clock,
        policy=env.policy,
    )
    secure = request.url.scheme == "https"
    max_age = int(env.policy.session_ttl.total_seconds())
    response.set_cookie(
        SESSION_COOKIE,
        result.session_token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE, result.csrf_token, max_age=max_age, samesite="strict", secure=secure, path="/"
    )
    request.state.csrf_token = result.csrf_token
    return LoginView(
        username=result.username,
        roles=list(result.roles),
        permissions=sorted(env.roles.permissions_of(list(result.roles))),
        via="session",
        must_change_password=result.must_change_password,
        csrf_token=result.csrf_token,
        expires_at=result.expires_at,
    )


@router.post("/auth/logout", status_code=204)
async def post_logout(request: Request, actor: Annotated[Actor, Depends(current_actor)]) -> Response:
    """End the current session (CSRF-checked like every unsafe request) and clear its cookies."""
    env = auth_env(request)
    raw = request.cookies.get(SESSION_COOKIE)
    if actor.via == "session" and raw:
        async with env.sessions.begin() as db:
            await revoke_session(db, token=raw, clock=env.clock)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/auth/me", response_model=MeView)
async def get_me(request: Request, actor: Annotated[Actor, Depends(current_actor)]) -> MeView:
    """Who is signed in, with their roles and effective permissions."""
    must_change = False
    if actor.user_id is not None:
        async with auth_env(request).sessions() as db:
            user = await db.get(User, actor.user_id)
            must_change = bool(user and user.must_change_password)
    return MeView(
        username=actor.username,
        roles=list(actor.roles),
        permissions=actor.effective_permissions(),
        via=actor.via,
        must_change_password=must_change,
    )


@router.post("/auth/password", status_code=204)
async def post_password(
    body: PasswordChange, request: Request, actor: Annotated[Actor, Depends(current_actor)]
) -> Response:
    """Change your own password (required after a one-time password). Ends your other sessions (this one
    stays); ``revoke_tokens`` also revokes your API tokens."""
    env = auth_env(request)
    async with env.sessions.begin() as db:
        user = await db.get(User, actor.user_id) if actor.user_id is not None else None
        if user is None:
            raise PermissionDeniedError(f"'{actor.username}' has no password to change.")
        await change_password(
            db,
            user=user,
            current_password=body.current_password,
            new_password=body.new_password,
            actor=actor,
            clock=env.clock,
            keep_session=request.cookies.get(SESSION_COOKIE) if actor.via == "session" else None,
            revoke_tokens=body.revoke_tokens,
        )
    return Response(status_code=204)


@router.get("/users", response_model=list[UserView])
async def get_users(
    request: Request, actor: Annotated[Actor, Depends(require("users.read"))]
) -> list[UserView]:
    async with auth_env(request).sessions() as db:
        now = auth_env(request).clock.now()
        return [
            _user_view(u, locked_until=await throttle.locked_until(db, username=u.username, now=now))
            for u in await list_users(db)
        ]


@router.post("/users/{username}/unlock", response_model=UserView)
async def post_unlock(
    username: str, request: Request, actor: Annotated[Actor, Depends(require("users.manage"))]
) -> UserView:
    """Clear the login locks on a user (every client's) and the slow-down of their logins."""
    env = auth_env(request)
    async with env.sessions.begin() as db:
        await unlock_user(db, username=username, actor=actor, clock=env.clock)
        return _user_view(await get_user(db, username=username))


@router.post("/users", response_model=UserCreated, status_code=201)
async def post_user(
    body: UserCreate, request: Request, actor: Annotated[Actor, Depends(require("users.manage"))]
) -> UserCreated:
    """Add a user. Without a password a one-time password is generated and returned once."""
    env = auth_env(request)
    generated = generate_password() if body.password is None else None
    async with env.sessions.begin() as db:
        user = await create_user(
            db,
            username=body.username,
            roles=body.roles,
            password=generated or body.password or "",
            role_map=env.roles,
            actor=actor,
            clock=env.clock,
            must_change_password=generated is not None,
        )
        return UserCreated(user=_user_view(user), one_time_password=generated)


@router.post("/users/{username}/disable", response_model=UserView)
async def post_disable(
    username: str, request: Request, actor: Annotated[Actor, Depends(require("users.manage"))]
) -> UserView:
    """Disable a user: their sessions end and their tokens stop working."""
    env = auth_env(request)
    async with env.sessions.begin() as db:
        return _user_view(await disable_user(db, username=username, actor=actor, clock=env.clock))


def _may_manage_tokens_of(actor: Actor, username: str) -> None:
    if actor.can("tokens.manage") or (actor.username == username and actor.via == "session"):
        return
    raise PermissionDeniedError(
        f"'{actor.username}' lacks the permission 'tokens.manage' (needed for tokens of other users)."
    )


@router.get("/users/{username}/tokens", response_model=list[TokenView])
async def get_tokens(
    username: str, request: Request, actor: Annotated[Actor, Depends(current_actor)]
) -> list[TokenView]:
    """A user's tokens (never the tokens themselves): your own, or anyone's with tokens.manage."""
    _may_manage_tokens_of(actor, username)
    async with auth_env(request).sessions() as db:
        user = await get_user(db, username=username)
        return [_token_view(t, username) for t in await list_tokens(db, user=user)]


@router.post("/users/{username}/tokens", response_model=TokenCreated, status_code=201)
async def post_token(
    username: str, body: TokenCreate, request: Request, actor: Annotated[Actor, Depends(current_actor)]
) -> TokenCreated:
    """Issue an API token scoped to some of the user's permissions; the token is in this answer only."""
    _may_manage_tokens_of(actor, username)
    env = auth_env(request)
    expires_in = parse_duration(body.expires_in)
    async with env.sessions.begin() as db:
        user = await get_user(db, username=username)
        new = await create_token(
            db,
            user=user,
            scopes=body.scopes,
            expires_in=expires_in,
            role_map=env.roles,
            actor=actor,
            clock=env.clock,
            policy=env.policy,
        )
        row = await db.get(ApiToken, new.id)
        if row is None:  # pragma: no cover - just flushed
            raise NotFoundError(f"No API token with id {new.id}.")
        return TokenCreated(**_token_view(row, username).model_dump(), token=new.token)


@router.delete("/tokens/{token_id}", response_model=TokenView)
async def delete_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    actor: Annotated[Actor, Depends(current_actor)],
) -> TokenView:
    """Revoke an API token (your own, or anyone's with tokens.manage)."""
    env = auth_env(request)
    async with env.sessions.begin() as db:
        row = await db.get(ApiToken, token_id)
        owner = (await db.execute(select(User).where(User.id == row.user_id))).scalar_one() if row else None
        if row is None or owner is None:
            raise NotFoundError(f"No API token with id {token_id}.")
        _may_manage_tokens_of(actor, owner.username)
        row = await revoke_token(db, token_id=token_id, actor=actor, clock=env.clock)
        return _token_view(row, owner.username)
