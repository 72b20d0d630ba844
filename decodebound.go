package nbserv

import (
	"bytes"
	"fmt"
	"math"
)

// The decoding bound. A JSON body can make a decoder allocate far more
// than its size: "[{},{},…]" is 3 bytes an element, a decoded struct a
// hundred or more. So before any 2xx body is decoded, whatever the
// decoder, do estimates what its values can take from a count of its
// objects, arrays and scalars, each priced above what any of the SDK's
// models (and a generic map[string]any) makes of it, and refuses the body
// with ErrResponseTooLarge when the estimate passes decodeFactor ×
// MaxResponseBytes. The estimate is never below the real cost, so decoded
// values never take more than that; bodies that come near it are hostile
// (a real session takes about 6 bytes of estimate per byte of JSON).
const (
	decodeFactor = 8   // decoded values may take 8 × MaxResponseBytes
	costObject   = 256 // a struct in a slice with growth slack, or a small map
	costArray    = 64  // a slice header with growth slack
	costScalar   = 40  // a boxed value or half a map entry, with growth slack
	// costMalformed is what the lenient session decoder charges, as it
	// goes, for each Session.Malformed map it keeps (a small map's table).
	costMalformed = 512
	// costPerByte is the most any byte can cost ("{}" is 2 bytes for
	// costObject): bodies under budget/costPerByte need no count.
	costPerByte = costObject / 2
)

// decodeBudget is the memory the decoded values of one body may take.
func (c *Client) decodeBudget() int64 {
	if c.settings.maxBody > math.MaxInt64/decodeFactor {
		return math.MaxInt64
	}
	return c.settings.maxBody * decodeFactor
}

// checkDecodeCost refuses a body whose decoded values could take more
// than the budget.
func (c *Client) checkDecodeCost(body []byte) error {
	budget := c.decodeBudget()
	if int64(len(body)) <= budget/costPerByte {
		return nil
	}
	if cost := jsonCost(body); cost > budget {
		return fmt.Errorf("%w: %d bytes of JSON whose values could take %d bytes decoded, over %d (%d × MaxResponseBytes)",
			ErrResponseTooLarge, len(body), cost, budget, decodeFactor)
	}
	return nil
}

// jsonCost estimates the memory the values of a JSON text take decoded.
// It only counts: a malformed text is estimated as if it were valid and
// left to the decoder to refuse. It does not allocate.
func jsonCost(b []byte) int64 {
	var cost int64
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{':
			cost += costObject
		case '[':
			cost += costArray
		case '"':
			cost += costScalar
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
			cost += costScalar
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
