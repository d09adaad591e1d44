"""One module per experiment of bench/run.py. Each has its settings (FULL,
and SMOKE for the tests), run(testbed, models, cfg) that returns what goes
into results.json under its name, and markdown(exp) that returns its
section of results.md as a list of lines."""
