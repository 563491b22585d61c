package store

import (
	"context"
	"fmt"
	"sort"

	"github.com/jmoiron/sqlx"
)

// Product is a catalog entry. Stock is on hand; Reserved is held by open
// checkouts.
type Product struct {
	SKU      string `db:"sku" json:"sku"`
	Name     string `db:"name" json:"name"`
	Price    int64  `db:"price" json:"price"`
	Currency string `db:"currency" json:"currency"`
	Stock    int64  `db:"stock" json:"stock"`
	Reserved int64  `db:"reserved" json:"reserved"`
	Active   bool   `db:"active" json:"active"`
}

// Line is a quantity of one SKU.
type Line struct {
	SKU      string `db:"sku" json:"sku"`
	Quantity int64  `db:"quantity" json:"quantity"`
}

// PutProduct creates or replaces a product. Stock may not drop below what is
// reserved (ErrConflict).
func (s *Store) PutProduct(ctx context.Context, p Product) (Product, error) {
	var out Product
	err := s.db.GetContext(ctx, &out, `
		INSERT INTO products (sku, name, price, currency, stock, active)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, price = EXCLUDED.price,
			currency = EXCLUDED.currency, stock = EXCLUDED.stock, active = EXCLUDED.active, updated_at = now()
		RETURNING sku, name, price, currency, stock, reserved, active`,
		p.SKU, p.Name, p.Price, p.Currency, p.Stock, p.Active)
	if isCheckViolation(err) {
		return Product{}, fmt.Errorf("%w: stock below reserved units", ErrConflict)
	}
	return out, err
}

// GetProduct returns one product.
func (s *Store) GetProduct(ctx context.Context, sku string) (Product, error) {
	return getOne[Product](ctx, s, `SELECT sku, name, price, currency, stock, reserved, active FROM products WHERE sku = $1`, sku)
}

// GetProducts returns the products with the given SKUs, keyed by SKU.
func (s *Store) GetProducts(ctx context.Context, skus []string) (map[string]Product, error) {
	query, args, err := sqlx.In(`SELECT sku, name, price, currency, stock, reserved, active FROM products WHERE sku IN (?)`, skus)
	if err != nil {
		return nil, err
	}
	var ps []Product
	if err := s.db.SelectContext(ctx, &ps, s.db.Rebind(query), args...); err != nil {
		return nil, err
	}
	out := make(map[string]Product, len(ps))
	for _, p := range ps {
		out[p.SKU] = p
	}
	return out, nil
}

// Reserve holds stock for every line of an order, all or nothing. It is
// idempotent: reserving an order that already holds its lines succeeds without
// holding more. ErrOutOfStock when any line cannot be held.
func (s *Store) Reserve(ctx context.Context, orderID string, lines []Line) error {
	sorted := append([]Line(nil), lines...)
	// A fixed lock order keeps concurrent multi-line reservations deadlock-free.
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].SKU < sorted[j].SKU })
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, l := range sorted {
			res, err := tx.ExecContext(ctx, `
				INSERT INTO reservations (order_id, sku, quantity) VALUES ($1, $2, $3)
				ON CONFLICT (order_id, sku) DO NOTHING`, orderID, l.SKU, l.Quantity)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // held by an earlier attempt of the same reservation
			}
			res, err = tx.ExecContext(ctx, `
				UPDATE products SET reserved = reserved + $2, updated_at = now()
				WHERE sku = $1 AND active AND stock - reserved >= $2`, l.SKU, l.Quantity)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("%w: %s", ErrOutOfStock, l.SKU)
			}
		}
		return nil
	})
}

// Commit turns an order's held stock into a sale. Idempotent.
func (s *Store) Commit(ctx context.Context, orderID string) error {
	return s.settle(ctx, orderID, "held", "committed", `UPDATE products SET stock = stock - $2, reserved = reserved - $2, updated_at = now() WHERE sku = $1`)
}

// Release returns an order's held stock. Idempotent, and a no-op for an order
// that holds nothing.
func (s *Store) Release(ctx context.Context, orderID string) error {
	return s.settle(ctx, orderID, "held", "released", `UPDATE products SET reserved = reserved - $2, updated_at = now() WHERE sku = $1`)
}

// settle moves an order's reservations from one status to another once, and
// applies update (sku, quantity) to the stock of each line it moved; the
// quantity leaves out units refunds restocked already (RestockLines).
func (s *Store) settle(ctx context.Context, orderID, from, to, update string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var moved []Line
		if err := tx.SelectContext(ctx, &moved, `
			UPDATE reservations SET status = $3, updated_at = now()
			WHERE order_id = $1 AND status = $2
			RETURNING sku, quantity - restocked AS quantity`, orderID, from, to); err != nil {
			return err
		}
		sort.Slice(moved, func(i, j int) bool { return moved[i].SKU < moved[j].SKU })
		for _, l := range moved {
			if _, err := tx.ExecContext(ctx, update, l.SKU, l.Quantity); err != nil {
				return err
			}
		}
		return nil
	})
}

// HeldReservations counts the reservations an order still holds (the soak
// checks that none outlives its order).
func (s *Store) HeldReservations(ctx context.Context, orderID string) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM reservations WHERE order_id = $1 AND status = 'held'`, orderID)
	return n, err
}

// Restock returns the committed units of a refunded order to stock.
// Idempotent: each committed line is restocked once.
func (s *Store) Restock(ctx context.Context, orderID string) error {
	return s.settle(ctx, orderID, "committed", "released", `UPDATE products SET stock = stock + $2, updated_at = now() WHERE sku = $1`)
}
