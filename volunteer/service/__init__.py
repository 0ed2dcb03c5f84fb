"""1112 service: lists, activities, orders, service records and the tracker."""
