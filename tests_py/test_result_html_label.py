"""TransmissionResult's HTML names per-row errors "row error": for a partial failure ``.error`` is None (the
batch did not fail as a whole), and a row labelled "error" read as if it were set (s14 review-docs L11). A
batch-level error keeps the label "error", also when no row is listed."""

from __future__ import annotations

from zerobus_py import TransmissionResult

_TH = "<th style='text-align:left'>{}</th>"


def test_partial_failure_labels_row_errors() -> None:
    res = TransmissionResult(True, failed_rows=[(1, "ConversionError: bad value")], successful_rows=[0], total_rows=2)
    assert res.error is None
    h = res._repr_html_()
    assert _TH.format("row error") + "<td>Conversion error: bad value</td>" in h, h
    assert _TH.format("error") not in h, h


def test_batch_error_keeps_the_error_label() -> None:
    res = TransmissionResult(False, error="TransmissionError: schema refused", total_rows=2)
    h = res._repr_html_()
    assert _TH.format("error") + "<td>Transmission error: schema refused</td>" in h, h
    assert _TH.format("row error") not in h, h
