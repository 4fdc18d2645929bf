"""The advisor's home: today's appointments and the cars on site."""
