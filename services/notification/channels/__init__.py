"""Outbound channels behind one interface (`base.Channel`): e-mail over SMTP, SMS through an HTTP
gateway, HMAC-signed webhooks and Kafka topics for agencies. The inbox needs none: recording
it is delivering it."""
