"""The health check (健康车检): the manager's checklist, each car's check item by item,
the recommendations it prices and the customer's answer, and the customer's copy."""
