"""The backtest (SPEC section 10): signals and bars played through the domain's commands in
process, bar by bar in market time, with the portfolio limits across campaigns as live and the
paper broker's fill model; then a report of what came of it.

``timeline`` is what is played, ``sources`` reads it (a scenario folder, or signal and bar
files), ``engine`` plays it; ``metrics`` holds the statistics, ``report_json`` and
``report_html`` (with ``charts``) the outputs.
"""
