"""SPA-WebShop-v0: WebShop's shopping website as an offline text env (being built)."""
