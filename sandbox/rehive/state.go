package rehive

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// state is the whole company; every field is guarded by Sandbox.mu.
type state struct {
	company     string
	currencies  map[string]currency
	managed     map[string]bool
	users       map[string]*user // by id
	byEmail     map[string]*user // lower-cased email
	byToken     map[string]*user
	accounts    map[string]*account // by reference
	txs         map[string]*transaction
	txOrder     []*transaction // in creation order, for the lists
	collections map[string]*collection
	transitions map[string]*transition
	merchant    *user
	// lastEvent is the last webhook event id. Ids are numbers, as on Rehive,
	// and unique across restarts as Rehive's are: they start at the start
	// time in microseconds, and a process issues far fewer than one event per
	// microsecond, so a later process never reuses an earlier one's id (a
	// receiver that keeps the ids it saw would take a reused one for a
	// duplicate). They stay below 2^53, safe for JSON numbers.
	lastEvent   int64
	lastMessage int64
	lastPrune   time.Time
}

type currency struct {
	Code         string `json:"code"`
	Description  string `json:"description"`
	Symbol       string `json:"symbol"`
	Unit         string `json:"unit"`
	Divisibility int    `json:"divisibility"`
}

var builtinCurrencies = []currency{
	{Code: "USD", Description: "US Dollar", Symbol: "$", Unit: "dollar", Divisibility: 2},
	{Code: "EUR", Description: "Euro", Symbol: "€", Unit: "euro", Divisibility: 2},
	{Code: "XLM", Description: "Stellar Lumen", Symbol: "XLM", Unit: "lumen", Divisibility: 7},
}

func newState(cfg Config) state {
	st := state{
		company:     cfg.Company,
		currencies:  map[string]currency{},
		managed:     map[string]bool{},
		users:       map[string]*user{},
		byEmail:     map[string]*user{},
		byToken:     map[string]*user{},
		accounts:    map[string]*account{},
		txs:         map[string]*transaction{},
		collections: map[string]*collection{},
		transitions: map[string]*transition{},
		lastEvent:   time.Now().UnixMicro(),
	}
	for _, c := range builtinCurrencies {
		st.currencies[c.Code] = c
	}
	for code, div := range cfg.Currencies {
		st.currencies[code] = currency{Code: code, Description: code, Symbol: code, Unit: code, Divisibility: div}
	}
	for _, code := range cfg.ManagedCurrencies {
		st.managed[strings.ToUpper(code)] = true
	}
	zero := map[string]int64{}
	for code := range st.currencies {
		zero[code] = 0
	}
	st.merchant = st.addUser(cfg.MerchantEmail, rand.Text(), zero)
	return st
}

// newUUID returns a random version 4 uuid.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// isUUID checks the 8-4-4-4-12 hex form Rehive requires for client-chosen ids.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
