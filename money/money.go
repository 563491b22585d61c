// Package money converts amounts between ISO 4217 minor units (what the
// catalog and Checkout.com use) and Rehive's per-currency divisibility.
package money

import "math"

// Exponent is the number of minor-unit digits of a currency (ISO 4217); most
// have two.
func Exponent(code string) int {
	switch code {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// ToDivisibility converts an amount in ISO minor units of code to minor units
// with divisibility digits, and reports whether the conversion is exact and
// fits in an int64 (a crypto currency's divisibility of 18 overflows for
// all but tiny amounts).
func ToDivisibility(amount int64, code string, divisibility int) (int64, bool) {
	if divisibility < 0 || divisibility > 30 {
		return 0, false
	}
	e := Exponent(code)
	for ; e < divisibility; e++ {
		if amount > math.MaxInt64/10 || amount < math.MinInt64/10 {
			return 0, false
		}
		amount *= 10
	}
	for ; e > divisibility; e-- {
		if amount%10 != 0 {
			return 0, false
		}
		amount /= 10
	}
	return amount, true
}

// Mul is a × b, and whether it fits in an int64.
func Mul(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return p, true
}

// Add is a + b, and whether it fits in an int64.
func Add(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}
