package transport

import (
	"bytes"
	"fmt"
	"math"
)

// The decoding bound. A JSON body can make a decoder allocate far more
// than its size: "[{},{},…]" is 3 bytes an element, a decoded struct a
// hundred or more. So before any 2xx body is decoded, whatever the
// decoder, do estimates what its values can take from a count of its
// objects, arrays and scalars, each priced (Costs) above what any of the
// client's models (and a generic map[string]any) makes of it, and refuses
// the body with ErrResponseTooLarge when the estimate passes DecodeFactor
// × MaxResponseBytes. The estimate is never below the real cost, so
// decoded values never take more than that; bodies that come near it are
// hostile (a real session takes about 6 bytes of estimate per byte of
// JSON).

// DecodeFactor bounds decoding: the decoded values of a body may take
// DecodeFactor × MaxResponseBytes.
const DecodeFactor = 8

// Costs price the decoded values of a JSON text, in bytes.
type Costs struct {
	Object, Array, Scalar int64
}

// orDefault gives the zero Costs nbserv's prices: a struct in a slice
// with growth slack or a small map, a slice header with growth slack, a
// boxed value or half a map entry with growth slack.
func (p Costs) orDefault() Costs {
	if p == (Costs{}) {
		return Costs{Object: 256, Array: 64, Scalar: 40}
	}
	return p
}

// DecodeBudget is the memory the decoded values of one body may take.
func (c *Client) DecodeBudget() int64 { return budgetFor(c.settings.maxBody) }

func budgetFor(limit int64) int64 {
	if limit > math.MaxInt64/DecodeFactor {
		return math.MaxInt64
	}
	return limit * DecodeFactor
}

// OverBudget reports whether the decoded values of body could take more
// than DecodeFactor × limit bytes (the budget), with the estimate and
// the budget for the caller's error.
func (c *Client) OverBudget(body []byte, limit int64) (over bool, cost, budget int64) {
	return c.costs.over(body, limit)
}

// OverBudget is Client.OverBudget at the default prices, for what bounds
// its decoding without a Client: a kernel connection's messages.
func OverBudget(body []byte, limit int64) (over bool, cost, budget int64) {
	return Costs{}.orDefault().over(body, limit)
}

func (p Costs) over(body []byte, limit int64) (over bool, cost, budget int64) {
	budget = budgetFor(limit)
	// The most any byte can cost is half an object ("{}" is 2 bytes): a
	// body under budget/perByte needs no count.
	if perByte := p.Object / 2; perByte > 0 && int64(len(body)) <= budget/perByte {
		return false, 0, budget
	}
	cost = p.of(body)
	return cost > budget, cost, budget
}

// checkDecodeCost refuses a body whose decoded values could take more
// than the budget.
func (c *Client) checkDecodeCost(body []byte) error {
	if over, cost, budget := c.OverBudget(body, c.settings.maxBody); over {
		return fmt.Errorf("%w: %d bytes of JSON whose values could take %d bytes decoded, over %d (%d × MaxResponseBytes)",
			ErrResponseTooLarge, len(body), cost, budget, DecodeFactor)
	}
	return nil
}

// JSONCost estimates the memory the values of a JSON text take decoded,
// at the client's prices. It only counts: a malformed text is estimated as
// if it were valid and left to the decoder to refuse. It does not
// allocate.
func (c *Client) JSONCost(b []byte) int64 { return c.costs.of(b) }

func (p Costs) of(b []byte) int64 {
	var cost int64
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{':
			cost += p.Object
		case '[':
			cost += p.Array
		case '"':
			cost += p.Scalar
			for { // to the closing quote, past escaped ones
				j := bytes.IndexByte(b[i+1:], '"')
				if j < 0 {
					return cost
				}
				i += j + 1
				k := i - 1
				for k >= 0 && b[k] == '\\' {
					k--
				}
				if (i-1-k)%2 == 0 {
					break
				}
			}
		case 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			cost += p.Scalar
			for i+1 < len(b) && scalarByte(b[i+1]) {
				i++
			}
		}
	}
	return cost
}

func scalarByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'E'
}
