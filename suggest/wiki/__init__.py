"""Wiki access: which wikis the tool may talk to, and how pages are read from them."""
