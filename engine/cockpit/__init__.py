"""The managers' cockpit (驾驶舱): who may open it, the figures it shows and the notifications bell.

``access`` holds the rule, ``scope`` the commissions a manager oversees, ``figures`` and
``notifications`` answer the questions in SQL over column rows (never an instance's workflow state),
``operations`` is one use case per page for the web pages and the API alike.
"""
