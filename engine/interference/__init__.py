"""The interference register (干预登记, the "三个规定"): who enquired about a case, asked after it or
pleaded on someone's behalf, recorded by the officer who received it and followed up by the
commission's 案件监督管理室 and 干部监督室. ``register`` holds the rules, ``operations`` the use cases."""
