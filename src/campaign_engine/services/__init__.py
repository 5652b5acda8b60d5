"""The loops that run beside a worker, not inside a workflow: the outbox relay (every recorded
event to the notification channels), the holdings reconciler (the broker's positions against
the campaigns'), and the channels themselves. Side effects, each retried with backoff and
none able to hold up trading."""
