"""sockserv's benchmarks: bench/lib (what every experiment shares) and
bench/experiments (one module per experiment). The scripts beside this file
(run.py, memory_scale.py, chat_fanout.py, balance.py, rivals.py) are the
entry points `make bench` calls."""
