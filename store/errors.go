package store

import (
	"errors"

	"github.com/lib/pq"
)

func pqCode(err error) string {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return string(pqErr.Code)
	}
	return ""
}

func isCheckViolation(err error) bool { return pqCode(err) == "23514" }
