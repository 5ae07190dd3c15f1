"""Request and response bodies of the auth API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=1, max_length=1000)
    revoke_tokens: bool = Field(default=False, description="Also revoke every API token of the user.")


class MeView(BaseModel):
    username: str
    roles: list[str]
    permissions: list[str]
    via: str
    must_change_password: bool = False


class LoginView(MeView):
    csrf_token: str = Field(description="Send it as X-CSRF-Token on every unsafe request (also in a cookie).")
    expires_at: datetime


class UserView(BaseModel):
    username: str
    roles: list[str]
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    roles: list[str] = Field(min_length=1)
    password: str | None = Field(
        default=None, max_length=1000, description="Omit to generate a one-time password (returned once)."
    )


class UserCreated(BaseModel):
    user: UserView
    one_time_password: str | None = Field(
        default=None, description="Only when generated: shown once, the user must change it at first login."
    )


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scopes: list[str] = Field(min_length=1, description="Permission names, each held by the user.")
    expires_in: str = Field(default="30d", description="Like 30d, 12h, 90m, 2w.")


class TokenView(BaseModel):
    id: int
    username: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked: bool
    last_used_at: datetime | None


class TokenCreated(TokenView):
    token: str = Field(description="The token itself: shown once, never stored.")
