from __future__ import annotations

from fictra.errors import StorageError
from fictra.jobs.redact import LIMIT, describe_error


def test_product_errors_give_their_user_message() -> None:
    assert describe_error(StorageError("Cannot reach the database.")) == "Cannot reach the database."


def test_urls_and_secret_values_are_hidden() -> None:
    exc = ConnectionError(
        "POST https://hooks.example/x?token=abc failed; api_key: 's3 cr3t' Authorization: Bearer abc.def"
    )
    text = describe_error(exc)
    assert text == "ConnectionError: POST https://hooks.example/x?*** failed; api_key: *** Authorization: ***"


def test_long_messages_are_cut_and_flattened() -> None:
    text = describe_error(ValueError("line\n" * 2000))
    assert len(text) == LIMIT and "\n" not in text and text.endswith("…")
    assert describe_error(KeyError()) == "KeyError"
