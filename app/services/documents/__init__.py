"""Documents handed to the customer, such as the work order (维修委托书) as a PDF."""
