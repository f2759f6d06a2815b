"""The conflict register (回避登记): declarations, leaders' decisions, the use cases on them."""
