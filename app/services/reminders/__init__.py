"""Service reminders (客户关怀): who is due for service, annual inspection or insurance,
the contacts made from the list (SMS or e-mail, a booking, the customer's answer), and
how many reminded cars came in."""
