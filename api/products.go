package api

import (
	"errors"
	"net/http"
	"regexp"

	"github.com/gofiber/fiber/v2"

	"github.com/payflow/payflow/store"
)

var (
	skuPattern      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// maxPrice bounds a unit price so that price × quantity (≤ 10000 a line, ≤
// 100 lines) cannot overflow.
const maxPrice = 1_000_000_000_000

const (
	maxNameBytes = 200
	maxStock     = 1_000_000_000
)

type productBody struct {
	Name     *string `json:"name"`
	Price    *int64  `json:"price"`
	Currency *string `json:"currency"`
	Stock    *int64  `json:"stock"`
	Active   *bool   `json:"active"`
}

func (s *server) putProduct(c *fiber.Ctx) error {
	sku := c.Params("sku")
	var b productBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	fields := map[string]string{}
	if !skuPattern.MatchString(sku) {
		fields["sku"] = "1-64 letters, digits, dot, dash or underscore"
	}
	if b.Name == nil || *b.Name == "" || len(*b.Name) > maxNameBytes {
		fields["name"] = "required, at most 200 bytes"
	}
	if b.Price == nil || *b.Price < 0 || *b.Price > maxPrice {
		fields["price"] = "required, integer minor units from 0 to 10^12"
	}
	if b.Currency == nil || !currencyPattern.MatchString(*b.Currency) {
		fields["currency"] = "required, ISO 4217 code such as USD"
	}
	if b.Stock == nil || *b.Stock < 0 || *b.Stock > maxStock {
		fields["stock"] = "required, integer from 0 to 10^9"
	}
	if len(fields) > 0 {
		return invalidFields(fields)
	}
	active := true
	if b.Active != nil {
		active = *b.Active
	}
	p, err := s.Store.PutProduct(c.UserContext(), store.Product{SKU: sku, Name: *b.Name, Price: *b.Price, Currency: *b.Currency, Stock: *b.Stock, Active: active})
	if errors.Is(err, store.ErrConflict) {
		return errorf(http.StatusConflict, "stock_below_reserved", "stock cannot drop below the units reserved by open checkouts")
	}
	if err != nil {
		return s.storeError(err)
	}
	return c.JSON(p)
}

func (s *server) getProduct(c *fiber.Ctx) error {
	sku := c.Params("sku")
	if !skuPattern.MatchString(sku) {
		return errorf(http.StatusNotFound, "product_not_found", "no product with this sku")
	}
	p, err := s.Store.GetProduct(c.UserContext(), sku)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "product_not_found", "no product with this sku")
	}
	if err != nil {
		return s.storeError(err)
	}
	return c.JSON(p)
}
