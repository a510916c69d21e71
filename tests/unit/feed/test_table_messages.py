"""A broken value is quoted as the user wrote it, not as numpy's repr (``np.float64(-1.5)``)."""

from __future__ import annotations

import pytest

from trimtab.errors import BadInputError
from trimtab.feed.csvio import read_table

from .conftest import CANDLE_HEADER, DataFolder


@pytest.mark.parametrize(("close", "shown"), [("-1.5", "not -1.5"), ("0", "not 0.0"), ("nan", "not nan")])
def test_the_broken_value_is_shown_as_a_plain_number(data_folder: DataFolder, close: str, shown: str) -> None:
    path = data_folder.raw("spot_BTC-USDT_1d.csv", f"{CANDLE_HEADER}\n2024-01-01T00:00:00Z,1,2,0.5,{close},10\n")
    with pytest.raises(BadInputError) as caught:
        read_table(path, "spot")
    message = str(caught.value)
    assert message.endswith(f"line 2: close must be a positive number, {shown}")
    assert "np." not in message
