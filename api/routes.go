package api

import "github.com/gofiber/fiber/v2"

// routes mounts the /v1 REST API (already behind auth).
func (s *server) routes(v1 fiber.Router) {
	v1.Put("/products/:sku", s.putProduct)
	v1.Get("/products/:sku", s.getProduct)
	v1.Post("/checkouts", s.idempotent, s.createCheckout)
	v1.Get("/checkouts", s.listCheckouts)
	v1.Get("/checkouts/:order_id", s.getCheckout)
	v1.Post("/checkouts/:order_id/cancel", s.cancelCheckout)
	v1.Post("/checkouts/:order_id/rehive/accounts", s.rehiveAccounts)
	v1.Post("/checkouts/:order_id/rehive/pay", s.idempotent, s.rehivePay)
	v1.Get("/webhooks/inbox", s.listInbox)
	v1.Get("/webhooks/inbox/:id", s.getInboxEvent)
	v1.Post("/webhooks/inbox/:id/replay", s.replayInboxEvent)
	v1.Post("/checkouts/:order_id/refunds", s.idempotent, s.createRefund)
	// Currency manager (api/currency_manager.go).
	v1.Get("/rehive/managed-currencies", s.listManagedCurrencies)
	v1.Get("/rehive/transactions/:tx_id", s.getRehiveTransaction)
	v1.Get("/deposits/:ledger_tx_id", s.getDeposit)
	v1.Put("/account-links/:rehive_account", s.putAccountLink)
	v1.Get("/account-links/:rehive_account", s.getAccountLink)
}
