"""What leaves the dealership: messages to customers and webhooks to the dealer management system,
through an outbox."""
