"""Second person's approval (三员分立): changes that take effect only when someone else approves them."""
