"""The password page: a user signed in with a one-time password is held there (every page, fragment and
API route sends them back) until they choose their own; anyone can change theirs, which signs out their
other sessions. The change is the auth module's, audited."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from api.rig import PASSWORD, ApiRig
from fictra.audit.models import AuditEntry
from fictra.auth.actor import SYSTEM
from fictra.auth.service import create_user
from web.conftest import LEAD, client_for, csrf_of, sign_in

ONE_TIME = "One-Time-Pass-7f3k9q2w"
NEW = "My-Own-Passphrase-4421"


async def _new_admin(rig: ApiRig) -> None:
    async with rig.sessions.begin() as db:
        await create_user(
            db,
            username="u-new-admin",
            roles=["admin"],
            password=ONE_TIME,
            role_map=rig.roles,
            actor=SYSTEM,
            clock=rig.clock,
            must_change_password=True,
        )


async def test_a_one_time_password_holds_the_user_on_the_password_page(rig: ApiRig) -> None:
    await _new_admin(rig)
    async with client_for(rig) as client:
        signed = await sign_in(client, "u-new-admin", password=ONE_TIME, next_url="/incidents")
        assert signed.status_code == 303
        assert signed.headers["location"] == "/account/password?next=/incidents"
        form = await client.get(signed.headers["location"])
        assert form.status_code == 200 and 'id="must-change"' in form.text
        assert 'href="/alerts"' not in form.text  # no navigation while held here
        # every other page, fragment and API route refuses until the change
        page = await client.get("/actions")
        assert page.status_code == 303 and page.headers["location"] == "/account/password?next=/actions"
        assert (await client.get("/")).headers["location"] == "/account/password"
        fragment = await client.get("/ui/overview", headers={"HX-Request": "true"})
        assert fragment.status_code == 403 and fragment.headers["HX-Redirect"] == "/account/password"
        api = await client.get("/api/v1/alerts")
        assert (
            api.status_code == 403 and "must change the one-time password" in api.json()["error"]["message"]
        )
        assert (await client.get("/login")).headers["location"] == "/account/password"
        csrf = csrf_of(form.text)
        same = await client.post(
            "/account/password",
            data={
                "csrf_token": csrf,
                "current_password": ONE_TIME,
                "new_password": ONE_TIME,
                "confirm_password": ONE_TIME,
                "next": "/incidents",
            },
        )
        assert same.status_code == 422 and 'id="password-error"' in same.text
        done = await client.post(
            "/account/password",
            data={
                "csrf_token": csrf,
                "current_password": ONE_TIME,
                "new_password": NEW,
                "confirm_password": NEW,
                "next": "/incidents",
            },
        )
        assert done.status_code == 303 and done.headers["location"] == "/incidents"
        assert (await client.get("/incidents")).status_code == 200
        assert (await client.get("/api/v1/alerts")).status_code == 200
    async with client_for(rig) as again:
        assert (await sign_in(again, "u-new-admin", password=ONE_TIME)).status_code == 401
        assert (await sign_in(again, "u-new-admin", password=NEW)).headers["location"] == "/"
    async with rig.sessions() as db:
        actions = list((await db.execute(select(AuditEntry.action))).scalars())
    assert "user.password" in actions


async def test_changing_a_password_from_the_page(rig: ApiRig) -> None:
    async with client_for(rig) as other, client_for(rig) as client:
        assert (await sign_in(other, LEAD)).status_code == 303
        assert (await sign_in(client, LEAD)).status_code == 303
        overview = await client.get("/")
        assert 'href="/account/password"' in overview.text
        form = await client.get("/account/password")
        assert form.status_code == 200 and 'id="must-change"' not in form.text
        csrf = csrf_of(form.text)

        async def post(**fields: str) -> httpx.Response:
            return await client.post("/account/password", data={"csrf_token": csrf, **fields})

        wrong = await post(current_password="not-my-password-99", new_password=NEW, confirm_password=NEW)
        assert wrong.status_code == 401 and "The current password is wrong" in wrong.text  # as the API
        differ = await post(current_password=PASSWORD, new_password=NEW, confirm_password=NEW + "x")
        assert differ.status_code == 422 and "The two new passwords differ" in differ.text
        short = await post(current_password=PASSWORD, new_password="short", confirm_password="short")
        assert short.status_code == 422 and "at least 12" in short.text
        empty = await post(current_password="", new_password="", confirm_password="")
        assert empty.status_code == 422
        forged = await client.post(
            "/account/password",
            data={
                "csrf_token": "forged",
                "current_password": PASSWORD,
                "new_password": NEW,
                "confirm_password": NEW,
            },
        )
        assert forged.status_code == 403 and "Form expired" in forged.text
        done = await post(current_password=PASSWORD, new_password=NEW, confirm_password=NEW)
        assert done.status_code == 303 and done.headers["location"] == "/account/password?done=1"
        shown = await client.get(done.headers["location"])
        assert "Password changed" in shown.text
        # this session stays; the other one is signed out
        assert (await client.get("/alerts")).status_code == 200
        ended = await other.get("/alerts")
        assert ended.status_code == 303 and ended.headers["location"].startswith("/login")


async def test_the_password_page_needs_a_session(rig: ApiRig) -> None:
    async with client_for(rig) as client:
        page = await client.get("/account/password")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/account/password"
