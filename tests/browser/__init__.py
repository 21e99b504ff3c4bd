"""Browser tests: the web UI driven in Debian's Chromium through Playwright."""
