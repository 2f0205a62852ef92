"""repr / str / _repr_html_ of a TransmissionResult whose constructor failed (or has not run) never raise: on
Python < 3.12, ``traceback``'s ``capture_locals`` prints a failing constructor's ``self`` with plain ``repr``, and an
error there replaced the user's."""

from __future__ import annotations

import traceback

import pytest

from zerobus_py import TransmissionResult


def test_new_result_shows_without_raising() -> None:
    res = TransmissionResult.__new__(TransmissionResult)
    assert repr(res) == str(res) == "<TransmissionResult incomplete>"
    assert "&lt;TransmissionResult incomplete&gt;" in res._repr_html_()


def test_failed_constructor_keeps_the_users_error_under_capture_locals() -> None:
    with pytest.raises(ValueError) as ei:
        TransmissionResult(True, total_rows=-1)
    text = "".join(traceback.TracebackException.from_exception(ei.value, capture_locals=True).format())
    assert "self = <TransmissionResult incomplete>" in text
    assert text.rstrip().splitlines()[-1].startswith("ValueError")


def test_control_characters_in_result_html_are_replaced() -> None:
    import xml.etree.ElementTree as ET

    res = TransmissionResult(False, failed_rows=[(0, "ConversionError: bad \x00\x1b[31m")], total_rows=1)
    text = "".join(ET.fromstring(res._repr_html_()).itertext())  # html.escape alone kept NUL and ESC
    assert "bad \ufffd\ufffd[31m" in text
