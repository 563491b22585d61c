// Package money converts amounts between ISO 4217 minor units (what the
// catalog and Checkout.com use) and Rehive's per-currency divisibility.
package money

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
// with divisibility digits, and reports whether the conversion is exact.
func ToDivisibility(amount int64, code string, divisibility int) (int64, bool) {
	e := Exponent(code)
	for ; e < divisibility; e++ {
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
