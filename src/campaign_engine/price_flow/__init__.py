"""The price flow: what happens to a price between its arrival and the campaigns (the
publisher and its helpers move here with the layout work; the bad-print screen of a publisher
fed directly is here already)."""
