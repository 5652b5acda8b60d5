"""Text formats at the edges: events as JSON, validation errors said one way, entry signals
and price updates read from files and rows. Pure functions over models and text: no I/O
beyond the file or stream handed in."""
