"""The shared pieces of httpkit's benchmarks.

The scripts in ``bench/`` import this package as ``harness`` (a script's own directory is
first on ``sys.path``), so each of them still runs standalone: ``python bench/parse.py``.

- :mod:`harness.wrk` runs wrk and reads its report;
- :mod:`harness.h2load` runs h2load (HTTP/1.1 pipelining) and reads its report;
- :mod:`harness.processes` starts a server as a real process on a free loopback port and
  makes sure it is gone afterwards; it also reads a process tree's resident memory;
- :mod:`harness.servers` knows how to start each server under test;
- :mod:`harness.machine` describes the machine and the package versions;
- :mod:`harness.report` turns a results dict into ratios, JSON and the documentation page;
- :mod:`harness.charts` draws the page's PNG charts.
"""
