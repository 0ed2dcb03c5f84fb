"""The points-exchange supermarket: catalogue, stock, vouchers and the desk."""
