"""Browser tests (Playwright on Debian's chromium); a package so its conftest does not shadow tests/conftest.py."""
