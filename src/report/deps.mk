# virtlab report draws its plots with gnuplot (SVG terminal; no X needed).
# Chromium, for the headless-browser test of the page (tests/test_report.c):
# a test dependency only (~24 packages), so `make test` installs it and a
# plain `make` does not.
TEST_DEB_DEPS += chromium
DEB_DEPS += gnuplot-nox
