"""Who may see and do what: principals, task authorization, instance visibility, sealing, tokens, passwords."""
