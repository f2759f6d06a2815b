"""Process instances: who may start what, the owning units every instance carries, business-key search."""
