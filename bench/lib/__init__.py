"""What every experiment, and the integration tests, share.

  durations  "500ms", "3s", "1m" as seconds, the way `sockserv bench` reads them
  cores      which cores the server and the load run on (taskset)
  servers    a server process in a session of its own, killed with its group
  procfs     readings from /proc: memory, descriptors, CPU time, children,
             and the kernel's own (meminfo, slabinfo, sockstat, ss)
  machine    what a report says about the machine a run had
  loadgen    one `sockserv bench` run, as a record with a status, and Hold:
             a `sockserv bench --hold` process holding many idle connections
  testbed    one sockserv and one core plan: where an experiment's server
             and load run
  cpu_cap    a fixed CPU budget for one process (cgroup CPU controller)
  report     numbers as text, Markdown tables, and writing a results pair

Standard library only. Every wait here is bounded in time.
"""
