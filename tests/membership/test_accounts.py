"""Accounts through the real allauth views: sign-in, failures and their rate limit, password
reset, sign-up, sign-out and the e-mail verification policy of each environment."""

from __future__ import annotations

import io
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import Client

from asi_wg.demo import DEMO_PASSWORD
from asi_wg.models import User
from tests.factories import PASSWORD, UserFactory

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
WRONG_CREDENTIALS = "The email address and/or password you specified are not correct."
TOO_MANY_ATTEMPTS = "Too many failed login attempts. Try again later."
DEMO_ACCOUNTS = [
    "secretariat@asi.example",
    "committee@asi.example",
    "participant@asi.example",
    "applicant@asi.example",
    "secretariat@demo.example",
]


def sign_in(client: Client, email: str, password: str, *, ip: str = "127.0.0.1") -> TestResponse:
    return client.post(LOGIN_URL, {"login": email, "password": password}, REMOTE_ADDR=ip)


def account(email: str) -> str:
    """Creates an account with a verified address and the factories' PASSWORD."""
    UserFactory.create(email=email)
    return email


def signed_in_email(client: Client) -> str | None:
    """The e-mail address the page header shows as signed in, or None."""
    match = re.search(r'<span class="who">([^<]+)</span>', client.get("/").content.decode())
    return match.group(1) if match else None


def test_login_form_has_the_field_names_the_tests_post() -> None:
    body = Client().get(LOGIN_URL).content.decode()
    assert 'name="login"' in body
    assert 'type="email"' in body
    assert 'name="password"' in body


@pytest.mark.parametrize("email", DEMO_ACCOUNTS)
def test_demo_account_signs_in_with_the_published_password(email: str) -> None:
    call_command("load_demo", stdout=io.StringIO())
    client = Client()

    response = sign_in(client, email, DEMO_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == settings.LOGIN_REDIRECT_URL
    assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk)
    assert signed_in_email(client) == email


def test_wrong_password_shows_the_form_again_with_a_clear_error() -> None:
    email = account("someone@example.org")
    client = Client()

    response = sign_in(client, email, "not-the-password")

    assert response.status_code == 200
    body = response.content.decode()
    assert WRONG_CREDENTIALS in body
    assert 'name="password"' in body
    # The address is kept so that only the password needs typing again.
    assert 'value="someone@example.org"' in body
    assert "_auth_user_id" not in client.session
    assert signed_in_email(client) is None


def test_unknown_address_gets_the_same_error_as_a_wrong_password() -> None:
    response = sign_in(Client(), "nobody@example.org", "whatever-password")

    assert response.status_code == 200
    assert WRONG_CREDENTIALS in response.content.decode()


def test_sixth_attempt_after_five_failures_is_refused_even_with_the_right_password() -> None:
    email = account("target@example.org")
    client = Client()
    for _attempt in range(5):
        response = sign_in(client, email, "guess-again", ip="10.0.0.1")
        assert WRONG_CREDENTIALS in response.content.decode()

    response = sign_in(client, email, PASSWORD, ip="10.0.0.1")

    assert response.status_code == 200
    assert TOO_MANY_ATTEMPTS in response.content.decode()
    assert signed_in_email(client) is None


def test_failed_attempts_limit_both_the_account_and_the_address_they_came_from() -> None:
    """Both limits are configured ("20/5m/ip,5/5m/key"): allauth counts failures per client IP
    and per e-mail address (case-insensitively), and refuses when either is used up."""
    target = account("target@example.org")
    bystander = account("bystander@example.org")
    for _attempt in range(5):
        sign_in(Client(), target, "guess-again", ip="10.0.0.1")

    # The same account from another address, in another case: the per-account limit holds.
    elsewhere = sign_in(Client(), "TARGET@Example.org", PASSWORD, ip="10.0.0.2")
    assert TOO_MANY_ATTEMPTS in elsewhere.content.decode()

    # A colleague behind the same office address still signs in after five failures...
    colleague = Client()
    assert sign_in(colleague, bystander, PASSWORD, ip="10.0.0.1").status_code == 302
    # ...but a password spray across accounts from one address is stopped at twenty.
    for n in range(15):
        sign_in(Client(), account(f"sprayed{n}@example.org"), "guess-again", ip="10.0.0.1")
    same_ip = sign_in(Client(), bystander, PASSWORD, ip="10.0.0.1")
    assert TOO_MANY_ATTEMPTS in same_ip.content.decode()

    # Another account from another address is unaffected.
    client = Client()
    response = sign_in(client, bystander, PASSWORD, ip="10.0.0.3")
    assert response.status_code == 302
    assert signed_in_email(client) == "bystander@example.org"


def test_successful_sign_ins_do_not_use_up_the_failure_allowance() -> None:
    email = account("regular@example.org")
    for _attempt in range(6):
        client = Client()
        assert sign_in(client, email, PASSWORD).status_code == 302
    client = Client()
    sign_in(client, email, "typo")

    assert sign_in(client, email, PASSWORD).status_code == 302
    assert signed_in_email(client) == "regular@example.org"


