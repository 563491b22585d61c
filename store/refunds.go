package store

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/jmoiron/sqlx"
)

// ErrRestockExceeds is RestockLines' answer for a line with more units than
// the order has sold and not restocked yet.
var ErrRestockExceeds = errors.New("more units than sold and not yet restocked")

// RestockLines puts the units a refund names back on the shelf, all lines or
// none. Each (order, refund, sku) is applied once, so a retried activity
// restocks nothing twice; the units count on the order's committed
// reservation, so Restock (a cancel's) later returns only the rest.
func (s *Store) RestockLines(ctx context.Context, orderID, refundID string, lines []Line) error {
	sorted := append([]Line(nil), lines...)
	// The lock order of Reserve, so concurrent stock changes cannot deadlock.
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].SKU < sorted[j].SKU })
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, l := range sorted {
			res, err := tx.ExecContext(ctx, `
				INSERT INTO refund_restocks (order_id, refund_id, sku, quantity) VALUES ($1, $2, $3, $4)
				ON CONFLICT (order_id, refund_id, sku) DO NOTHING`, orderID, refundID, l.SKU, l.Quantity)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // restocked by an earlier attempt
			}
			res, err = tx.ExecContext(ctx, `
				UPDATE reservations SET restocked = restocked + $3, updated_at = now()
				WHERE order_id = $1 AND sku = $2 AND status = 'committed' AND quantity - restocked >= $3`, orderID, l.SKU, l.Quantity)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("%w: order %s, sku %s, %d units", ErrRestockExceeds, orderID, l.SKU, l.Quantity)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE products SET stock = stock + $2, updated_at = now() WHERE sku = $1`, l.SKU, l.Quantity); err != nil {
				return err
			}
		}
		return nil
	})
}
