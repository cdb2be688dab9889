"""SPA-VirtualHome-v0: VirtualHome's evolving-graph household as an offline text env (being built)."""
