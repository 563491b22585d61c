// Package workflows holds payflow's deterministic workflow code: the checkout,
// the Rehive transaction and the ledger deposit. It imports no I/O package:
// activities are called by name, with the input and output types defined here,
// so the activities package depends on this one and never the other way round.
package workflows
