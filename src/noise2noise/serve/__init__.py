"""``n2n serve``: a local web page and HTTP API for denoising (``app``), over the shipped models
and any checkpoint given (``models``). The page is a static file (``page.html``), no build step."""
