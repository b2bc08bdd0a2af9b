"""Reading QR codes back from their pixels, with an independent decoder (zxing-cpp)."""

from __future__ import annotations

import io
from typing import Any

import zxingcpp
from PIL import Image


def qr_codes_in(image: bytes | Image.Image) -> list[Any]:
    """The QR codes (model 2, the kind a phone camera reads) zxing-cpp finds in `image`.

    Only QR codes are asked for: with every format enabled, zxing-cpp now and then also
    "finds" a Micro QR or rMQR code inside the modules of a large QR code."""
    if isinstance(image, bytes):
        image = Image.open(io.BytesIO(image))
    return list(zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode))


def qr_codes_on(page: Any, selector: str = "img.qr", attempts: int = 20) -> list[Any]:
    """The QR codes in the image `selector` of a Playwright page, read from its pixels. A
    busy machine may paint the image a little after the page has loaded: it is read again
    every 250 ms, `attempts` times, until a code is found."""
    page.wait_for_load_state("load")  # images included
    found: list[Any] = []
    for _ in range(attempts):
        found = qr_codes_in(page.locator(selector).screenshot())
        if found:
            break
        page.wait_for_timeout(250)
    return found
