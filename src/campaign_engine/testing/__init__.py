"""What the tests and the benchmarks build on alike: values in the SPEC's terms
(``builders``), a local stand-in for Alpaca's trading API (``fake_alpaca``) and the Alpaca
broker pointed at it (``alpaca``), and a book of many campaigns written into the read model
(``seeded_book``). Nothing in the running system imports it."""
