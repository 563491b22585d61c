package api

import "github.com/gofiber/fiber/v2"

// routes mounts the /v1 REST API (already behind auth).
func (s *server) routes(v1 fiber.Router) {
	v1.Put("/products/:sku", s.putProduct)
	v1.Get("/products/:sku", s.getProduct)
}

// webhookRoutes mounts the provider webhook endpoints (each provider's own auth).
func (s *server) webhookRoutes(r fiber.Router) {}
