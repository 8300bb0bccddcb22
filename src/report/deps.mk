# virtlab report draws its plots with gnuplot (SVG terminal; no X needed).
# Chromium, for the headless-browser test of the page, is installed on demand
# by tests/test_report.c (it is large), not here.
DEB_DEPS += gnuplot-nox
