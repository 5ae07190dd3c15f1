"""Summary templates: dotted fields, unknown paths, and the readability filters."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fictra.rules.cel import render_template
from fictra.rules.config import EventRuleConfig

CONTEXT = {
    "args": {
        "value": 20_437_339_435_359_275_057_152,
        "to": "0xcd3b766ccdd6ae721141f452c550ca635964ce71",
        "small": 5 * 10**14,
    }
}


def test_units_and_short_filters() -> None:
    text = render_template("{args.value|units:18} PT to {args.to|short}", CONTEXT)
    assert text == "20,437.34 PT to 0xcd3b…ce71"
    assert render_template("{args.small|units:18}", CONTEXT) == "0.0005"
    assert render_template("{args.value|units:6}", CONTEXT) == "20,437,339,435,359,275.06"
    assert render_template("{args.value}", CONTEXT) == str(CONTEXT["args"]["value"])  # type: ignore[index]
    assert render_template("{args.missing|units}", CONTEXT) == "<args.missing?>"


def test_unknown_filter_is_a_config_error() -> None:
    with pytest.raises(
        ValidationError, match=r"template filter '\|upper' is unknown; use one of: units, short"
    ):
        EventRuleConfig(
            name="r", contract="PaymentToken", event="Transfer", severity="P2", summary="{args.value|upper}"
        )
