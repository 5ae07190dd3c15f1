"""The login form: CSRF before any session, errors shown on the form, safe redirects, logout."""

from __future__ import annotations

from api.rig import ApiRig
from web.conftest import LEAD, client_for, csrf_of, sign_in


async def test_pages_send_signed_out_people_to_the_login_form(rig: ApiRig) -> None:
    async with client_for(rig) as client:
        page = await client.get("/alerts?severity=P1")
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=/alerts%3Fseverity%3DP1"
        fragment = await client.get("/ui/overview", headers={"HX-Request": "true"})
        assert fragment.status_code == 401  # htmx: the script moves the whole page, nothing is swapped in
        assert fragment.headers["HX-Redirect"] == "/login"


async def test_login_signs_in_and_returns_to_the_page_asked_for(rig: ApiRig) -> None:
    async with client_for(rig) as client:
        response = await sign_in(client, LEAD, next_url="/alerts?status=firing")
        assert response.status_code == 303
        assert response.headers["location"] == "/alerts?status=firing"
        assert "fictra_session" in client.cookies
        page = await client.get("/")
        assert page.status_code == 200
        assert LEAD in page.text
        assert (await client.get("/login")).headers["location"] == "/"  # already signed in


async def test_login_never_redirects_off_site(rig: ApiRig) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        async with client_for(rig) as client:
            response = await sign_in(client, LEAD, next_url=target)
            assert response.headers["location"] == "/", target


async def test_wrong_password_is_shown_on_the_form_with_the_lockout_rule(rig: ApiRig) -> None:
    async with client_for(rig) as client:
        response = await sign_in(client, LEAD, password="wrong-password-1234")
        assert response.status_code == 401
        assert 'id="login-error"' in response.text
        assert "Wrong user name or password" in response.text
        assert "lock" in response.text  # how many failures lock the account, and for how long
        assert f'value="{LEAD}"' in response.text  # the user name is kept, the password is not
        assert "fictra_session" not in client.cookies


async def test_a_locked_account_cannot_sign_in_even_with_the_right_password(rig: ApiRig) -> None:
    async with client_for(rig) as client:
        for _ in range(5):
            assert (await sign_in(client, LEAD, password="wrong-password-1234")).status_code == 401
        response = await sign_in(client, LEAD)
        assert response.status_code == 401
        assert "locked" in response.text


async def test_login_without_the_forms_csrf_token_is_refused(rig: ApiRig) -> None:
    async with client_for(rig) as client:
        await client.get("/login")
        response = await client.post(
            "/login", data={"username": LEAD, "password": "x" * 20, "csrf_token": "forged"}
        )
        assert response.status_code == 403
        assert "expired" in response.text
        response = await client.post("/login", data={"username": LEAD, "password": "x" * 20})
        assert response.status_code == 403


async def test_empty_fields_are_asked_for(rig: ApiRig) -> None:
    async with client_for(rig) as client:
        form = await client.get("/login")
        response = await client.post(
            "/login", data={"username": "", "password": "", "csrf_token": csrf_of(form.text)}
        )
        assert response.status_code == 422
        assert "Enter your user name and password" in response.text


async def test_logout_ends_the_session_on_the_server(rig: ApiRig) -> None:
    async with client_for(rig) as client:
        await sign_in(client, LEAD)
        session_cookie = client.cookies["fictra_session"]
        page = await client.get("/")
        response = await client.post("/logout", data={"csrf_token": csrf_of(page.text)})
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert (await client.get("/")).status_code == 303
    async with client_for(rig) as replay:  # the old cookie is dead, not merely forgotten by the browser
        replay.cookies.set("fictra_session", session_cookie)
        assert (await replay.get("/")).status_code == 303


async def test_logout_without_csrf_keeps_the_session(rig: ApiRig) -> None:
    async with client_for(rig) as client:
        await sign_in(client, LEAD)
        response = await client.post("/logout", data={"csrf_token": "forged"})
        assert response.status_code == 303
        assert (await client.get("/")).status_code == 200
