"""The Data page with many classes with long names (issue 14): 77 banking-style intents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

APP = str(Path(__file__).resolve().parents[2] / "app.py")

# Banking-style intents: long, sharing prefixes (card_payment_*, top_up_*), as in real files.
STEMS = ["activate_my_card", "apple_pay_or_google_pay", "automatic_top_up",
         "balance_not_updated_after_bank_transfer",
         "balance_not_updated_after_cheque_or_cash_deposit", "beneficiary_not_allowed",
         "cancel_transfer", "card_about_to_expire", "card_acceptance", "card_arrival",
         "card_delivery_estimate", "card_linking", "card_not_working",
         "card_payment_fee_charged", "card_payment_not_recognised",
         "card_payment_wrong_exchange_rate", "card_swallowed", "cash_withdrawal_charge",
         "cash_withdrawal_not_recognised", "change_pin", "compromised_card",
         "contactless_not_working", "country_support", "declined_card_payment",
         "declined_cash_withdrawal", "declined_transfer",
         "direct_debit_payment_not_recognised", "disposable_card_limits",
         "edit_personal_details", "exchange_charge", "exchange_rate", "exchange_via_app",
         "extra_charge_on_statement", "failed_transfer", "fiat_currency_support",
         "get_disposable_virtual_card", "get_physical_card", "getting_spare_card",
         "getting_virtual_card", "lost_or_stolen_card", "lost_or_stolen_phone",
         "order_physical_card", "passcode_forgotten", "pending_card_payment",
         "pending_cash_withdrawal", "pending_top_up", "pending_transfer", "pin_blocked",
         "receiving_money", "refund_not_showing_up", "request_refund",
         "reverted_card_payment", "supported_cards_and_currencies", "terminate_account",
         "top_up_by_bank_transfer_charge", "top_up_by_card_charge",
         "top_up_by_cash_or_cheque", "top_up_failed", "top_up_limits", "top_up_reverted",
         "topping_up_by_card", "transaction_charged_twice", "transfer_fee_charged",
         "transfer_into_account", "transfer_not_received_by_recipient", "transfer_timing",
         "unable_to_verify_identity", "verify_my_identity", "verify_source_of_funds",
         "verify_top_up", "virtual_card_not_working", "visa_or_mastercard",
         "why_verify_identity", "wrong_amount_of_cash_received",
         "wrong_exchange_rate_for_cash_withdrawal", "age_limit", "atm_support"]


def intents_file(path: Path, n: int, per_class: int = 6) -> list[str]:
    """A CSV of ``n`` intents (long names) with ``per_class`` to ``per_class + 10`` texts
    each; returns the labels."""
    labels = STEMS[:n]
    rows = ["text,label"]
    for i, name in enumerate(labels):
        words = name.replace("_", " ")
        count = per_class + (i * 5) % 11  # uneven, as real classes are
        rows += [f"question {j} from customer {i}: {words}?,{name}" for j in range(count)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return labels


def _chart(at) -> dict:
    charts = [e for e in at.get("plotly_chart")]
    assert charts, "no chart on the Data page"
    return json.loads(charts[0].proto.spec)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_data_page_draws_77_long_labels(home, lang) -> None:
    from streamlit.testing.v1 import AppTest

    path = home / "uploads" / "0123456789ab" / "banking77.csv"
    labels = intents_file(path, 77)
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["lang"] = lang
    at.query_params["data"] = "upload:0123456789ab/banking77.csv"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.metric[1].value == "77"
    spec = _chart(at)
    yaxis = spec["layout"]["yaxis"]
    assert len(yaxis["ticktext"]) == 77 and len(set(yaxis["ticktext"])) == 77
    assert max(len(x) for x in yaxis["ticktext"]) <= 30
    # the bars hold the full names (the hover shows them), one row each, every one visible
    assert set(spec["data"][0]["y"]) == set(labels)
    assert spec["layout"]["height"] >= 19 * 77
