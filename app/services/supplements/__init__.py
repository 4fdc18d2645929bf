"""Added work (增加项目): findings from the car and the customer's signed approval or decline."""
