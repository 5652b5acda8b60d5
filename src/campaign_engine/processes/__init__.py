"""Child processes of the dev stack: started so that they die with it, stopped in order with
bounded waits."""
