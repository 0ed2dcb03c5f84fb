"""Credit indicators (信用评价指标) and the four-step declaration flow."""