def test_password_reset_mails_one_link_that_sets_a_new_password() -> None:
    email = account("forgetful@example.org")
    client = Client()

    response = client.post("/accounts/password/reset/", {"email": "Forgetful@Example.org"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["forgetful@example.org"]
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", str(message.body))
    assert match, message.body

    # The link leads to a form for the new password (allauth moves the key into the session).
    page = client.get(match.group(1), follow=True)
    assert page.status_code == 200
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else match.group(1)
    done = client.post(
        form_url,
        {"password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"},
        follow=True,
    )
    assert done.status_code == 200
    assert "Your password is now changed." in done.content.decode()

    assert sign_in(Client(), email, PASSWORD).status_code == 200
    new_client = Client()
    assert sign_in(new_client, email, "a-brand-new-passphrase").status_code == 302
    assert signed_in_email(new_client) == "forgetful@example.org"


def test_password_reset_does_not_reveal_whether_an_account_exists() -> None:
    account("known@example.org")

    known = Client().post("/accounts/password/reset/", {"email": "known@example.org"}, follow=True)
    unknown = Client().post(
        "/accounts/password/reset/", {"email": "unknown@example.org"}, follow=True
    )

    assert known.redirect_chain == unknown.redirect_chain
    assert known.status_code == unknown.status_code == 200
    assert "We have sent you an email." in unknown.content.decode()
    assert known.content.decode() == unknown.content.decode().replace(
        "unknown@example.org", "known@example.org"
    )
    # Only the real account's owner gets a reset link; the unknown address gets no key.
    links = {m.to[0]: "/accounts/password/reset/key/" in m.body for m in mail.outbox}
    assert links.get("known@example.org") is True
    assert links.get("unknown@example.org", False) is False


def test_sign_up_stores_the_address_lower_cased_and_signs_the_person_in() -> None:
    client = Client()

    response = client.post(
        "/accounts/signup/",
        {
            "email": "New.Person@Example.ORG",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )

    assert response.status_code == 302
    assert list(User.objects.values_list("email", flat=True)) == ["new.person@example.org"]
    assert signed_in_email(client) == "new.person@example.org"


def test_the_same_address_in_another_case_cannot_sign_up_twice() -> None:
    account("taken@example.org")
    client = Client()

    response = client.post(
        "/accounts/signup/",
        {
            "email": "TAKEN@example.org",
            "password1": "another-long-passphrase",
            "password2": "another-long-passphrase",
        },
    )

    assert response.status_code == 200
    # With optional verification allauth says so on the form (with mandatory verification it
    # would instead show the "confirm your e-mail" page and tell the owner by e-mail).
    assert "A user is already registered with this email address." in response.content.decode()
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1
    assert signed_in_email(client) is None


def test_sign_out_needs_a_post_and_then_ends_the_session() -> None:
    email = account("leaving@example.org")
    client = Client()
    sign_in(client, email, PASSWORD)

    # A link or an image cannot sign anybody out: GET only asks for confirmation.
    confirm = client.get("/accounts/logout/")
    assert confirm.status_code == 200
    assert signed_in_email(client) == "leaving@example.org"

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == settings.ACCOUNT_LOGOUT_REDIRECT_URL
    assert "_auth_user_id" not in client.session
    home = client.get("/").content.decode()
    assert signed_in_email(client) is None
    assert "Sign in" in home


def test_production_settings_make_email_verification_mandatory() -> None:
    base_dir = Path(settings.BASE_DIR)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "ACCOUNT_", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"))
    }
    env.update(
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(45)[:60],
        DJANGO_ALLOWED_HOSTS="wg.example.org",
        EMAIL_URL="smtp://localhost:25",
        DJANGO_SETTINGS_MODULE="asi_wg.settings",
    )
    assert len(env["DJANGO_SECRET_KEY"]) == 60

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.ACCOUNT_EMAIL_VERIFICATION)",
        ],
        cwd=base_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "mandatory"


def test_test_settings_let_an_unverified_new_user_sign_in() -> None:
    assert settings.ACCOUNT_EMAIL_VERIFICATION == "optional"
    signup = Client()
    signup.post(
        "/accounts/signup/",
        {
            "email": "fresh@example.org",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    address = EmailAddress.objects.get(user__email="fresh@example.org")
    assert address.email == "fresh@example.org"
    assert not address.verified
    # A confirmation mail went out all the same.
    assert any("/accounts/confirm-email/" in m.body for m in mail.outbox)

    client = Client()
    response = sign_in(client, "fresh@example.org", "a-long-enough-passphrase")

    assert response.status_code == 302
    assert signed_in_email(client) == "fresh@example.org"


def test_a_session_reads_its_account_afresh_on_every_request() -> None:
    """The backends read a session's account with a compiled query (asi_wg.auth_backends): the
    account as it is now, and no one for an account deactivated, deleted or never there."""
    from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY

    email = account("afresh@example.org")
    client = Client()
    assert sign_in(client, email, PASSWORD).status_code == 302
    assert client.session[BACKEND_SESSION_KEY].startswith("asi_wg.auth_backends.")
    assert signed_in_email(client) == email
    User.objects.filter(email=email).update(is_active=False)
    assert signed_in_email(client) is None

    for stored in ("999999999", "99999999999999999999999"):  # none, and none can be
        other = Client()
        other.force_login(UserFactory.create())
        session = other.session
        session[SESSION_KEY] = stored
        session.save()
        assert signed_in_email(other) is None, stored
